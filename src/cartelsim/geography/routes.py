"""Least-cost trafficking routes to the US border, with congestion at the crossings (Dell 2015).

The model of ``models/routes-dell-2015.md`` on a :class:`~cartelsim.geography.graph.RouteGraph`:

- **Routes** (§1.3). Every origin sends its supply to the super-sink over least-cost paths. The
  graph is stored reversed, so one Dijkstra from the sink (``scipy.sparse.csgraph.dijkstra``) gives
  every node's least cost and its next hop towards the border (Dell ran one Dijkstra per origin: same
  costs; ties may break differently).
- **Route counts** (``n_routes``), as Dell counts them: a municipality counts 1 per origin whose path
  visits it, however many of its edges the path uses. The origin itself counts (Dell counts a
  municipality when the path touches one of its edges, and the path's first edge is the origin's).
  Origins with no path to the border, or with zero supply, have no route.
- **Congestion** (§1.4). Only crossing edges congest: ``c_p(F) = d_p + phi_t (F_p / (C_p S))^(gamma/10)``
  with ``C_p`` the port's capacity share and ``S`` the reference supply (default: the total supply),
  so ``F_p / S`` is the port's share of the supply; Dell used raw path counts, a constant absorbed in
  ``phi_t``. Frank-Wolfe (:mod:`cartelsim.geography.equilibrium`) finds the Wardrop equilibrium to a
  relative gap of 1e-3. Reported routes are the least-cost paths at equilibrium costs (as in Dell's
  code); port flows and shares are the equilibrium flows.
- **Shocks** (:mod:`cartelsim.geography.shocks`): crackdowns scale or close edges; interdiction adds
  a crossing cost and seizes a share of what crosses. Seizure does not change route choice; the added
  cost does.

The organisation layer's seam is the ``supply`` argument: one amount per origin (default 1).

Examples
--------
>>> from cartelsim.geography.graph import load_route_graph
>>> from cartelsim.geography.shocks import crackdown
>>> g = load_route_graph()
>>> origins = g.municipality_index(["25003", "12054"])  # Badiraguato, San Miguel Totolapan
>>> sol = solve_routes(g, origins)
>>> round(float(sol.flow_share.sum()), 12), sol.converged
(1.0, True)
>>> closed = solve_routes(g, origins, crackdown(g, municipalities=["28027"], cost_factor=float("inf")))
>>> int(closed.n_routes[g.municipality_index("28027")[0]])
0

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from cartelsim.geography.equilibrium import frank_wolfe, port_costs
from cartelsim.geography.graph import RouteGraph
from cartelsim.geography.shocks import Shocks, edge_weights
from cartelsim.params.geography import defaults

__all__ = [
    "RouteSolution",
    "diverted_onto",
    "least_costs",
    "reroute",
    "route_counts",
    "shortest_routes",
    "solve_routes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def least_costs(graph: RouteGraph, weights: FloatArray | sp.csr_matrix) -> tuple[FloatArray, IntArray]:
    """One Dijkstra from the sink over the reversed graph.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    weights : numpy.ndarray or scipy.sparse.csr_matrix
        Directed-edge costs (see :func:`edge_weights`) or a ready reversed matrix.

    Returns
    -------
    dist : numpy.ndarray
        Least cost from every node to the sink (``inf`` where there is no path).
    pred : numpy.ndarray of int64
        Next hop towards the sink of every node (``-9999`` at the sink and where there is no path).

    """
    m = weights if sp.issparse(weights) else graph.reversed_matrix(np.asarray(weights))
    dist, pred = dijkstra(m, directed=True, indices=graph.sink, return_predecessors=True)
    return np.asarray(dist, dtype=np.float64), pred.astype(np.int64)


def _walk_to_ports(
    graph: RouteGraph, pred: IntArray, step: FloatArray | None = None
) -> tuple[IntArray, FloatArray | None]:
    """Port reached by every node and, given per-node step lengths, the length to it (pointer jumping)."""
    n = graph.n_nodes
    nm = graph.n_municipalities
    anc = pred.copy()
    roots = anc < 0
    anc[roots] = np.flatnonzero(roots)
    anc[nm : nm + graph.n_ports] = graph.port_nodes  # stop at the ports
    acc = None
    if step is not None:
        acc = np.where(anc == np.arange(n), 0.0, step)
    while True:
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        if acc is not None:
            acc = acc + acc[anc]
        anc = nxt
    port = np.where((anc >= nm) & (anc < nm + graph.n_ports), anc - nm, -1)
    return port.astype(np.int64), acc


def _follow_paths(graph: RouteGraph, pred: IntArray, origins: IntArray) -> tuple[IntArray, IntArray]:
    """Municipalities visited by each origin's path: (origin position, municipality) pairs."""
    nm = graph.n_municipalities
    who = np.arange(origins.size, dtype=np.int64)
    cur = origins
    nodes = [cur]
    owners = [who]
    while cur.size:
        cur = pred[cur]
        keep = (cur >= 0) & (cur < nm)  # the path leaves the municipalities at its port
        cur, who = cur[keep], who[keep]
        nodes.append(cur)
        owners.append(who)
    return np.concatenate(owners), np.concatenate(nodes)


def route_counts(graph: RouteGraph, pred: IntArray, origins: npt.ArrayLike) -> IntArray:
    """Count, for every municipality, the origins whose path to the border visits it.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    pred : numpy.ndarray
        Next hops from :func:`least_costs`.
    origins : array_like of int
        Municipality indices of the origins that have a route (reachable, positive supply).

    Returns
    -------
    numpy.ndarray of int64
        ``n_routes``, one count per municipality (zeros included); an origin counts itself.

    """
    o = np.asarray(origins, dtype=np.int64)
    _, visited = _follow_paths(graph, pred, o)
    return np.bincount(visited, minlength=graph.n_municipalities).astype(np.int64)


def reroute(graph: RouteGraph, weights: FloatArray | sp.csr_matrix, origins: npt.ArrayLike) -> IntArray:
    """Re-route after a cost change: one Dijkstra from the sink plus the route counts.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    weights : numpy.ndarray or scipy.sparse.csr_matrix
        Directed-edge costs (fixed crossing costs) or a ready reversed matrix.
    origins : array_like of int
        Municipality indices of the origins.

    Returns
    -------
    numpy.ndarray of int64
        ``n_routes`` per municipality; origins without a path to the border are left out.

    """
    o = np.asarray(origins, dtype=np.int64)
    dist, pred = least_costs(graph, weights)
    return route_counts(graph, pred, o[np.isfinite(dist[o])])


def diverted_onto(n_routes: npt.ArrayLike, baseline_n_routes: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Municipalities diverted onto: routes there under the policy and none under the baseline.

    Parameters
    ----------
    n_routes, baseline_n_routes : array_like
        Route counts under the policy and under the baseline (same week).

    Returns
    -------
    numpy.ndarray of bool

    """
    a = np.asarray(n_routes)
    b = np.asarray(baseline_n_routes)
    return np.asarray((a > 0) & (b == 0))


@dataclass(frozen=True, eq=False)
class RouteSolution:
    """Routes and flows of one solve (all arrays float64 unless said).

    Attributes
    ----------
    origins : numpy.ndarray of int64
        Municipality index of each origin.
    supply : numpy.ndarray
        Each origin's supply (units of the caller; default 1 per origin).
    n_routes : numpy.ndarray of int64
        Per municipality: origin routes visiting it (Dell's count), zeros included.
    municipality_flow : numpy.ndarray
        Per municipality: supply on the reported routes through it (before seizures).
    port_flow : numpy.ndarray
        Per port: equilibrium flow arriving there.
    port_crossed : numpy.ndarray
        Per port: flow crossing after seizures.
    flow_share : numpy.ndarray
        Per port: share of the flow crossing the border that crosses there (sums to 1 when any
        flow crosses; all zero otherwise).
    flow_to_border : float
        Total supply crossing after seizures (the caller turns it into ``flow_to_border_index``).
    crossing_cost_km : numpy.ndarray
        Per port: crossing-edge cost at equilibrium, km-equivalent (``inf`` if closed).
    origin_port : numpy.ndarray of int64
        Per origin: port position of its reported route (-1: no route).
    origin_cost_km : numpy.ndarray
        Per origin: least generalised cost to the border at equilibrium (``inf``: no route).
    origin_length_km : numpy.ndarray
        Per origin: length of the reported route in km, seat to seat (``nan``: no route).
    origin_port_flow : numpy.ndarray
        ``(origins, ports)``: each origin's equilibrium supply split over the ports.
    predecessors : numpy.ndarray of int64
        Next hop towards the sink of every node at equilibrium costs.
    iterations : int
        Frank-Wolfe iterations (0 when costs do not depend on flow).
    relative_gap : float
        Relative gap of the reported equilibrium.
    gap_history : numpy.ndarray
        Relative gap at every iteration.
    converged : bool
        Whether ``relative_gap <= tolerance``.

    """

    origins: IntArray
    supply: FloatArray
    n_routes: IntArray
    municipality_flow: FloatArray
    port_flow: FloatArray
    port_crossed: FloatArray
    flow_share: FloatArray
    flow_to_border: float
    crossing_cost_km: FloatArray
    origin_port: IntArray
    origin_cost_km: FloatArray
    origin_length_km: FloatArray
    origin_port_flow: FloatArray
    predecessors: IntArray
    iterations: int
    relative_gap: float
    gap_history: FloatArray
    converged: bool

    @property
    def n_municipalities_on_routes(self) -> int:
        """Number of municipalities with at least one route."""
        return int(np.count_nonzero(self.n_routes))

    def path(self, k: int) -> IntArray:
        """Municipality indices along origin ``k``'s reported route, origin first (empty: no route)."""
        if self.origin_port[k] < 0:
            return np.empty(0, dtype=np.int64)
        out = [int(self.origins[k])]
        nm = self.n_routes.size
        while True:
            nxt = int(self.predecessors[out[-1]])
            if nxt < 0 or nxt >= nm:
                return np.asarray(out, dtype=np.int64)
            out.append(nxt)


def _check_origins(
    graph: RouteGraph, origins: npt.ArrayLike, supply: npt.ArrayLike | None
) -> tuple[IntArray, FloatArray]:
    o = np.atleast_1d(np.asarray(origins, dtype=np.int64))
    if o.ndim != 1 or (o.size and (o.min() < 0 or o.max() >= graph.n_municipalities)):
        raise ValueError("origins must be municipality indices (see RouteGraph.municipality_index)")
    if np.unique(o).size != o.size:
        raise ValueError("origins must be unique: add up the supply of repeated origins")
    s = np.ones(o.size) if supply is None else np.asarray(supply, dtype=np.float64)
    if s.shape != o.shape or not np.all(np.isfinite(s) & (s >= 0)):
        raise ValueError("supply must hold one finite, non-negative amount per origin")
    return o, s


def _step_km(graph: RouteGraph, pred: IntArray, access_km: float) -> FloatArray:
    """Length in km of the edge from every municipality to its next hop (0 elsewhere)."""
    nm = graph.n_municipalities
    nodes = np.arange(nm, dtype=np.int64)
    p = pred[:nm]
    step = np.zeros(graph.n_nodes)
    ok = p >= 0
    # municipal hops: find the directed edge (v -> p) among the sorted undirected pairs
    mun = ok & (p < nm)
    lo = np.minimum(nodes[mun], p[mun])
    hi = np.maximum(nodes[mun], p[mun])
    keys = graph.edge_u * nm + graph.edge_v
    order = np.argsort(keys)
    pos = order[np.searchsorted(keys, lo * nm + hi, sorter=order)]
    step[np.flatnonzero(mun)] = graph.edge_km[pos]
    step[np.flatnonzero(ok & (p >= nm))] = access_km
    return step


def _warm_split(warm: RouteSolution | None, origins: IntArray) -> FloatArray | None:
    if warm is None:
        return None
    if not np.array_equal(warm.origins, origins):
        raise ValueError("warm_start must come from a solve with the same origins")
    return warm.origin_port_flow


def solve_routes(
    graph: RouteGraph,
    origins: npt.ArrayLike,
    shocks: Shocks | None = None,
    supply: npt.ArrayLike | None = None,
    *,
    congestion_km: float | None = None,
    gamma: float | None = None,
    reference_supply: float | None = None,
    access_km: float = 0.0,
    tolerance: float = 1e-3,
    max_iterations: int = 10000,
    method: str = "plain",
    warm_start: RouteSolution | None = None,
) -> RouteSolution:
    """Congested route equilibrium (Frank-Wolfe), then routes at equilibrium costs.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    origins : array_like of int
        Unique municipality indices of the origins (e.g. from
        ``graph.municipality_index(places.producing_regions()["code"])``).
    shocks : Shocks, optional
        Crackdowns and interdictions (see :func:`crackdown`, :func:`interdiction`).
    supply : array_like of float, optional
        Supply of each origin (default 1 each): the seam for cartels' trafficking capacities.
    congestion_km : float, optional
        ``phi_t``; default the ``crossing_congestion_km`` parameter (500, assumption). 0 gives
        plain shortest paths.
    gamma : float, optional
        ``gamma`` (exponent ``gamma / 10``); default ``congestion_gamma`` (40, assumption).
    reference_supply : float, optional
        ``S`` in the congestion term; default the total supply of ``origins``. Pass a fixed value
        to make congestion grow with total volume.
    access_km : float, default 0
        Cost of the twin -> port access edges.
    tolerance : float, default 1e-3
        Stop when the relative gap is at most this (Dell's ``FrankWolfe.m``).
    max_iterations : int, default 10000
        Cap on Frank-Wolfe iterations (``converged`` says whether the tolerance was met).
    method : {"plain", "conjugate"}, default "plain"
        ``"plain"`` is Dell's Frank-Wolfe (direction: towards the all-or-nothing assignment);
        ``"conjugate"`` is the conjugate Frank-Wolfe of Mitradjieva & Lindberg (Transportation
        Science 47(2):280, 2013), the same algorithm with the direction made conjugate to the
        previous one (fewer iterations on most problems).
    warm_start : RouteSolution, optional
        A previous solution for the same origins: Frank-Wolfe starts from its split of each
        origin's supply over the ports (rescaled to the new supply; origins whose ports are no
        longer reachable restart from their all-or-nothing route). Saves iterations when a weekly
        step changes supply or shocks a little.

    Returns
    -------
    RouteSolution

    """
    o, s = _check_origins(graph, origins, supply)
    p = defaults()
    phi = p["crossing_congestion_km"] if congestion_km is None else float(congestion_km)
    gam = p["congestion_gamma"] if gamma is None else float(gamma)
    if not (phi >= 0 and gam >= 10):
        raise ValueError("congestion_km must be >= 0 and gamma >= 10 (Dell 2015's bound)")
    if method not in ("conjugate", "plain"):
        raise ValueError(f"method must be 'conjugate' or 'plain' (got {method!r})")
    shocks = Shocks.none(graph) if shocks is None else shocks
    w = edge_weights(graph, shocks, access_km)
    base_cross = shocks.crossing_added_km.astype(np.float64)
    ref = float(s.sum()) if reference_supply is None else float(reference_supply)
    m = graph.reversed_matrix(w)
    cross_pos = graph.csr_position[w.size - graph.n_ports :]
    if phi > 0:
        eq = frank_wolfe(
            port_costs(graph, m, o),
            s,
            base_cross,
            phi,
            gam / 10.0,
            graph.capacity_share * (ref if ref > 0 else 1.0),
            tolerance,
            max_iterations,
            method,
            _warm_split(warm_start, o),
        )
        f0, x0, c_eq, history, rel, it = eq
    else:
        history, rel, it = [], 0.0, 0
        c_eq = base_cross.copy()
    m.data[cross_pos] = c_eq
    dist, pred = least_costs(graph, m)
    port, km = _walk_to_ports(graph, pred, _step_km(graph, pred, access_km))
    assert km is not None
    po = port[o]
    has = (po >= 0) & (s > 0)
    if phi == 0:  # costs do not depend on flow: the routes are the assignment
        x0 = np.zeros((o.size, graph.n_ports))
        x0[np.flatnonzero(has), po[has]] = s[has]
        f0 = x0.sum(axis=0)
    owners, visited = _follow_paths(graph, pred, o[has])
    nm = graph.n_municipalities
    n_routes = np.bincount(visited, minlength=nm).astype(np.int64)
    mflow = np.asarray(np.bincount(visited, weights=s[has][owners], minlength=nm), dtype=np.float64)
    crossed = f0 * (1.0 - shocks.seizure_probability)
    total = float(crossed.sum())
    share = crossed / total if total > 0 else np.zeros(graph.n_ports)
    return RouteSolution(
        origins=o,
        supply=s,
        n_routes=n_routes,
        municipality_flow=mflow,
        port_flow=f0,
        port_crossed=crossed,
        flow_share=share,
        flow_to_border=total,
        crossing_cost_km=c_eq,
        origin_port=np.where(has, po, -1).astype(np.int64),
        origin_cost_km=np.where(has, dist[o], np.inf),
        origin_length_km=np.where(has, km[o], np.nan),
        origin_port_flow=x0,
        predecessors=pred,
        iterations=it,
        relative_gap=rel,
        gap_history=np.asarray(history, dtype=np.float64),
        converged=rel <= tolerance,
    )


def shortest_routes(
    graph: RouteGraph,
    origins: npt.ArrayLike,
    shocks: Shocks | None = None,
    supply: npt.ArrayLike | None = None,
    *,
    access_km: float = 0.0,
) -> RouteSolution:
    """Uncongested least-cost routes (Dell's §1.3 baseline): :func:`solve_routes` with ``phi_t = 0``.

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    origins : array_like of int
        Unique municipality indices of the origins.
    shocks : Shocks, optional
        Crackdowns and interdictions.
    supply : array_like of float, optional
        Supply of each origin (default 1 each).
    access_km : float, default 0
        Cost of the twin -> port access edges.

    Returns
    -------
    RouteSolution

    """
    return solve_routes(graph, origins, shocks, supply, congestion_km=0.0, access_km=access_km)
