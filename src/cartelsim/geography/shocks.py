"""Cost shocks on the route graph: crackdowns on municipalities, interdiction at ports.

- :func:`crackdown` multiplies the costs of every edge touching treated municipalities (given by
  2-digit state or 5-digit municipality INEGI codes); ``inf`` closes those edges (Dell 2015's
  period networks appear to drop treated edges; ``models/routes-dell-2015.md`` §1.2, §2.3).
- :func:`interdiction` adds a cost (km-equivalent) to the crossing edges of chosen ports and seizes a
  share of what crosses there.

Shocks compose: factors of successive crackdowns multiply, added costs add, seizures combine as
independent chances. Functions return new :class:`Shocks`; nothing is modified in place.

Examples
--------
>>> from cartelsim.geography.graph import load_route_graph
>>> g = load_route_graph()
>>> s = crackdown(g, municipalities=["28027"], cost_factor=float("inf"))
>>> s = interdiction(g, s, ports=["2304"], added_cost=200.0, seizure_probability=0.1)
>>> int((s.edge_factor == float("inf")).sum()), float(s.crossing_added_km[g.port_index("2304")[0]])
(2, 200.0)

"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from cartelsim.geography.graph import RouteGraph
from cartelsim.params.geography import defaults

__all__ = ["Shocks", "apply_shock", "crackdown", "edge_weights", "interdiction"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Shocks:
    """Cost shocks on a route graph (one value per edge or port).

    Attributes
    ----------
    edge_factor : numpy.ndarray
        Multiplier on each undirected municipal edge's cost (``inf`` closes it), shape ``(E,)``.
    access_factor : numpy.ndarray
        Multiplier on each twin -> port access edge (``inf`` closes it), shape ``(P,)``.
    crossing_added_km : numpy.ndarray
        Cost added to each port's crossing edge, km-equivalent (``inf`` closes it), shape ``(P,)``.
    seizure_probability : numpy.ndarray
        Share of the flow crossing each port that is seized, shape ``(P,)``.

    """

    edge_factor: FloatArray
    access_factor: FloatArray
    crossing_added_km: FloatArray
    seizure_probability: FloatArray

    @classmethod
    def none(cls, graph: RouteGraph) -> Shocks:
        """Return the no-shock state of ``graph`` (factors 1, no added cost, no seizure)."""
        return cls(
            edge_factor=np.ones(graph.n_edges),
            access_factor=np.ones(graph.n_ports),
            crossing_added_km=np.zeros(graph.n_ports),
            seizure_probability=np.zeros(graph.n_ports),
        )


def crackdown(
    graph: RouteGraph,
    shocks: Shocks | None = None,
    *,
    states: Sequence[str] = (),
    municipalities: Sequence[str] = (),
    cost_factor: float | None = None,
) -> Shocks:
    """Raise (or close) the costs of every edge touching treated municipalities.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    shocks : Shocks, optional
        Shocks to add to (default: none). Factors of successive crackdowns multiply.
    states : sequence of str
        2-digit INEGI state codes; all their municipalities are treated.
    municipalities : sequence of str
        5-digit INEGI municipality codes.
    cost_factor : float, optional
        Multiplier on the edge costs (``inf`` closes the edges); default the
        ``crackdown_cost_factor`` parameter (4, assumption).

    Returns
    -------
    Shocks
        New shocks; ``shocks`` is not modified. Access edges of ports whose twin is treated are
        multiplied (closed) too.

    Raises
    ------
    KeyError
        If a code is unknown.
    ValueError
        If ``cost_factor`` is not positive.

    """
    base = Shocks.none(graph) if shocks is None else shocks
    factor = defaults()["crackdown_cost_factor"] if cost_factor is None else float(cost_factor)
    if math.isnan(factor) or factor <= 0:
        raise ValueError(f"cost_factor must be positive (got {cost_factor!r})")
    treated = np.zeros(graph.n_municipalities, dtype=bool)
    if municipalities:
        treated[graph.municipality_index(list(municipalities))] = True
    if states:
        want = np.asarray(list(states), dtype=str)
        unknown = sorted(set(want.tolist()) - set(graph.state_codes.tolist()))
        if unknown:
            raise KeyError(f"unknown state codes: {', '.join(unknown)}")
        treated |= np.isin(graph.state_codes, want)
    edge_hit = treated[graph.edge_u] | treated[graph.edge_v]
    access_hit = treated[graph.port_twin]
    return replace(
        base,
        edge_factor=np.where(edge_hit, base.edge_factor * factor, base.edge_factor),
        access_factor=np.where(access_hit, base.access_factor * factor, base.access_factor),
    )


def interdiction(
    graph: RouteGraph,
    shocks: Shocks | None = None,
    *,
    ports: Sequence[str] | str = "all",
    added_cost: float | None = None,
    seizure_probability: float | None = None,
) -> Shocks:
    """Interdict land ports: add a crossing cost and seize a share of what crosses.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    shocks : Shocks, optional
        Shocks to add to (default: none). Added costs add; seizures combine as independent
        chances, ``1 - (1 - a)(1 - b)``.
    ports : sequence of str or "all"
        4-digit BTS port codes, or ``"all"``.
    added_cost : float, optional
        Cost added to each chosen crossing edge, km-equivalent (``inf`` closes the port); default
        the ``interdiction_added_cost_km`` parameter (100, assumption).
    seizure_probability : float, optional
        Share seized, in [0, 1]; default ``interdiction_seizure_probability`` (0.1, assumption).

    Returns
    -------
    Shocks
        New shocks; ``shocks`` is not modified.

    Raises
    ------
    KeyError
        If a port code is unknown.
    ValueError
        If the cost is negative or the probability outside [0, 1].

    """
    base = Shocks.none(graph) if shocks is None else shocks
    p = defaults()
    added = p["interdiction_added_cost_km"] if added_cost is None else float(added_cost)
    seize = p["interdiction_seizure_probability"] if seizure_probability is None else float(seizure_probability)
    if math.isnan(added) or added < 0:
        raise ValueError(f"added_cost must be at least 0 (got {added_cost!r})")
    if not 0.0 <= seize <= 1.0:
        raise ValueError(f"seizure_probability must be within [0, 1] (got {seizure_probability!r})")
    hit = np.zeros(graph.n_ports, dtype=bool)
    if isinstance(ports, str):
        if ports != "all":
            raise ValueError(f"ports must be a list of BTS codes or 'all' (got {ports!r})")
        hit[:] = True
    else:
        hit[graph.port_index(list(ports))] = True
    return replace(
        base,
        crossing_added_km=np.where(hit, base.crossing_added_km + added, base.crossing_added_km),
        seizure_probability=np.where(
            hit, 1.0 - (1.0 - base.seizure_probability) * (1.0 - seize), base.seizure_probability
        ),
    )


def apply_shock(graph: RouteGraph, shocks: Shocks, key: tuple[Hashable, ...]) -> Shocks:
    """Return ``shocks`` with the shock an intervention's ``shock_key`` describes added (nothing modified).

    The interventions (:mod:`cartelsim.policies.geography`) say what a shock is, defaults resolved; this
    layer says what it does to the route graph, so the policies never import the layer.

    Examples
    --------
    >>> import datetime as dt
    >>> from cartelsim.geography import load_route_graph
    >>> from cartelsim.policies.geography import Interdiction
    >>> g = load_route_graph()
    >>> iv = Interdiction(start=dt.date(2020, 1, 1), ports=("2304",), added_cost=100.0)
    >>> s = apply_shock(g, Shocks.none(g), iv.shock_key({}))
    >>> float(s.crossing_added_km[g.port_index("2304")[0]]), round(float(s.seizure_probability.max()), 12)
    (100.0, 0.1)

    """
    kind = key[0]
    if kind == "crackdown":
        _, states, municipalities, factor = key
        return crackdown(
            graph,
            shocks,
            states=tuple(states),  # type: ignore[arg-type]
            municipalities=tuple(municipalities),  # type: ignore[arg-type]
            cost_factor=float(factor),  # type: ignore[arg-type]
        )
    if kind == "interdiction":
        _, ports, added, seized = key
        return interdiction(
            graph,
            shocks,
            ports=ports if isinstance(ports, str) else tuple(ports),  # type: ignore[arg-type]
            added_cost=float(added),  # type: ignore[arg-type]
            seizure_probability=float(seized),  # type: ignore[arg-type]
        )
    raise ValueError(f"no shock of kind {kind!r} (known: crackdown, interdiction)")


def edge_weights(graph: RouteGraph, shocks: Shocks | None = None, access_km: float = 0.0) -> FloatArray:
    """Directed-edge costs before congestion (km-equivalent), in the graph's directed-edge order.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    shocks : Shocks, optional
        Crackdown factors and interdiction costs to apply.
    access_km : float, default 0
        Cost of the twin -> port access edges.

    Returns
    -------
    numpy.ndarray
        Municipal edges (both directions) times their factors, access edges, and crossing edges
        at zero flow (their added cost). ``inf`` marks closed edges.

    """
    s = Shocks.none(graph) if shocks is None else shocks
    muni = graph.edge_km * s.edge_factor
    closed = np.isinf(s.access_factor)
    access = access_km * np.where(closed, 1.0, s.access_factor)  # avoids 0 * inf
    access[closed] = np.inf
    return np.concatenate([muni, muni, access, s.crossing_added_km.astype(np.float64)])
