"""Parameters of the geography layer (route model after Dell 2015), declared once.

:data:`GEOGRAPHY` is registered in the flat parameter namespace by ``cartelsim.params`` (one explicit
line at its end), so scenario files may override these names in ``[parameters]`` or make them
uncertain in ``[uncertainty]``.

Dell's estimates of the congestion parameters (``gamma``, ``phi_t``) could not be read offline, so
every default here is an assumption; the functional form and the bound ``gamma >= 10`` are from her
code (``FrankWolfe.m``, ``DrugNet.m``; see ``models/routes-dell-2015.md`` §1.4-1.5).

Examples
--------
>>> from cartelsim.params.geography import GEOGRAPHY, defaults
>>> defaults()["port_capacity_floor_share"]
0.002
>>> sorted(p.name for p in GEOGRAPHY)[:2]
['congestion_gamma', 'crackdown_cost_factor']

"""

from __future__ import annotations

import math

from cartelsim.params.spec import ParamSpec

__all__ = ["GEOGRAPHY", "defaults"]

DELL2015 = "Dell, AER 105(6):1738 (2015), replication code FrankWolfe.m / DrugNet.m"


GEOGRAPHY: tuple[ParamSpec, ...] = (
    ParamSpec(
        "crossing_congestion_km",
        500.0,
        0.0,
        10000.0,
        "km-equivalent",
        "phi_t: congestion cost at a land crossing carrying exactly its capacity share of the total supply; "
        "0 gives plain shortest paths",
        f"assumption (form c = d + phi_t (F/C)^(gamma/10) from {DELL2015}; her estimate not available offline)",
        (100.0, 2000.0),
    ),
    ParamSpec(
        "congestion_gamma",
        40.0,
        10.0,
        100.0,
        "dimensionless",
        "gamma: the crossing congestion exponent is gamma/10 (40 gives the BPR-like power 4)",
        f"assumption (bound gamma >= 10 from {DELL2015}; value not available offline)",
        (10.0, 80.0),
    ),
    ParamSpec(
        "port_capacity_floor_share",
        0.002,
        1e-4,
        0.05,
        "share of inbound trucks",
        "capacity floor for ports with (almost) no trucks: ports below it get max(floor, personal-vehicle share)",
        "assumption (models/routes-dell-2015.md, Ports in our graph)",
        (0.001, 0.01),
    ),
    ParamSpec(
        "crackdown_cost_factor",
        4.0,
        1.0,
        math.inf,
        "factor",
        "multiplier on the costs of edges touching treated municipalities when a crackdown gives none "
        "(inf closes them)",
        "assumption (Dell 2015's period networks appear to drop treated edges, i.e. inf)",
        (2.0, 10.0),
    ),
    ParamSpec(
        "interdiction_added_cost_km",
        100.0,
        0.0,
        10000.0,
        "km-equivalent",
        "cost added to an interdicted port's crossing edge when an interdiction gives none",
        "assumption",
        (0.0, 500.0),
    ),
    ParamSpec(
        "interdiction_seizure_probability",
        0.1,
        0.0,
        1.0,
        "probability",
        "share of the flow crossing an interdicted port that is seized, when an interdiction gives none",
        "assumption",
        (0.02, 0.3),
    ),
)


def defaults() -> dict[str, float]:
    """Return ``{name: default}`` for the geography parameters."""
    return {p.name: p.default for p in GEOGRAPHY}
