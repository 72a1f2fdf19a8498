r"""A PNG map of predicted trafficking routes over the municipal polygons (offline, matplotlib).

Drawn from the bundled TopoJSON (:func:`cartelsim.places.municipal_topology`, decoded by
:mod:`cartelsim.topojson`): municipalities shaded by ``n_routes``, each origin's route as a
line through the municipal seats it visits (coloured by the port it reaches), the ports sized by their
share of the flow, and, when an unshocked solution is given, the municipalities diverted onto outlined.
Public geography only: states, municipalities, their seats and the land ports.

Examples
--------
>>> import tempfile, pathlib
>>> from cartelsim import places
>>> from cartelsim.geography import load_route_graph, solve_routes
>>> g = load_route_graph()
>>> sol = solve_routes(g, g.municipality_index(places.producing_regions()["code"]))
>>> p = plot_routes(g, sol, pathlib.Path(tempfile.mkdtemp()) / "routes.png", "demo")
>>> p.read_bytes()[:4]
b'\x89PNG'

"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cartelsim import places
from cartelsim.bundle import write_file
from cartelsim.geography.graph import RouteGraph
from cartelsim.geography.routes import RouteSolution, diverted_onto
from cartelsim.topojson import decode_features

__all__ = ["FOOTER", "plot_routes"]

FOOTER = "model output under stated assumptions"

Rings = tuple[tuple[npt.NDArray[np.float64], ...], ...]


@lru_cache(maxsize=1)
def _municipal_rings() -> tuple[tuple[str, ...], Rings]:
    """Exterior rings of every municipality, by INEGI code (decoded once per process)."""
    feats = decode_features(places.municipal_topology(), "municipios")
    return tuple(f.id for f in feats), tuple(tuple(poly[0] for poly in f.polygons) for f in feats)


@lru_cache(maxsize=1)
def _state_rings() -> Rings:
    feats = decode_features(places.state_topology(), "state")
    return tuple(tuple(poly[0] for poly in f.polygons) for f in feats)


def plot_routes(
    graph: RouteGraph,
    solution: RouteSolution,
    out: str | Path,
    title: str,
    unshocked: RouteSolution | None = None,
    *,
    treated: npt.ArrayLike | None = None,
    stamp: str = "",
) -> Path:
    """Write a PNG map of a route solution.

    Parameters
    ----------
    graph : RouteGraph
        The graph the solution was computed on (the bundled one: polygons are looked up by code).
    solution : RouteSolution
        The routes to draw.
    out : str or Path
        PNG file to write (parent folders are created).
    title : str
        Title line (scenario, policy, date).
    unshocked : RouteSolution, optional
        The routes without shocks; municipalities with routes here and none there ("diverted onto",
        DESIGN.md) are outlined in black.
    treated : array_like of bool, optional
        Municipalities under a crackdown (one flag per municipality of ``graph``), hatched.
    stamp : str, optional
        Extra provenance text for the footer.

    Returns
    -------
    Path
        The written file.

    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = Path(out)
    ids, rings = _municipal_rings()
    pos = {c: i for i, c in enumerate(graph.codes.tolist())}
    n_routes = solution.n_routes.astype(np.float64)
    polys: list[npt.NDArray[np.float64]] = []
    values: list[float] = []
    diverted_polys: list[npt.NDArray[np.float64]] = []
    treated_polys: list[npt.NDArray[np.float64]] = []
    diverted = diverted_onto(solution.n_routes, unshocked.n_routes) if unshocked is not None else None
    hit = np.zeros(graph.n_municipalities, dtype=bool) if treated is None else np.asarray(treated, dtype=bool)
    for code, rs in zip(ids, rings, strict=True):
        i = pos.get(code)
        v = n_routes[i] if i is not None else 0.0
        for r in rs:
            polys.append(r)
            values.append(v)
            if diverted is not None and i is not None and diverted[i]:
                diverted_polys.append(r)
            if i is not None and hit[i]:
                treated_polys.append(r)

    fig = Figure(figsize=(10, 6.4), dpi=130)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.06, 0.84, 0.88))
    vals = np.asarray(values)
    vmax = max(1.0, float(n_routes.max()))
    cmap = "YlOrBr"
    on = vals > 0
    base = PolyCollection(
        [p for p, o in zip(polys, on, strict=True) if not o], facecolor="#eeeeee", edgecolor="#ffffff", linewidth=0.1
    )
    ax.add_collection(base)
    shaded = PolyCollection(
        [p for p, o in zip(polys, on, strict=True) if o],
        array=vals[on],
        cmap=cmap,
        norm=Normalize(0.0, vmax),
        edgecolor="#bbbbbb",
        linewidth=0.1,
    )
    ax.add_collection(shaded)
    states = [r for rs in _state_rings() for r in rs]
    ax.add_collection(PolyCollection(states, facecolor="none", edgecolor="#888888", linewidth=0.4))
    if treated_polys:
        ax.add_collection(
            PolyCollection(treated_polys, facecolor="none", edgecolor="#555555", hatch="////", linewidth=0.6)
        )
    if diverted_polys:
        ax.add_collection(PolyCollection(diverted_polys, facecolor="none", edgecolor="black", linewidth=0.8))

    # routes: one line per origin through the seats it visits, coloured by the port reached
    ports_used = sorted({int(p) for p in solution.origin_port if p >= 0})
    palette = ["C0", "C1", "C2", "C4", "C5", "C6", "C8", "C9", "C3", "C7"]  # red last: reads as an alarm
    colours = {p: palette[k % len(palette)] for k, p in enumerate(ports_used)}
    port_names = places.ports().set_index("port_code")["port_name"].to_dict()
    lines, line_colours = [], []
    for k in range(solution.origins.size):
        path = solution.path(k)
        if path.size:
            lines.append(np.column_stack([graph.lon[path], graph.lat[path]]))
            line_colours.append(colours[int(solution.origin_port[k])])
    ax.add_collection(LineCollection(lines, colors=line_colours, linewidths=1.6, alpha=0.9))
    o = solution.origins
    ax.scatter(graph.lon[o], graph.lat[o], marker="^", s=36, c="black", zorder=5)
    twin = graph.port_twin
    share = solution.flow_share
    ax.scatter(
        graph.lon[twin],
        graph.lat[twin],
        s=20 + 600 * share,
        marker="s",
        facecolor="#1f77b4",
        edgecolor="white",
        alpha=0.8,
        zorder=6,
    )
    # label the five busiest twin municipalities once each (several ports share Tijuana, Mexicali, Juarez)
    by_twin: dict[int, list[int]] = {}
    for p in np.argsort(-share, kind="stable"):
        by_twin.setdefault(int(twin[p]), []).append(int(p))
    top = sorted(by_twin.items(), key=lambda kv: -float(share[kv[1]].sum()))[:5]
    placed: list[tuple[float, float]] = []
    for m, ps in top:
        if share[ps].sum() <= 0:
            continue
        near = sum(abs(graph.lon[m] - x) < 4.0 and abs(graph.lat[m] - y) < 1.0 for x, y in placed)
        placed.append((float(graph.lon[m]), float(graph.lat[m])))
        text = ", ".join(
            f"{port_names.get(graph.port_codes[p], graph.port_codes[p])} {share[p]:.0%}"
            for p in ps
            if share[p] >= 0.005
        )
        ax.annotate(
            text,
            (graph.lon[m], graph.lat[m]),
            xytext=(4, -10 - 10 * near),
            textcoords="offset points",
            fontsize=7,
            zorder=7,
        )
    ax.set_xlim(-118.6, -86.5)
    ax.set_ylim(14.3, 33.0)
    ax.set_aspect(1.0 / np.cos(np.radians(24.0)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=11, loc="left")

    handles: list[Line2D | Patch] = [
        Line2D([], [], color=colours[p], lw=2, label=f"route to {port_names.get(c, c)} ({c})")
        for p in ports_used
        for c in [str(graph.port_codes[p])]
    ]
    handles += [
        Line2D([], [], marker="^", color="black", lw=0, label="origin (producing region, assumption)"),
        Line2D([], [], marker="s", color="#1f77b4", lw=0, label="land port (size: share of flow)"),
    ]
    if treated_polys:
        handles.append(Patch(facecolor="none", edgecolor="#555555", hatch="////", label="crackdown"))
    if diverted is not None:
        handles.append(Patch(facecolor="none", edgecolor="black", label=f"diverted onto ({int(diverted.sum())})"))
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    cax = fig.add_axes((0.84, 0.25, 0.02, 0.5))
    fig.colorbar(shaded, cax=cax, label="n_routes (origin routes through the municipality)")
    foot = f"{FOOTER}: cartelsim route model after Dell (AER 2015), municipal graph, congestion at the ports"
    fig.text(0.01, 0.015, foot + (f"; {stamp}" if stamp else ""), fontsize=7, color="#444444")
    write_file(out, lambda tmp: fig.savefig(tmp, format="png"), overwrite=True)
    return out
