"""PRIM scenario discovery: which ranges of which assumptions hold the cases of interest.

A compact Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in high-dimensional
data", Statistics and Computing 9:123-143), used for scenario discovery as in Bryant & Lempert (2010)
and the EMA Workbench: start from the box holding every case, repeatedly peel off the ``alpha`` share
of the cases in the box at the low or high end of one factor, choosing the peel that leaves the highest
share of cases of interest (density), until a further peel would leave less than ``mass_min`` of all
cases. Each box on this peeling trajectory has a coverage (share of all cases of interest inside it),
a density (share of cases inside it that are of interest) and a mass (share of all cases inside it).

Choice of box: the box with the highest coverage among those whose density reaches ``threshold``
(coverage only falls along the trajectory, so this is the first such box); if none does, the densest
box, flagged ``meets_threshold=False``. Simplifications against F&F: no pasting phase, numeric factors
only, and peeling stops once a box's density is 1 (any further peel only loses coverage). Ties between
peels go to the one that restricts no new factor, then to the one removing fewer cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cartelsim.analysis.figures import finish_figure

__all__ = ["PrimResult", "plot_trajectory", "prim"]


@dataclass(frozen=True, eq=False)
class PrimResult:
    """A peeling trajectory and the box chosen on it.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        One row per box: ``box`` (0 = every case), ``n`` (cases inside), ``mass``, ``coverage``,
        ``density`` (shares, 0..1), ``res_dim`` (number of restricted factors), ``restricted``
        (their names, comma-separated).
    lows, highs : numpy.ndarray
        Box limits, shape ``(n_boxes, n_factors)``, in the factors' units (closed intervals).
    names : tuple of str
        Factor names, in column order.
    chosen : int
        Index of the chosen box on the trajectory.
    threshold : float
        Density the choice required.
    meets_threshold : bool
        Whether the chosen box's density reaches ``threshold``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(1000, 2)), columns=["a", "b"])
    >>> r = prim(X, X["a"].to_numpy() > 0.7, threshold=0.95)
    >>> r.limits.round(2)
      factor  low  high restricted
    0      a  0.7   1.0        low
    >>> round(r.coverage, 2), round(r.density, 2)
    (1.0, 1.0)

    """

    trajectory: pd.DataFrame
    lows: np.ndarray
    highs: np.ndarray
    names: tuple[str, ...]
    chosen: int
    threshold: float
    meets_threshold: bool

    def box_limits(self, i: int) -> pd.DataFrame:
        """Limits of box ``i`` on its restricted factors.

        Returns
        -------
        pandas.DataFrame
            Columns ``factor, low, high, restricted`` (``"low"``, ``"high"`` or ``"both"``: which ends
            are restricted; an unrestricted end holds the data's own minimum or maximum).

        """
        lo, hi = self.lows[i], self.highs[i]
        cut_lo, cut_hi = lo > self.lows[0], hi < self.highs[0]
        keep = np.flatnonzero(cut_lo | cut_hi)
        side = np.where(cut_lo & cut_hi, "both", np.where(cut_lo, "low", "high"))
        return pd.DataFrame(
            {
                "factor": [self.names[j] for j in keep],
                "low": lo[keep],
                "high": hi[keep],
                "restricted": side[keep],
            }
        )

    @property
    def limits(self) -> pd.DataFrame:
        """Limits of the chosen box on its restricted factors (see :meth:`box_limits`)."""
        return self.box_limits(self.chosen)

    def _stat(self, col: str) -> float:
        return float(self.trajectory[col].iloc[self.chosen])

    @property
    def coverage(self) -> float:
        """Share of all cases of interest inside the chosen box."""
        return self._stat("coverage")

    @property
    def density(self) -> float:
        """Share of the chosen box's cases that are of interest."""
        return self._stat("density")

    @property
    def mass(self) -> float:
        """Share of all cases inside the chosen box."""
        return self._stat("mass")


def prim(
    X: pd.DataFrame,
    y: np.ndarray | pd.Series,
    *,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
) -> PrimResult:
    """Find a box of factor ranges where the cases of interest concentrate.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per case (e.g. replicate of a sweep), one numeric column per factor, in its unit.
    y : array-like of bool
        Cases of interest (e.g. the strike campaign's toll below prevention's); 0/1 is accepted.
    alpha : float
        Share of the box's cases removed by one peel, in (0, 0.5).
    mass_min : float
        Smallest box mass (share of all cases) peeling may reach, in (0, 1).
    threshold : float
        Density the chosen box must reach, in (0, 1].

    Returns
    -------
    PrimResult

    """
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0 or len(X) == 0:
        raise ValueError("X must be a non-empty DataFrame with one column per factor")
    non_numeric = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValueError(f"PRIM takes numeric factors only; non-numeric column(s): {', '.join(non_numeric)}")
    x = X.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("X holds NaN or infinite values; drop those cases first")
    yv = np.asarray(y)
    if yv.shape != (len(X),):
        raise ValueError(f"y must hold one value per row of X: expected ({len(X)},), got {yv.shape}")
    if yv.dtype != bool:
        if not np.all(np.isin(yv, (0, 1))):
            raise ValueError("y must be boolean (or 0/1); drop cases with a missing outcome first")
        yv = yv.astype(bool)
    if not yv.any():
        raise ValueError("y has no case of interest: there is nothing to find")
    if not 0 < alpha < 0.5 or not 0 < mass_min < 1 or not 0 < threshold <= 1:
        raise ValueError("need 0 < alpha < 0.5, 0 < mass_min < 1 and 0 < threshold <= 1")

    n, k = x.shape
    n_pos = int(yv.sum())
    lo, hi = x.min(axis=0), x.max(axis=0)
    inside = np.ones(n, dtype=bool)
    lows, highs = [lo.copy()], [hi.copy()]
    rows: list[tuple[int, int, float, float, float, int, str]] = []

    def record(mask: np.ndarray) -> None:
        m, pos = int(mask.sum()), int(yv[mask].sum())
        restricted = [str(X.columns[j]) for j in range(k) if lows[-1][j] > lo[j] or highs[-1][j] < hi[j]]
        rows.append((len(rows), m, m / n, pos / n_pos, pos / m, len(restricted), ",".join(restricted)))

    record(inside)
    while rows[-1][4] < 1.0:
        xb, yb = x[inside], yv[inside]
        restricted_now = (lows[-1] > lo) | (highs[-1] < hi)
        best: tuple[float, int, int] | None = None
        best_peel: tuple[int, bool, np.ndarray] | None = None
        for j in range(k):
            col = xb[:, j]
            for upper in (False, True):
                q = np.quantile(col, 1 - alpha if upper else alpha)
                keep = col <= q if upper else col >= q
                if keep.all():  # ties at the end: peel the whole tied value
                    keep = col < q if upper else col > q
                n_keep = int(keep.sum())
                if n_keep == 0 or n_keep == len(col) or n_keep < mass_min * n:
                    continue
                score = (float(yb[keep].mean()), -int(not restricted_now[j]), n_keep)
                if best is None or score > best:
                    best, best_peel = score, (j, upper, keep)
        if best_peel is None:
            break
        j, upper, keep = best_peel
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        new_lo, new_hi = lows[-1].copy(), highs[-1].copy()
        # Only the peeled end moves: the box stays exactly the cases within all limits.
        if upper:
            new_hi[j] = x[inside, j].max()
        else:
            new_lo[j] = x[inside, j].min()
        lows.append(new_lo)
        highs.append(new_hi)
        record(inside)

    traj = pd.DataFrame(rows, columns=["box", "n", "mass", "coverage", "density", "res_dim", "restricted"])
    ok = np.flatnonzero(traj["density"].to_numpy() >= threshold)
    chosen = int(ok[0]) if ok.size else int(traj["density"].to_numpy().argmax())
    return PrimResult(
        trajectory=traj,
        lows=np.asarray(lows),
        highs=np.asarray(highs),
        names=tuple(str(c) for c in X.columns),
        chosen=chosen,
        threshold=float(threshold),
        meets_threshold=bool(ok.size),
    )


def plot_trajectory(result: PrimResult, path: str | Path, *, title: str | None = None, note: str | None = None) -> Path:
    """Plot the peeling trajectory, coverage against density coloured by restricted factors, as a PNG.

    Parameters
    ----------
    result : PrimResult
        Output of :func:`prim`.
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
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure

    t = result.trajectory
    fig = Figure(figsize=(6.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    top = max(int(t["res_dim"].max()), 1)
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), ncolors=256)
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", norm=norm, s=18)
    fig.colorbar(sc, ax=ax, label="restricted factors", ticks=range(top + 1))
    c = result.chosen
    ax.scatter(
        [t["coverage"].iloc[c]],
        [t["density"].iloc[c]],
        s=120,
        facecolors="none",
        edgecolors="red",
        label=f"chosen box {c}",
    )
    ax.axhline(result.threshold, color="0.5", linestyle=":", linewidth=1, label=f"threshold {result.threshold:g}")
    ax.set_xlabel("coverage (share of cases of interest in the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False, loc="lower left")
    return finish_figure(fig, ax, path, title, note)
