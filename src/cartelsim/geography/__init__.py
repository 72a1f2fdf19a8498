"""Geography layer: municipalities, land ports and trafficking routes to the US border (Dell 2015).

Spec: ``models/routes-dell-2015.md``. Public geography only: states, municipalities, their seats and
the land ports of entry; no person and no private place is represented anywhere.

- :mod:`~cartelsim.places`: bundled datasets (municipalities, states, polygons, ports,
  default producing regions);
- :mod:`~cartelsim.topojson`: a small TopoJSON decoder and shared-arc adjacency;
- :mod:`~cartelsim.geography.graph`: the route graph (municipalities, one node per port, a sink);
- :mod:`~cartelsim.geography.shocks`: crackdowns and interdiction;
- :mod:`~cartelsim.geography.equilibrium`: Frank-Wolfe for the congested crossings;
- :mod:`~cartelsim.geography.routes`: solves and route counts;
- :mod:`~cartelsim.geography.tables`: per-origin, per-port and per-municipality tables of a solve;
- :mod:`~cartelsim.params.geography`: the layer's parameters.

Examples
--------
>>> from cartelsim import geography as geo, places
>>> g = geo.load_route_graph()
>>> origins = g.municipality_index(places.producing_regions()["code"])
>>> sol = geo.solve_routes(g, origins)
>>> sol.n_routes.shape, round(float(sol.flow_share.sum()), 9)
((2469,), 1.0)

"""

from cartelsim import places
from cartelsim.geography.graph import RouteGraph, haversine_km, load_route_graph, make_route_graph
from cartelsim.geography.routes import (
    RouteSolution,
    diverted_onto,
    least_costs,
    reroute,
    route_counts,
    shortest_routes,
    solve_routes,
)
from cartelsim.geography.shocks import Shocks, crackdown, edge_weights, interdiction
from cartelsim.geography.tables import municipality_table, origin_table, port_table
from cartelsim.params.geography import GEOGRAPHY

data = places  # the 0.1 name of cartelsim.places (``geography.data``), kept until 0.3

__all__ = [
    "GEOGRAPHY",
    "RouteGraph",
    "RouteSolution",
    "Shocks",
    "crackdown",
    "data",
    "diverted_onto",
    "edge_weights",
    "haversine_km",
    "interdiction",
    "least_costs",
    "load_route_graph",
    "make_route_graph",
    "municipality_table",
    "origin_table",
    "port_table",
    "reroute",
    "route_counts",
    "shortest_routes",
    "solve_routes",
]
