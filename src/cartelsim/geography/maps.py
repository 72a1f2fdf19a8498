r"""Choropleth maps of Mexico by state or municipality, offline, from the bundled TopoJSON (matplotlib only).

- :func:`choropleth` draws any values keyed by INEGI code (2-digit state or 5-digit municipality codes):
  one filled polygon per ring (a :class:`~matplotlib.collections.PolyCollection`; larger polygons first,
  so enclaves stay visible), state outlines on top, a colour bar with units, a title and a footer.
  Values run from pale to dark (``YlOrRd``, square-root scale, since violence is concentrated);
  differences use a diverging palette (``RdBu_r``) centred on zero.
- :func:`bundle_map` maps one outcome of a result bundle at a date, for one policy or as the
  difference between two (``vs``), with the bundle's manifest hash and "model output under stated
  assumptions" in the footer. Flows are shown per week; with several replicates the map shows the
  median across replicates (of the paired differences, for ``vs``).

Only public geography is drawn: state and municipality polygons (INEGI via mxmaps).

Examples
--------
>>> import tempfile, pathlib
>>> from cartelsim.geography.maps import choropleth
>>> out = pathlib.Path(tempfile.mkdtemp()) / "states.png"
>>> fig = choropleth({"08": 3.0, "12": 5.0}, "state", title="Example", unit="deaths per week", out=out)
>>> out.read_bytes()[:4] == b"\x89PNG"
True

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartelsim import places
from cartelsim.bundle import check_file, write_file
from cartelsim.topojson import decode_features

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cartelsim.results import Results

__all__ = ["LEVELS", "MapError", "MapValues", "bundle_map", "choropleth", "map_values"]

LEVELS: tuple[str, ...] = ("state", "municipality")
FOOTER_NOTE = "model output under stated assumptions"
MEAN_LAT = 23.6  # degrees: Mexico's mid-latitude, for the plate carree aspect ratio


class MapError(ValueError):
    """A map cannot be drawn from the given bundle and options (the message says why and what exists)."""


@lru_cache(maxsize=2)
def _rings(level: str) -> tuple[list[str], list[npt.NDArray[np.float64]]]:
    """Exterior rings of every polygon of a level, largest first, with their feature codes."""
    if level == "state":
        feats = decode_features(places.state_topology(), "state")
    elif level == "municipality":
        feats = decode_features(places.municipal_topology(), "municipios")
    else:
        raise MapError(f"level {level!r}: must be one of {', '.join(LEVELS)}")
    codes: list[str] = []
    rings: list[npt.NDArray[np.float64]] = []
    for f in feats:
        code = f.id.zfill(2 if level == "state" else 5)
        for poly in f.polygons:
            if poly and len(poly[0]) >= 4:
                codes.append(code)
                rings.append(poly[0])
    area = [abs(float(np.dot(r[:-1, 0], r[1:, 1]) - np.dot(r[1:, 0], r[:-1, 1]))) for r in rings]
    order = np.argsort(area, kind="stable")[::-1]
    return [codes[i] for i in order], [rings[i] for i in order]


def choropleth(
    values: Mapping[str, float] | pd.Series,
    level: str,
    *,
    title: str,
    unit: str,
    footer: str = FOOTER_NOTE,
    diverging: bool = False,
    out: str | Path | None = None,
) -> Figure:
    """Draw a choropleth of Mexico.

    Parameters
    ----------
    values : mapping or pandas.Series
        Values keyed by INEGI code (2-digit states or 5-digit municipalities); codes not given are
        drawn in grey ("no value").
    level : {"state", "municipality"}
        Which polygons to fill. Municipal maps get state outlines on top.
    title : str
        Figure title.
    unit : str
        Colour-bar label (the values' unit).
    footer : str
        Small text at the bottom (provenance: manifest hash, assumptions).
    diverging : bool
        Use a diverging palette centred on zero (for differences).
    out : str or pathlib.Path, optional
        Write a PNG there (parent folders are created).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not attached to pyplot, so nothing global is touched).

    Raises
    ------
    MapError
        If ``level`` is unknown or no given code is a polygon of that level.

    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize, PowerNorm, TwoSlopeNorm
    from matplotlib.figure import Figure

    codes, rings = _rings(level)
    vals = pd.Series(values, dtype=np.float64)
    vals.index = vals.index.astype(str)
    known = set(codes)
    if not (set(vals.index) & known):
        raise MapError(f"none of the {len(vals)} codes given is a {level} of the bundled polygons")
    v = vals.reindex(codes).to_numpy(dtype=np.float64)
    finite = v[np.isfinite(v)]
    if diverging:
        a = float(np.max(np.abs(finite))) if finite.size else 0.0
        a = a if a > 0 else 1.0
        norm: Normalize = TwoSlopeNorm(vcenter=0.0, vmin=-a, vmax=a)
        cmap = colormaps["RdBu_r"]
        scale_note = ""
    else:
        lo = min(0.0, float(finite.min())) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 1.0
        hi = hi if hi > lo else lo + 1.0
        if lo < 0:
            norm, scale_note = Normalize(vmin=lo, vmax=hi), ""
        else:
            norm, scale_note = PowerNorm(gamma=0.5, vmin=0.0, vmax=hi), " (square-root colour scale)"
        cmap = colormaps["YlOrRd"]
    face = np.asarray(cmap(norm(np.where(np.isfinite(v), v, 0.0))))
    face[~np.isfinite(v)] = (0.85, 0.85, 0.85, 1.0)

    fig = Figure(figsize=(10, 7), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.80, 0.82))
    cax = fig.add_axes((0.85, 0.2, 0.025, 0.6))
    edge = 0.15 if level == "municipality" else 0.6
    ax.add_collection(PolyCollection(rings, facecolors=face, edgecolors=(0.3, 0.3, 0.3, 0.6), linewidths=edge))
    if level == "municipality":
        _, state_rings = _rings("state")
        ax.add_collection(PolyCollection(state_rings, facecolors="none", edgecolors="0.15", linewidths=0.6))
    allpts = np.concatenate(rings)
    ax.set_xlim(float(allpts[:, 0].min()) - 0.5, float(allpts[:, 0].max()) + 0.5)
    ax.set_ylim(float(allpts[:, 1].min()) - 0.5, float(allpts[:, 1].max()) + 0.5)
    ax.set_aspect(1.0 / np.cos(np.radians(MEAN_LAT)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=12, loc="left")
    sm = ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, cax=cax)
    cb.set_label(unit + scale_note, fontsize=9)
    cb.ax.tick_params(labelsize=8)
    if np.isnan(v).any():
        fig.text(0.85, 0.15, "grey: no value", fontsize=7, color="0.35")
    fig.text(0.01, 0.015, footer, fontsize=7, color="0.35")
    if out is not None:
        write_file(Path(out), fig.savefig, overwrite=True)
    return fig


class MapValues:
    """Values of one outcome at one date, ready to map (returned by :func:`map_values`).

    Attributes
    ----------
    values : pandas.Series
        Per group code (per week for flows; a median across replicates when there are several).
    level, variable, policy, vs : str
        What was selected (``vs`` is ``""`` for a plain map).
    week : int
        The recorded week shown (the row covering the requested date).
    date : datetime.date
        That week's date.
    weeks_covered : int
        Weeks summed in a flow row (flows are divided by it); 1 for stocks.
    replicates : int
        Replicates summarised.
    title, unit : str
        A title and the colour-bar unit.

    """

    def __init__(
        self,
        values: pd.Series,
        level: str,
        variable: str,
        policy: str,
        vs: str,
        week: int,
        date: dt.date,
        weeks_covered: int,
        replicates: int,
        title: str,
        unit: str,
    ) -> None:
        self.values, self.level, self.variable, self.policy, self.vs = values, level, variable, policy, vs
        self.week, self.date, self.weeks_covered, self.replicates = week, date, weeks_covered, replicates
        self.title, self.unit = title, unit


def _timeline(results: Results) -> tuple[int, int | None, dt.date | None, dt.date | None]:
    """Start year, number of weeks and the run's first and end dates (from the scenario text when it parses)."""
    from cartelsim.scenario import Scenario, ScenarioError

    try:
        sc = Scenario.from_text(results.scenario_text, source="manifest.json")
    except (ScenarioError, KeyError, ValueError, TypeError):
        year = int(results.manifest.get("start_year", 2012))
        return year, None, None, None
    return sc.start.year, sc.n_weeks, sc.start, sc.end


def map_values(
    results: Results,
    variable: str,
    at: dt.date,
    level: str = "state",
    policy: str = "baseline",
    vs: str | None = None,
) -> MapValues:
    """Select one outcome of a bundle at a date, by state or municipality, ready for :func:`choropleth`.

    Parameters
    ----------
    results : Results
        A loaded bundle (:func:`cartelsim.load`) or results in memory.
    variable : str
        Outcome variable (e.g. ``new_conflict_deaths``).
    at : datetime.date
        The date; the recorded row whose interval covers it is shown.
    level : {"state", "municipality"}
        Level of the map.
    policy : str
        Policy to map.
    vs : str, optional
        Another policy (e.g. ``"baseline"``): map ``policy - vs``, paired by replicate.

    Returns
    -------
    MapValues

    Raises
    ------
    MapError
        Unknown level, variable not recorded at that level (the message names what is), date outside
        the run or before the first record, unknown policy.

    """
    from cartelsim.timeline import date_of, week_of
    from cartelsim.variables import VARIABLES, is_flow

    if level not in LEVELS:
        raise MapError(f"--level {level!r}: must be one of {', '.join(LEVELS)}")
    pols = results.policies
    for name, p in (("--policy", policy), ("--vs", vs)):
        if p is not None and p not in pols:
            raise MapError(f"{name} {p!r}: not a policy of this bundle; policies: {', '.join(pols)}")
    if vs is not None and vs == policy:
        raise MapError(f"--vs {vs!r}: the same policy as --policy; pick another one (policies: {', '.join(pols)})")
    o = results.outcomes
    lev = o["level"].astype(str)
    var = o["variable"].astype(str)
    at_level = sorted(set(var[lev == level]))
    if not at_level:
        have = sorted(set(lev) - {"national"}) or ["none"]
        raise MapError(f"no outcome is recorded at level {level!r} in this bundle; levels recorded: {', '.join(have)}")
    if variable not in at_level:
        where = sorted(set(lev[var == variable]))
        also = f"; {variable!r} is recorded at: {', '.join(where)}" if where else ""
        raise MapError(
            f"--variable {variable!r}: not recorded at level {level!r}; recorded there: {', '.join(at_level)}{also}"
        )
    counts = results.replicate_counts()
    n_ok = dict(zip(counts["policy"], counts["ok"].astype(int), strict=True))
    n_total = dict(zip(counts["policy"], counts["total"].astype(int), strict=True))
    for name, p in (("--policy", policy), ("--vs", vs)):
        if p is not None and n_ok[p] == 0:
            raise MapError(f"{name} {p!r}: FAILED (0 of {n_total[p]} replicates succeeded); nothing to map")
    start_year, n_weeks, start, end = _timeline(results)
    if start is not None and end is not None and not start <= at < end:
        raise MapError(f"--at {at}: outside the run ({start} to {end}, end exclusive)")
    ok_ids = results.experiments.loc[results.experiments["status"] == "ok", "experiment_id"]
    keep = (lev == level) & (var == variable) & o["experiment_id"].isin(ok_ids)
    sub = o.loc[keep, ["policy", "replicate", "week", "group", "value"]]
    sub = sub.astype({"policy": str, "group": str})
    weeks = np.unique(sub["week"].to_numpy())
    target = week_of(at, start_year)
    shown = weeks[weeks <= target]
    if shown.size == 0:
        raise MapError(f"--at {at}: before the first {level} record ({date_of(int(weeks[0]), start_year)})")
    week = int(shown[-1])
    step = int(np.min(np.diff(weeks))) if weeks.size > 1 else (n_weeks - week if n_weeks else 1)
    if n_weeks is not None and target >= week + step and target < n_weeks:
        raise MapError(f"--at {at}: no {level} record covers that date")
    covered = min(step, n_weeks - week) if n_weeks is not None else step
    flow = is_flow(variable)
    scale = 1.0 / covered if flow else 1.0
    rows = sub[sub["week"] == week]

    def wide(p: str) -> pd.DataFrame:
        return rows[rows["policy"] == p].pivot(index="replicate", columns="group", values="value")

    a = wide(policy)
    if a.empty:
        raise MapError(f"--policy {policy!r}: no {level} rows for it")
    if vs is not None:
        b = wide(vs)
        common = a.index.intersection(b.index)
        if common.empty:
            raise MapError(f"--vs {vs!r}: no replicate in common with {policy!r}")
        diff = a.loc[common] - b.loc[common, a.columns]
        vals, n_rep = diff.median(axis=0) * scale, len(common)
    else:
        vals, n_rep = a.median(axis=0) * scale, len(a)
    meta = VARIABLES.get(variable)
    label = meta.label if meta else variable
    unit = meta.unit if meta else variable
    if flow and "per week" not in unit:
        unit = f"{unit} per week"
    if vs is not None:
        unit = f"difference, {unit}"
    d = date_of(week, start_year)
    span = f"week of {d}" if not flow or covered == 1 else f"{covered} weeks from {d}, per week"
    what = f"{policy} minus {vs}" if vs is not None else policy
    total = n_total[policy]
    stat = f"median of {n_rep} replicates" if n_rep > 1 else "one replicate"
    if n_rep < total:
        stat += f" ({n_rep} of {total} succeeded)"
    title = f"{label} by {level}: {what}\n{span}; {stat}"
    return MapValues(vals, level, variable, policy, vs or "", week, d, covered, n_rep, title, unit)


def bundle_map(
    results: Results,
    variable: str,
    at: dt.date,
    level: str = "state",
    policy: str = "baseline",
    vs: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = True,
) -> Path:
    """Map one outcome of a bundle at a date and write a PNG.

    Parameters
    ----------
    results : Results
        A loaded bundle.
    variable, at, level, policy, vs
        As for :func:`map_values`.
    out : str or pathlib.Path, optional
        PNG path (default ``map_<variable>_<level>_<policy>[_vs_<vs>]_<date>.png`` in the current folder).
    overwrite : bool
        Whether an existing file at the path may be replaced (a folder never is).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    MapError
        As for :func:`map_values`.
    cartelsim.bundle.BundleExistsError, cartelsim.bundle.BundleRefusedError
        The path exists and ``overwrite`` is False, or is a folder.

    """
    mv = map_values(results, variable, at, level, policy, vs)
    name = f"map_{variable}_{level}_{policy}" + (f"_vs_{vs}" if vs else "") + f"_{mv.date.isoformat()}.png"
    path = Path(out) if out is not None else Path(name)
    check_file(path, overwrite)
    m = results.manifest
    footer = (
        f"cartelsim {m.get('package_version', '')} | {m.get('scenario_name', '')} | manifest {results.hash} | "
        f"{FOOTER_NOTE} | polygons: INEGI via mxmaps (BSD-3)"
    )
    choropleth(mv.values, level, title=mv.title, unit=mv.unit, footer=footer, diverging=vs is not None, out=path)
    return path
