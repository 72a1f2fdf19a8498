"""Outcome variables: machine names (DESIGN.md, Variables), human labels and units.

A stock ``n_x`` at week t is the value at the start of week t; a flow ``new_x`` at week t is the amount
during week t; with recording every k weeks a flow row sums weeks t..t+k-1.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VARIABLES", "Variable", "is_flow"]


@dataclass(frozen=True)
class Variable:
    """One outcome variable."""

    name: str
    label: str
    unit: str
    levels: tuple[str, ...]
    kind: str  # "stock" (a level at the start of the week), "flow" (an amount during it), "index", "share"


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("n_members", "Cartel members", "members", ("national", "cartel"), "stock"),
        Variable("new_recruits", "Recruits", "members per week", ("national", "cartel"), "flow"),
        Variable(
            "new_incapacitated", "Members incapacitated (arrests)", "members per week", ("national", "cartel"), "flow"
        ),
        Variable(
            "new_conflict_deaths",
            "Members killed in conflict",
            "deaths per week",
            ("national", "cartel", "state", "municipality"),  # state, municipality: geography layer
            "flow",
        ),
        Variable(
            "new_saturation_exits", "Members leaving (saturation)", "members per week", ("national", "cartel"), "flow"
        ),
        Variable(
            "new_victims_est",
            "Estimated homicides plus missing persons",
            "persons per week",
            ("national", "cartel", "state", "municipality"),
            "flow",
        ),
        Variable(
            "n_cartels",
            "Criminal groups with at least one member (factions included; non-cartel groups not counted)",
            "groups",
            ("national",),
            "stock",
        ),
        Variable("new_fissions", "Cartels split into two factions", "fissions per week", ("national",), "flow"),
        # organisation layer (members, cells and assets; the campaign chain; DESIGN.md, Variables)
        Variable("new_strikes", "Strikes", "strikes per week", ("national", "cartel"), "flow"),
        Variable(
            "new_misidentified_strikes",
            "Strikes on misidentified entries (not members)",
            "strikes per week",
            ("national", "cartel"),
            "flow",
        ),
        Variable(
            "new_strike_deaths_members", "Members killed by strikes", "deaths per week", ("national", "cartel"), "flow"
        ),
        Variable(
            "new_civilian_deaths_strikes",
            "Civilians killed by strikes (bystanders and misidentified persons)",
            "deaths per week",
            ("national", "cartel"),
            "flow",
        ),
        Variable(
            "new_leaders_removed", "Leaders removed (any cause)", "leaders per week", ("national", "cartel"), "flow"
        ),
        Variable(
            "new_assets_destroyed", "Assets destroyed by strikes", "assets per week", ("national", "cartel"), "flow"
        ),
        Variable(
            "new_deaths_all_est",
            "Whole estimated toll: victims, members and civilians killed by strikes",
            "persons per week",
            ("national", "cartel"),
            "flow",
        ),
        Variable("n_leaders", "Leaders", "leaders", ("national", "cartel"), "stock"),
        Variable(
            "n_trafficking_capacity",
            "Trafficking capacity (cells with logistics, a warehouse and a vehicle)",
            "cell-equivalents",
            ("national", "cartel"),
            "stock",
        ),
        Variable(
            "trafficking_capacity_index",
            "Trafficking capacity (100 = reference week)",
            "index",
            ("national",),
            "index",
        ),
        # geography layer (routes after Dell 2015; DESIGN.md, Variables)
        Variable(
            "flow_to_border_index",
            "Trafficking flow reaching the border after seizures (100 = reference week)",
            "index",
            ("national",),
            "index",
        ),
        Variable(
            "n_municipalities_on_routes",
            "Municipalities on trafficking routes",
            "municipalities",
            ("national",),
            "stock",
        ),
        Variable(
            "n_routes", "Origin routes through the municipality (Dell's count)", "routes", ("municipality",), "stock"
        ),
        Variable(
            "flow_share", "Share of the flow reaching the border that crosses at the port", "share", ("port",), "share"
        ),
    )
}


def is_flow(name: str) -> bool:
    """True for a flow (its ``kind`` in the registry), which is summed over a recording interval.

    Raises
    ------
    KeyError
        If ``name`` is not a registered variable.

    """
    try:
        return VARIABLES[name].kind == "flow"
    except KeyError:
        raise KeyError(f"no variable {name!r}; registered: {', '.join(VARIABLES)}") from None
