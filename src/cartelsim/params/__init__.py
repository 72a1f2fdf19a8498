"""The parameter spec: every model parameter declared once, with unit, bounds, source and range.

The spec validates scenario files, feeds the CLI help and gives each parameter its default uncertainty
range (used by ``cartelsim sweep --all-uncertain``). Bounds are physical plausibility, not fit bounds
(DESIGN.md, Parameters).

Examples
--------
>>> from cartelsim.params import PARAMS
>>> PARAMS["recruitment_per_member_per_week"].default
0.002527474
>>> PARAMS["incapacitation_per_week"].check(-1.0)
Traceback (most recent call last):
...
ValueError: must be within [0, 5000] (got -1.0)

"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cartelsim.params.geography import GEOGRAPHY
from cartelsim.params.organisation import ADAPTATION, ORGANISATION
from cartelsim.params.spec import ParamSpec, short
from cartelsim.params.violence import VIOLENCE

__all__ = ["ECOSYSTEM", "PARAMS", "ParamSpec", "defaults", "register", "short"]

PC2023 = "Prieto-Curiel, Campedelli & Hope, Science 381:1312 (2023), code ReclutamientoC.R"


ECOSYSTEM: tuple[ParamSpec, ...] = (
    ParamSpec(
        "recruitment_per_member_per_week",
        2.527474e-3,
        0.0,
        0.02,
        "recruits per member per week",
        "rho: each member recruits rho new members per week",
        PC2023 + " (fixed values)",
        range=(2.0e-3, 3.0e-3),  # the authors' L-BFGS-B fit bounds
    ),
    ParamSpec(
        "incapacitation_per_week",
        110.0,
        0.0,
        5000.0,
        "members per week (all cartels together)",
        "eta: members incapacitated per week, shared out in proportion to cartel size",
        PC2023 + " (fixed values)",
        range=(110.0, 120.0),  # the authors' fit bounds
    ),
    ParamSpec(
        "conflict_rate_per_member_pair_per_week",
        1.549231e-8,
        0.0,
        1e-6,
        "deaths per member pair per week",
        "theta: conflict deaths per member pair per week, before the kernel weight K_ij",
        PC2023 + " (fixed values)",
        range=(1.0e-8, 2.0e-8),  # the authors' fit bounds
    ),
    ParamSpec(
        "saturation_per_member_squared_per_week",
        4.0e-8,
        0.0,
        1e-5,
        "exits per member squared per week",
        "omega: saturation exits, omega * C_i^2 per week",
        PC2023 + " (fixed values)",
        range=(4.0e-8, 1.0e-7),  # the authors' fit bounds
    ),
    ParamSpec(
        "initial_members",
        115000.0,
        1e4,
        1e6,
        "members (all cartels, 1 Jan 2012)",
        "C0: total members at the calibration origin, shared out by Zipf over the network rank",
        PC2023 + " (fixed values)",
        range=(110000.0, 115000.0),  # the authors' fit bounds
    ),
    ParamSpec(
        "victim_share_cartel",
        0.10,
        0.01,  # assumption: below 1% the estimated victims would exceed 100 x the members killed, far beyond
        # any estimate (the paper's 10%); a share near 0 made every victim count infinite
        1.0,
        "share",
        "share of homicides plus missing persons who are cartel members (deaths / share = estimated victims)",
        PC2023 + " (calibration target 0.1 x (homicides + missing)); lower bound 0.01: assumption",
        range=(0.08, 0.12),  # assumption: +-20% around the paper's 10%
    ),
)

PARAMS: dict[str, ParamSpec] = {}


def register(specs: Iterable[ParamSpec]) -> None:
    """Add a layer's parameters to the flat namespace (called explicitly below, never at a distance)."""
    for s in specs:
        if s.name in PARAMS:
            raise ValueError(f"parameter {s.name!r} declared twice")
        if not (s.low <= s.default <= s.high):
            raise ValueError(f"parameter {s.name!r}: default {s.default} outside its bounds")
        PARAMS[s.name] = s


register(ECOSYSTEM)


def defaults(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return every parameter's default, with ``overrides`` applied (names must exist)."""
    out = {k: s.default for k, s in PARAMS.items()}
    for k, v in (overrides or {}).items():
        if k not in PARAMS:
            raise KeyError(k)
        out[k] = float(v)
    return out


register(GEOGRAPHY)
register(ORGANISATION)
register(ADAPTATION)
register(VIOLENCE)
