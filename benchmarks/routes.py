"""Routes benchmark (DESIGN.md, Performance targets: re-route < 2 ms, equilibrium < 0.5 s).

On the bundled municipal graph (2,469 municipalities, 7,112 edges, 27 ports, a sink) with the 16
default producing regions as origins:

(a) re-routing after a cost change: rebuild the weights for a crackdown, one Dijkstra from the sink
    (scipy.sparse.csgraph) and the route counts per municipality (`cartelsim.geography.reroute`);
(b) the congested equilibrium (Frank-Wolfe, relative gap 1e-3) with the default parameters, cold
    and warm-started, plain and conjugate; and the closure of Nuevo Laredo;

and, in the same run, the baselines on the same graph and weights: networkx per-origin Dijkstra
(one `dijkstra_path` per origin, as Dell's code does), networkx single-source Dijkstra from the sink
on the reversed graph (plus the same route counts), and scipy per-origin Dijkstra. Prints times and
ratios and writes benchmarks/results/routes.json. Run: python benchmarks/routes.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy
from scipy.sparse.csgraph import dijkstra

from cartelsim import places
from cartelsim.geography.graph import load_route_graph
from cartelsim.geography.routes import reroute, route_counts, solve_routes
from cartelsim.geography.shocks import crackdown, edge_weights

OUT = Path(__file__).resolve().parent / "results" / "routes.json"


def best_of(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Median over `repeat` runs of the mean time of `number` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rep = args.repeat

    graph = load_route_graph()
    origins = graph.municipality_index(places.producing_regions()["code"])
    shock = crackdown(graph, municipalities=["25006"], cost_factor=4.0)  # Culiacán x4
    w = edge_weights(graph, shock)
    base = solve_routes(graph, origins)
    w[-graph.n_ports :] = base.crossing_cost_km  # crossing costs fixed at the equilibrium

    # (a) re-route: weights for the cost change + one Dijkstra from the sink + route counts
    def ours() -> np.ndarray:
        ww = edge_weights(graph, shock)
        ww[-graph.n_ports :] = base.crossing_cost_km
        return reroute(graph, ww, origins)

    counts = ours()
    t_reroute = best_of(ours, rep, 200)
    m = graph.reversed_matrix(w)
    t_dijkstra = best_of(lambda: dijkstra(m, directed=True, indices=graph.sink, return_predecessors=True), rep, 200)

    # baselines on the same weights
    fwd = m.T.tocsr()
    t_scipy_per_origin = best_of(lambda: dijkstra(fwd, directed=True, indices=origins), rep, 20)
    coo = fwd.tocoo()
    g_fwd = nx.DiGraph()
    g_fwd.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    g_rev = g_fwd.reverse(copy=True)
    sink = graph.sink

    def nx_per_origin() -> np.ndarray:
        out = np.zeros(graph.n_municipalities, dtype=np.int64)
        for o in origins.tolist():
            path = nx.dijkstra_path(g_fwd, o, sink)
            nodes = np.asarray(path, dtype=np.int64)
            out[nodes[nodes < graph.n_municipalities]] += 1
        return out

    def nx_from_sink() -> np.ndarray:
        pred, _ = nx.dijkstra_predecessor_and_distance(g_rev, sink)
        nxt = np.full(graph.n_nodes, -9999, dtype=np.int64)
        for v, ps in pred.items():
            if ps:
                nxt[v] = ps[0]
        return route_counts(graph, nxt, origins)

    # same costs as networkx (ties could route differently; with real-valued lengths they do not)
    assert np.array_equal(nx_per_origin(), counts)
    t_nx_per_origin = best_of(nx_per_origin, rep, 3)
    t_nx_from_sink = best_of(nx_from_sink, rep, 3)

    # (b) congested equilibrium to relative gap 1e-3
    runs: dict[str, dict[str, Any]] = {}
    closed = crackdown(graph, municipalities=["28027"], cost_factor=np.inf)
    for name, kwargs in {
        "default_cold_plain": {},
        "default_cold_conjugate": {"method": "conjugate"},
        "default_warm_after_culiacan_crackdown": {"shocks": shock, "warm_start": base},
        "nuevo_laredo_closed_cold": {"shocks": closed},
        "nuevo_laredo_closed_warm": {"shocks": closed, "warm_start": base},
    }.items():
        sol = solve_routes(graph, origins, **kwargs)
        t = best_of(lambda kwargs=kwargs: solve_routes(graph, origins, **kwargs), max(3, rep // 2))
        runs[name] = {"seconds": t, "iterations": sol.iterations, "relative_gap": sol.relative_gap}

    res = {
        "benchmark": "routes",
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "networkx": nx.__version__,
        },
        "graph": {
            "municipalities": graph.n_municipalities,
            "edges": graph.n_edges,
            "ports": graph.n_ports,
            "origins": int(origins.size),
        },
        "reroute_seconds": t_reroute,
        "sink_dijkstra_seconds": t_dijkstra,
        "baselines_seconds": {
            "networkx_per_origin_dijkstra_path": t_nx_per_origin,
            "networkx_single_source_from_sink_plus_counts": t_nx_from_sink,
            "scipy_per_origin_dijkstra": t_scipy_per_origin,
        },
        "ratios": {
            "networkx_per_origin_over_reroute": t_nx_per_origin / t_reroute,
            "networkx_from_sink_over_reroute": t_nx_from_sink / t_reroute,
            "scipy_per_origin_over_sink_dijkstra": t_scipy_per_origin / t_dijkstra,
        },
        "equilibrium": runs,
        "targets": {"reroute_seconds": 2e-3, "equilibrium_seconds": 0.5},
        "met": {
            "reroute": t_reroute < 2e-3,
            "equilibrium": runs["default_cold_plain"]["seconds"] < 0.5,
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")

    print(
        f"graph: {graph.n_municipalities} municipalities, {graph.n_edges} edges, {graph.n_ports} ports, "
        f"{origins.size} origins"
    )
    print(f"(a) re-route (weights + sink Dijkstra + counts): {t_reroute * 1e3:.3f} ms  (target < 2 ms)")
    print(f"    sink Dijkstra alone:                           {t_dijkstra * 1e3:.3f} ms")
    print(
        f"    networkx per-origin dijkstra_path:             {t_nx_per_origin * 1e3:.2f} ms  "
        f"({t_nx_per_origin / t_reroute:.0f}x)"
    )
    print(
        f"    networkx from sink + counts:                   {t_nx_from_sink * 1e3:.2f} ms  "
        f"({t_nx_from_sink / t_reroute:.0f}x)"
    )
    print(
        f"    scipy per-origin Dijkstra:                     {t_scipy_per_origin * 1e3:.2f} ms  "
        f"({t_scipy_per_origin / t_dijkstra:.1f}x the sink Dijkstra)"
    )
    print("(b) equilibrium to relative gap 1e-3 (target < 0.5 s):")
    for name, r in runs.items():
        print(f"    {name:40s} {r['seconds']:.3f} s  {r['iterations']:5d} iterations  gap {r['relative_gap']:.1e}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
