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


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("n_members", "Cartel members", "members", ("national", "cartel")),
        Variable("new_recruits", "Recruits", "members per week", ("national", "cartel")),
        Variable("new_incapacitated", "Members incapacitated (arrests)", "members per week", ("national", "cartel")),
        Variable("new_conflict_deaths", "Members killed in conflict", "deaths per week", ("national", "cartel")),
        Variable("new_saturation_exits", "Members leaving (saturation)", "members per week", ("national", "cartel")),
        Variable(
            "new_victims_est",
            "Estimated homicides plus missing persons",
            "persons per week",
            ("national", "cartel"),
        ),
        Variable("n_cartels", "Active criminal groups", "groups", ("national",)),
    )
}


def is_flow(name: str) -> bool:
    """True for flows (``new_``), which are summed over a recording interval."""
    return name.startswith("new_")
