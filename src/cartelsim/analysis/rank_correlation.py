"""Rank-correlation sensitivity (Spearman and PRCC) for designs without Morris or Sobol structure.

A Latin hypercube (or any random) design has no elementary effects and no Saltelli matrices, so Morris
and Sobol indices do not apply; the usual screening on such a design ranks the factors by how
monotonically the outcome follows each of them (Marino, Hogue, Ray & Kirschner 2008, "A methodology for
performing global uncertainty and sensitivity analysis in systems biology", J. Theor. Biol. 254:178-196;
Saltelli et al. 2004, Sensitivity Analysis in Practice, ch. 1):

- **Spearman's rho** between each factor and the outcome (the Pearson correlation of their ranks);
- **PRCC**, the partial rank correlation coefficient: the correlation of the residuals of the factor's
  ranks and of the outcome's ranks, each regressed linearly on the ranks of every *other* factor. It
  removes the other factors' (linear-in-rank) effects, so it separates factors that Spearman's rho mixes
  up when the outcome depends on several.

Both are dimensionless, in [-1, 1]; they capture monotone effects only (a U-shaped effect scores about 0).
The p-value of a PRCC tests zero partial correlation with Student's t on ``n - 2 - (k - 1)`` degrees of
freedom (k factors, n rows; Marino et al. 2008, eq. 9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cartelsim.analysis.figures import finish_figure

__all__ = ["plot_rank_correlations", "rank_correlations"]


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(a, axis=0), dtype=np.float64)  # ties get their mean rank


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b / den) if den > 0 else float("nan")


def rank_correlations(X: pd.DataFrame, y: np.ndarray | pd.Series) -> pd.DataFrame:
    """Spearman's rho and the partial rank correlation (PRCC) of each factor with the outcome.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per model evaluation (e.g. a design row), one numeric column per factor, in its unit.
    y : array-like
        One outcome value per row of ``X`` (outcome unit); NaN is an error (drop failed rows first).

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, spearman, prcc, prcc_p`` (dimensionless; ``prcc_p`` is the two-sided p-value
        of PRCC = 0), in the column order of ``X``. A constant factor gets NaN.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(500, 3)), columns=["a", "b", "inert"])
    >>> t = rank_correlations(X, np.exp(3 * X["a"]) + X["b"])
    >>> t["prcc"].round(1).tolist()  # b's effect is hidden in Spearman's rho, not in the PRCC
    [1.0, 0.8, 0.0]
    >>> abs(t["spearman"]).round(1).tolist()
    [1.0, 0.0, 0.0]

    """
    from scipy import stats

    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise ValueError("X must be a DataFrame with at least one factor column")
    non_numeric = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValueError(f"rank correlations take numeric factors only; non-numeric: {', '.join(non_numeric)}")
    x = X.to_numpy(dtype=np.float64)
    yv = np.asarray(y, dtype=np.float64)
    if yv.shape != (len(X),):
        raise ValueError(f"y must hold one value per row of X: expected ({len(X)},), got {yv.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(yv))):
        raise ValueError("X or y holds NaN or infinite values; drop those rows (failed experiments) first")
    n, k = x.shape
    if n < k + 3:
        raise ValueError(f"PRCC needs at least {k + 3} rows for {k} factors (n - k - 1 > 1), got {n}")
    rx, ry = _ranks(x), _ranks(yv)
    live = np.ptp(x, axis=0) > 0
    spearman = np.array([_corr(rx[:, j], ry) if live[j] else np.nan for j in range(k)])
    prcc = np.full(k, np.nan)
    for j in np.flatnonzero(live):
        others = np.column_stack([np.ones(n), rx[:, live & (np.arange(k) != j)]])
        coef_x = np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        coef_y = np.linalg.lstsq(others, ry, rcond=None)[0]
        prcc[j] = _corr(rx[:, j] - others @ coef_x, ry - others @ coef_y)
    dof = n - 2 - (int(live.sum()) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = prcc * np.sqrt(dof / (1.0 - prcc**2))
    p = 2.0 * stats.t.sf(np.abs(t), dof)
    return pd.DataFrame({"factor": [str(c) for c in X.columns], "spearman": spearman, "prcc": prcc, "prcc_p": p})


def plot_rank_correlations(
    df: pd.DataFrame, path: str | Path, *, title: str | None = None, note: str | None = None
) -> Path:
    """Bar chart of Spearman's rho and the PRCC per factor (by decreasing ``|prcc|``), written as a PNG.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`rank_correlations`.
    path : str or Path
        Output PNG file.
    title : str, optional
        Figure title.
    note : str, optional
        Small footer text, e.g. the bundle's manifest hash.

    Returns
    -------
    Path
        The written file.

    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lacking = sorted({"factor", "spearman", "prcc"} - set(df.columns))
    if lacking:
        raise ValueError(f"a rank-correlation table needs column(s) {', '.join(lacking)}")
    d = df.iloc[np.argsort(-np.nan_to_num(np.abs(df["prcc"].to_numpy()), nan=-1.0), kind="stable")]
    x = np.arange(len(d))
    fig = Figure(figsize=(max(5.0, 0.7 * len(d) + 2.5), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.bar(x - 0.19, d["spearman"], 0.38, label="Spearman ρ", color="tab:blue")
    ax.bar(x + 0.19, d["prcc"], 0.38, label="PRCC (others' effects removed)", color="tab:orange")
    ax.set_xticks(x, d["factor"], rotation=30, ha="right")
    ax.set_ylabel("rank correlation with the outcome")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.legend(frameon=False)
    return finish_figure(fig, ax, path, title, note)
