"""Parameters of the allocation of conflict deaths in space (:mod:`cartelsim.geography.violence`).

Four mixing parameters were fitted by ``data-raw/fit_violence_weights.py`` on 2012-2016 only (the
bundled ``violence_fit`` dataset records what was fitted to what; a test checks that the defaults here
equal its values). The route uplift is an assumption: Dell (2015) finds that municipalities onto
which predicted trafficking routes are diverted see more drug-related violence, but her coefficients
could not be read offline, so only the direction and the order of magnitude are used
(``models/routes-dell-2015.md`` §1.6-1.7).

The lead registers :data:`VIOLENCE` in the global spec (``cartelsim.params.register``).

Examples
--------
>>> from cartelsim.params.violence import VIOLENCE, defaults
>>> [p.name for p in VIOLENCE][-1]
'violence_diverted_route_factor'
>>> defaults()["violence_diverted_route_factor"]
1.2

"""

from __future__ import annotations

from cartelsim.params.spec import ParamSpec

__all__ = ["FITTED", "PRESENCE_NAMES", "VIOLENCE", "defaults"]

FIT = (
    "fitted on 2012-2016 only by data-raw/fit_violence_weights.py (grid search; bundled dataset violence_fit, "
    "fitted_parameters.csv; range = grid values within 5% of the minimum loss)"
)
DELL2015 = "Dell, AER 105(6):1738 (2015)"

#: The parameters fitted by ``data-raw/fit_violence_weights.py`` (in the order of that script's output).
FITTED: tuple[str, ...] = (
    "violence_fatality_weight_share",
    "violence_background_share",
    "violence_listed_state_share",
    "violence_state_spread_share",
)
#: The parameters that shape the presence weights (the allocation caches one weight matrix per value set).
PRESENCE_NAMES: tuple[str, ...] = FITTED

VIOLENCE: tuple[ParamSpec, ...] = (
    ParamSpec(
        "violence_fatality_weight_share",
        0.75,
        0.0,
        1.0,
        "share",
        "presence weight of a cartel's UCDP events (2012-2016) by their best fatality estimates; the rest "
        "weighs each event equally",
        f"{FIT}: state shares of INEGI homicides 2012-2016",
        range=(0.0, 1.0),
    ),
    ParamSpec(
        "violence_background_share",
        0.1,
        0.0,
        1.0,
        "share",
        "share of a UCDP-recorded cartel's conflict deaths spread over all municipalities by 2020 population "
        "(violence away from its recorded places)",
        f"{FIT}: state shares of INEGI homicides 2012-2016",
        range=(0.0, 0.3),
    ),
    ParamSpec(
        "violence_listed_state_share",
        0.05,
        0.0,
        1.0,
        "share",
        "share of the conflict deaths of a group UCDP never records (2012-2016) placed in its BACRIM listed "
        "state (by population); the rest is spread over all municipalities by population",
        f"{FIT}: state shares of INEGI homicides 2012-2016",
        range=(0.0, 0.15),
    ),
    ParamSpec(
        "violence_state_spread_share",
        0.9,
        0.0,
        1.0,
        "share",
        "share of each UCDP event's weight spread over its state by population instead of placed in its "
        "matched municipality (events are sparse samples of where a cartel fights)",
        f"{FIT}: municipality shares of INEGI homicides 2012-2016",
        range=(0.45, 1.0),
    ),
    ParamSpec(
        "violence_diverted_route_factor",
        1.2,
        1.0,
        10.0,
        "factor",
        "multiplier on a municipality's allocation weight (every cartel's) while trafficking routes are "
        "diverted onto it (routes there now, none at the reference); 1 switches the uplift off",
        f"assumption (direction from {DELL2015}: diverted-onto municipalities see more drug-related homicides; "
        "order of magnitude from the ~20% rise in seizures there quoted from her 2011 version [secondary]; "
        "her coefficients are not available offline)",
        range=(1.05, 2.0),
    ),
)


def defaults() -> dict[str, float]:
    """Return ``{name: default}`` for the violence-allocation parameters."""
    return {p.name: p.default for p in VIOLENCE}
