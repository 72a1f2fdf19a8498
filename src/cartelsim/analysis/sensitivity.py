"""Global sensitivity indices (Morris, Sobol) of one outcome over a sweep's design, via SALib.

The functions take a :class:`~cartelsim.sampling.Design` (read back from the bundle's manifest with
``Design.from_manifest``) and one value per design row, which :func:`outcome_vector` extracts from the
bundle's ``outcomes`` and ``experiments`` tables (a sweep runs design row r as replicate r). They never
run a model.

Units: Morris ``mu``, ``mu_star`` and ``sigma`` are in the outcome's unit per whole factor range, the
range measured on the unit (quantile) scale the design was drawn on (Morris 1991; SALib's elementary
effects divide by the step on that scale). Sobol indices are shares of the outcome's variance
(dimensionless; Saltelli et al. 2010). Confidence half-widths come from SALib's bootstrap, seeded from
the design's seed unless given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from cartelsim.analysis.figures import finish_figure
from cartelsim.sampling import Design

__all__ = ["morris_indices", "outcome_vector", "plot_sensitivity", "sobol_indices", "sobol_second_order"]


def _salib_seed(design: Design, seed: int | None) -> int:
    # SALib's Sobol analysis falls back to the global np.random.randint when its seed is falsy (0 or
    # None), so always hand it a positive integer derived from the seed.
    base = design.seed if seed is None else int(seed)
    return int(np.random.SeedSequence(base).generate_state(1)[0]) or 1


def _check_y(design: Design, y: np.ndarray, method: str) -> np.ndarray:
    if design.method != method:
        raise ValueError(f"{method} indices need a {method} design; this design is {design.method!r}")
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or y.shape[0] != design.n_rows:
        raise ValueError(f"y must hold one value per design row: expected shape ({design.n_rows},), got {y.shape}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:20]) + (", ..." if bad.size > 20 else "")
        raise ValueError(
            f"y has {bad.size} missing or non-finite value(s) of {y.shape[0]}, at replicates (design rows) "
            f"{shown}; {method} indices need every design row: rerun the failed experiments"
        )
    return y


def morris_indices(
    design: Design,
    y: np.ndarray,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Morris elementary-effect statistics (mu, mu*, sigma) for each factor.

    Parameters
    ----------
    design : Design
        A ``"morris"`` design.
    y : numpy.ndarray
        One outcome value per design row (outcome unit); NaN (a failed experiment) is an error.
    conf_level : float
        Level of the bootstrap confidence interval on ``mu_star``.
    num_resamples : int
        Bootstrap resamples.
    seed : int, optional
        Bootstrap seed; default: derived from the design's seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, mu, mu_star, sigma, mu_star_conf`` (outcome unit per factor range on the
        quantile scale; ``mu_star_conf`` is the half-width), in design factor order.

    """
    from SALib.analyze import morris

    y = _check_y(design, y, "morris")
    si = morris.analyze(
        design.problem(),
        np.asarray(design.unit_samples),
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=design.options["num_levels"],
        seed=_salib_seed(design, seed),
    )
    return pd.DataFrame(
        {
            "factor": design.names,
            "mu": np.asarray(si["mu"], dtype=np.float64),
            "mu_star": np.asarray(si["mu_star"], dtype=np.float64),
            "sigma": np.asarray(si["sigma"], dtype=np.float64),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=np.float64),
        }
    )


def _sobol(design: Design, y: np.ndarray, conf_level: float, num_resamples: int, seed: int | None) -> Any:
    from SALib.analyze import sobol

    y = _check_y(design, y, "sobol")
    if np.ptp(y) == 0:
        raise ValueError("y is constant over the design: Sobol indices (shares of its variance) are undefined")
    return sobol.analyze(
        design.problem(),
        y,
        calc_second_order=design.options["calc_second_order"],
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=_salib_seed(design, seed),
    )


def sobol_indices(
    design: Design,
    y: np.ndarray,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    seed: int | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol indices for each factor (Saltelli et al. 2010 estimators).

    Parameters
    ----------
    design : Design
        A ``"sobol"`` design.
    y : numpy.ndarray
        One outcome value per design row; NaN (a failed experiment) is an error.
    conf_level : float
        Level of the bootstrap confidence intervals.
    num_resamples : int
        Bootstrap resamples.
    seed : int, optional
        Bootstrap seed; default: derived from the design's seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, S1, S1_conf, ST, ST_conf`` (shares of variance, dimensionless;
        ``_conf`` are half-widths), in design factor order.

    """
    si = _sobol(design, y, conf_level, num_resamples, seed)
    return pd.DataFrame(
        {
            "factor": design.names,
            **{k: np.asarray(si[k], dtype=np.float64) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        }
    )


def sobol_second_order(
    design: Design,
    y: np.ndarray,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    seed: int | None = None,
) -> pd.DataFrame:
    """Second-order Sobol indices for each pair of factors.

    Parameters
    ----------
    design : Design
        A ``"sobol"`` design drawn with ``calc_second_order=True``.
    y : numpy.ndarray
        One outcome value per design row.
    conf_level : float
        Level of the bootstrap confidence intervals.
    num_resamples : int
        Bootstrap resamples.
    seed : int, optional
        Bootstrap seed; default: derived from the design's seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor_i, factor_j, S2, S2_conf`` (shares of variance), one row per pair i < j.

    """
    if not design.options.get("calc_second_order"):
        raise ValueError("second-order indices need a sobol design drawn with calc_second_order=True")
    si = _sobol(design, y, conf_level, num_resamples, seed)
    i, j = np.triu_indices(len(design.factors), k=1)
    names = np.asarray(design.names)
    return pd.DataFrame(
        {
            "factor_i": names[i],
            "factor_j": names[j],
            "S2": np.asarray(si["S2"], dtype=np.float64)[i, j],
            "S2_conf": np.asarray(si["S2_conf"], dtype=np.float64)[i, j],
        }
    )


def _one_policy(sel: pd.DataFrame, experiments: pd.DataFrame, policy: str, what: str, n_rep: int) -> np.ndarray:
    exp = experiments[experiments["policy"] == policy]
    values = sel.loc[sel["experiment_id"].isin(exp["experiment_id"]), ["experiment_id", "value"]]
    if values["experiment_id"].duplicated().any():
        raise ValueError(f"outcomes hold more than one row per experiment for {what}")
    by_id = values.set_index("experiment_id")["value"]
    out = np.full(n_rep, np.nan)
    ok = exp[exp["status"] == "ok"]
    missing = ok.loc[~ok["experiment_id"].isin(by_id.index), "replicate"].tolist()
    if missing:
        raise ValueError(
            f"no outcome row for {what} under policy {policy!r} at replicate(s) "
            f"{', '.join(map(str, sorted(missing)[:20]))}{', ...' if len(missing) > 20 else ''}"
        )
    reps = ok["replicate"].to_numpy(dtype=np.int64)
    out[reps] = by_id.loc[ok["experiment_id"]].to_numpy(dtype=np.float64)
    return out


def outcome_vector(
    outcomes: pd.DataFrame,
    experiments: pd.DataFrame,
    *,
    variable: str,
    week: int,
    policy: str,
    vs: str | None = None,
    level: str = "national",
    group: str = "",
) -> np.ndarray:
    """One outcome value per replicate (= design row), optionally minus the paired value under ``vs``.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        The bundle's long outcomes table (``experiment_id, scenario, policy, replicate, week, date,
        level, group, variable, value``).
    experiments : pandas.DataFrame
        The bundle's experiments table (``experiment_id, policy, replicate, status, ...``).
    variable : str
        Outcome variable, e.g. ``new_deaths_all_est`` (its unit per DESIGN.md).
    week : int
        Recorded week (week 0 is the scenario's start).
    policy : str
        Policy whose values are taken.
    vs : str, optional
        A second policy: the result is ``policy - vs``, paired by replicate.
    level, group : str
        Level and group of the rows (``"national"`` and ``""`` by default).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(replicates,)``, ordered by replicate; NaN where the experiment (under
        ``policy`` or ``vs``) failed. The analysis functions refuse NaN; PRIM callers drop those rows.

    """
    need_e = {"experiment_id", "policy", "replicate", "status"}
    need_o = {"experiment_id", "week", "level", "group", "variable", "value"}
    for name, table, need in (("experiments", experiments, need_e), ("outcomes", outcomes, need_o)):
        lacking = sorted(need - set(table.columns))
        if lacking:
            raise ValueError(f"{name} table lacks column(s) {', '.join(lacking)}")
    if "scenario" in experiments.columns and experiments["scenario"].nunique() > 1:
        raise ValueError("experiments hold more than one scenario; select one first")
    policies = sorted(map(str, experiments["policy"].unique()))
    for p in (policy, vs):
        if p is not None and p not in policies:
            raise ValueError(f"unknown policy {p!r}; the bundle has: {', '.join(policies)}")
    if vs == policy:
        raise ValueError(f"vs must name another policy than {policy!r}")
    reps = {
        p: np.sort(experiments.loc[experiments["policy"] == p, "replicate"].to_numpy(dtype=np.int64))
        for p in (policy, vs)
        if p is not None
    }
    for p, r in reps.items():
        if not np.array_equal(r, np.arange(r.size)):
            raise ValueError(f"policy {p!r}: replicates are not exactly 0..{r.size - 1}, one row each")
    n_rep = reps[policy].size
    if vs is not None and reps[vs].size != n_rep:
        raise ValueError(f"policies {policy!r} and {vs!r} have different numbers of replicates")

    variables = sorted(map(str, outcomes["variable"].unique()))
    if variable not in variables:
        raise ValueError(f"unknown variable {variable!r}; the bundle has: {', '.join(variables)}")
    sel = outcomes[(outcomes["variable"] == variable) & (outcomes["level"] == level)]
    if sel.empty:
        levels = sorted(map(str, outcomes.loc[outcomes["variable"] == variable, "level"].unique()))
        raise ValueError(f"variable {variable!r} has no rows at level {level!r}; levels: {', '.join(levels)}")
    sel = sel[sel["group"] == group]
    if sel.empty:
        raise ValueError(f"no {variable!r} rows for group {group!r} at level {level!r}")
    weeks = np.unique(sel["week"].to_numpy())
    if int(week) not in weeks:
        near = weeks[np.argsort(np.abs(weeks - int(week)))[:3]]
        raise ValueError(
            f"week {week} is not recorded for {variable!r}; recorded weeks run {weeks.min()}..{weeks.max()}"
            f", nearest: {', '.join(map(str, sorted(near)))}"
        )
    sel = sel[sel["week"] == int(week)]
    what = f"{variable!r} at week {week} ({level}{'/' + group if group else ''})"
    out = _one_policy(sel, experiments, policy, what, n_rep)
    if vs is not None:
        out = out - _one_policy(sel, experiments, vs, what, n_rep)
    return out


def plot_sensitivity(
    df: pd.DataFrame,
    method: Literal["morris", "sobol"],
    path: str | Path,
    *,
    title: str | None = None,
    note: str | None = None,
) -> Path:
    """Bar chart of sensitivity indices, written as a PNG.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`morris_indices` (bars: ``mu_star`` with its confidence half-width, and
        ``sigma``) or :func:`sobol_indices` (bars: ``S1`` and ``ST`` with theirs).
    method : {"morris", "sobol"}
        Which kind of table ``df`` is.
    path : str or Path
        Output PNG file.
    title : str, optional
        Figure title, e.g. the outcome and week.
    note : str, optional
        Small footer text, e.g. the bundle's manifest hash.

    Returns
    -------
    Path
        The written file.

    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if method == "morris":
        cols, ylabel = ("mu_star", "sigma"), "elementary effect (outcome unit)"
        errs: tuple[str | None, str | None] = ("mu_star_conf", None)
        labels = ("μ* (mean |effect|)", "σ (spread: interactions, non-linearity)")
    elif method == "sobol":
        cols, errs, ylabel = ("S1", "ST"), ("S1_conf", "ST_conf"), "share of variance"
        labels = ("S1 (first order)", "ST (total)")
    else:
        raise ValueError(f"unknown method {method!r}; allowed: morris, sobol")
    lacking = sorted({"factor", *cols, *(e for e in errs if e)} - set(df.columns))
    if lacking:
        raise ValueError(f"a {method} table needs column(s) {', '.join(lacking)}")
    d = df.sort_values(cols[1] if method == "sobol" else cols[0], ascending=False)
    x = np.arange(len(d))
    fig = Figure(figsize=(max(5.0, 0.7 * len(d) + 2.5), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    width = 0.38
    for k, (col, err, label) in enumerate(zip(cols, errs, labels, strict=True)):
        ax.bar(
            x + (k - 0.5) * width,
            d[col],
            width,
            yerr=None if err is None else d[err],
            capsize=3,
            label=label,
            color=("tab:blue", "tab:orange")[k],
        )
    ax.set_xticks(x, d["factor"], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.legend(frameon=False)
    return finish_figure(fig, ax, path, title, note)
