"""Interventions on the route graph: crackdowns and port interdiction (DESIGN.md, Interventions).

Both act in step (4) of the weekly loop (geography): the geography layer
(:mod:`cartelsim.geography.layer`) composes the interventions active in a week, in file order, into
one set of cost shocks on the route graph (each intervention's :meth:`~GeographyIntervention.shock_key`
says what its shock is; :func:`cartelsim.geography.shocks.apply_shock` what it does) and re-solves the
routes only when that set changes. Codes are the public INEGI (states, municipalities) and BTS
(ports) codes, written as strings with their leading zeros; unknown codes are refused when the
scenario is read.

A missing ``cost_factor``, ``added_cost`` or ``seizure_probability`` takes the experiment's value of
the parameters ``crackdown_cost_factor``, ``interdiction_added_cost_km`` and
``interdiction_seizure_probability`` (assumptions, see ``cartelsim params``), so those can be made
uncertain in ``[uncertainty]``.

Examples
--------
>>> import datetime as dt
>>> c = Crackdown(start=dt.date(2020, 1, 1), municipalities=("28027",), cost_factor=float("inf"))
>>> c.validate()
>>> Crackdown(start=dt.date(2020, 1, 1), municipalities=("99999",)).validate()
Traceback (most recent call last):
...
ValueError: unknown municipality codes: 99999 (codes are 5-digit INEGI codes of the 2,469 municipalities of 2020)
>>> Interdiction(start=dt.date(2020, 1, 1), ports="all", seizure_probability=0.1).shock_key({})[:2]
('interdiction', 'all')

"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from cartelsim.distributions import Distribution
from cartelsim.policies.base import Intervention, key

__all__ = ["Crackdown", "GeographyIntervention", "Interdiction"]

STATE_CODE = r"\d{2}"
MUNICIPALITY_CODE = r"\d{5}"
PORT_CODE = r"\d{4}"


def _unknown(given: Sequence[str], known: Sequence[str], what: str, hint: str) -> None:
    bad = sorted(set(given) - set(known))
    if bad:
        raise ValueError(f"unknown {what} codes: {', '.join(bad)} ({hint})")


def _check_number(name: str, value: object, low: float, high: float) -> None:
    """Bounds of a key given directly in Python (the scenario parser checks file values itself)."""
    if value is None or isinstance(value, Distribution):
        return
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v) or not low <= v <= high:
        raise ValueError(f"{name} must be within [{low:g}, {high:g}] (got {value!r})")


def _value(v: float | Distribution | None, params: Mapping[str, float], name: str) -> float:
    if isinstance(v, Distribution):
        raise TypeError(f"draw the distribution of {name!r} first (cartelsim.draws.draw_values)")
    if v is not None:
        return float(v)
    if name in params:
        return float(params[name])
    from cartelsim.params.geography import defaults

    return defaults()[name]


@dataclass(frozen=True)
class GeographyIntervention(Intervention):
    """Base of the interventions that act on the route graph (layer ``geography``, step 4)."""

    layer = "geography"

    def shock_key(self, params: Mapping[str, float]) -> tuple[Hashable, ...]:
        """Return what the shock does, defaults resolved from ``params`` (for caching solves).

        Two interventions with the same key change the route graph in the same way, whatever their
        dates; the geography layer solves once per distinct set of keys.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Crackdown(GeographyIntervention):
    """Raise (or close, with ``cost_factor = inf``) the route costs in treated states or municipalities.

    Every road-graph edge touching a treated municipality has its cost multiplied by ``cost_factor``;
    ``inf`` closes those edges, as Dell (2015)'s period networks appear to do with municipalities that
    elected a PAN mayor (``models/routes-dell-2015.md`` §1.2). Give exactly one of ``states`` and
    ``municipalities``.

    Examples
    --------
    >>> import datetime as dt
    >>> Crackdown(start=dt.date(2020, 1, 1), states=("28",), cost_factor=4.0).shock_key({})
    ('crackdown', ('28',), (), 4.0)

    """

    type = "crackdown"
    states: tuple[str, ...] | None = key(
        "codes", "2-digit INEGI state codes; every municipality of these states is treated", pattern=STATE_CODE
    )
    municipalities: tuple[str, ...] | None = key(
        "codes", "5-digit INEGI municipality codes of the treated municipalities", pattern=MUNICIPALITY_CODE
    )
    cost_factor: float | None = key(
        "number",
        "multiplies the costs of road edges touching treated municipalities; inf closes them "
        "(default: the crackdown_cost_factor parameter)",
        None,
        unit="factor",
        low=1.0,
        high=math.inf,
    )

    def validate(self) -> None:
        """Require exactly one of ``states`` and ``municipalities``, with known codes."""
        if (self.states is None) == (self.municipalities is None):
            raise ValueError("give exactly one of 'states' or 'municipalities'")
        from cartelsim import places

        if self.states is not None:
            _unknown(
                self.states, places.states()["state_code"].tolist(), "state", "codes are 2-digit INEGI codes, 01 to 32"
            )
        if self.municipalities is not None:
            _unknown(
                self.municipalities,
                places.municipalities()["code"].tolist(),
                "municipality",
                "codes are 5-digit INEGI codes of the 2,469 municipalities of 2020",
            )
        _check_number("cost_factor", self.cost_factor, 1.0, math.inf)

    def shock_key(self, params: Mapping[str, float]) -> tuple[Hashable, ...]:
        """``("crackdown", states, municipalities, cost_factor)`` with the default factor resolved."""
        return (
            self.type,
            tuple(self.states or ()),
            tuple(self.municipalities or ()),
            _value(self.cost_factor, params, "crackdown_cost_factor"),
        )


@dataclass(frozen=True)
class Interdiction(GeographyIntervention):
    """Interdict land ports: add a crossing cost (km-equivalent) and seize a share of what crosses.

    The added cost changes route choice (traffic shifts to other ports); the seizure does not, but
    lowers the flow reaching the border (``flow_to_border_index``). Seizures of successive
    interdictions at a port combine as independent chances.

    Examples
    --------
    >>> import datetime as dt
    >>> Interdiction(start=dt.date(2020, 1, 1), ports=("2304",), added_cost=100.0).shock_key({})
    ('interdiction', ('2304',), 100.0, 0.1)

    """

    type = "interdiction"
    ports: tuple[str, ...] | str | None = key(
        "codes",
        'the interdicted ports: 4-digit BTS port codes, or "all" for the 27 land ports',
        pattern=PORT_CODE,
        choices=("all",),
        required=True,
    )
    seizure_probability: float | None = key(
        "number",
        "share of the flow crossing an interdicted port that is seized "
        "(default: the interdiction_seizure_probability parameter)",
        None,
        unit="probability",
        low=0.0,
        high=1.0,
    )
    added_cost: float | None = key(
        "number",
        "cost added to each interdicted port's crossing, km-equivalent; inf closes the port "
        "(default: the interdiction_added_cost_km parameter)",
        None,
        unit="km-equivalent",
        low=0.0,
        high=math.inf,
    )

    def validate(self) -> None:
        """Require ``ports`` ("all" or known BTS codes) and in-bounds numbers."""
        if self.ports is None:
            raise ValueError("'ports' is required: a list of BTS port codes or \"all\"")
        if isinstance(self.ports, str):
            if self.ports != "all":
                raise ValueError(f'ports must be a list of BTS port codes or "all" (got {self.ports!r})')
        else:
            from cartelsim import places

            _unknown(
                self.ports,
                places.ports()["port_code"].tolist(),
                "port",
                "codes are the 4-digit BTS codes of the 27 US-Mexico land ports; see `cartelsim routes`",
            )
        _check_number("seizure_probability", self.seizure_probability, 0.0, 1.0)
        _check_number("added_cost", self.added_cost, 0.0, math.inf)

    def shock_key(self, params: Mapping[str, float]) -> tuple[Hashable, ...]:
        """``("interdiction", ports, added_cost, seizure_probability)`` with defaults resolved."""
        ports: Hashable = self.ports if isinstance(self.ports, str) else tuple(self.ports or ())
        return (
            self.type,
            ports,
            _value(self.added_cost, params, "interdiction_added_cost_km"),
            _value(self.seizure_probability, params, "interdiction_seizure_probability"),
        )
