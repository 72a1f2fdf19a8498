"""Tables of a route solve, for the ``routes`` command, reports and outcome recording.

Examples
--------
>>> from cartelsim import places
>>> from cartelsim.geography import load_route_graph, solve_routes
>>> g = load_route_graph()
>>> sol = solve_routes(g, g.municipality_index(places.producing_regions()["code"]))
>>> origin_table(g, sol).columns.tolist()[:4]
['code', 'name', 'state_code', 'supply']
>>> round(float(port_table(g, sol)["flow_share"].sum()), 9)
1.0

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartelsim import places
from cartelsim.geography.graph import RouteGraph
from cartelsim.geography.routes import RouteSolution

__all__ = ["municipality_table", "origin_table", "port_table"]


def _names(codes: np.ndarray) -> np.ndarray:
    """Bundled municipality names for these codes ('' where a code is not bundled)."""
    m = places.municipalities().set_index("code")["name"]
    return np.asarray(m.reindex(codes).fillna("").to_numpy(dtype=str))


def origin_table(graph: RouteGraph, solution: RouteSolution) -> pd.DataFrame:
    """One row per origin: its port and route.

    Parameters
    ----------
    graph : RouteGraph
        The graph the solution was computed on.
    solution : RouteSolution
        A solve.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``state_code``, ``supply``, ``port_code`` (BTS code of the
        reported route's port, ``""`` when the origin has no route), ``path_length_km`` (seat to
        seat, km), ``route_cost_km`` (generalised cost at equilibrium, km-equivalent), ``n_steps``
        (municipalities on the route, origin included) and ``port_split`` (the equilibrium share
        of the origin's supply on its route's port).

    """
    o = solution.origins
    port = solution.origin_port
    has = port >= 0
    split = np.zeros(o.size)
    rows = np.flatnonzero(has & (solution.supply > 0))
    split[rows] = solution.origin_port_flow[rows, port[rows]] / solution.supply[rows]
    return pd.DataFrame(
        {
            "code": graph.codes[o],
            "name": _names(graph.codes[o]),
            "state_code": graph.state_codes[o],
            "supply": solution.supply,
            "port_code": np.where(has, graph.port_codes[np.maximum(port, 0)], ""),
            "path_length_km": solution.origin_length_km,
            "route_cost_km": solution.origin_cost_km,
            "n_steps": [solution.path(k).size for k in range(o.size)],
            "port_split": split,
        }
    )


def port_table(graph: RouteGraph, solution: RouteSolution) -> pd.DataFrame:
    """One row per port: flows, shares and costs at equilibrium.

    Parameters
    ----------
    graph : RouteGraph
        The graph the solution was computed on.
    solution : RouteSolution
        A solve.

    Returns
    -------
    pandas.DataFrame
        Columns ``port_code``, ``twin_code``, ``capacity_share``, ``port_flow`` (arriving),
        ``port_crossed`` (after seizures), ``flow_share`` (sums to 1 when anything crosses) and
        ``crossing_cost_km`` (``inf`` where closed), in the graph's port order.

    """
    return pd.DataFrame(
        {
            "port_code": graph.port_codes,
            "twin_code": graph.codes[graph.port_twin],
            "capacity_share": graph.capacity_share,
            "port_flow": solution.port_flow,
            "port_crossed": solution.port_crossed,
            "flow_share": solution.flow_share,
            "crossing_cost_km": solution.crossing_cost_km,
        }
    )


def municipality_table(graph: RouteGraph, solution: RouteSolution) -> pd.DataFrame:
    """One row per municipality (zeros included): route counts and flow through it.

    Parameters
    ----------
    graph : RouteGraph
        The graph the solution was computed on.
    solution : RouteSolution
        A solve.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``state_code``, ``n_routes`` (Dell's count) and ``flow`` (supply on
        the reported routes through it, before seizures), in code order.

    """
    return pd.DataFrame(
        {
            "code": graph.codes,
            "state_code": graph.state_codes,
            "n_routes": solution.n_routes,
            "flow": solution.municipality_flow,
        }
    )
