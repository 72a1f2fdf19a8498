"""Scenario discovery on a sweep bundle: the ranges of the assumptions where one policy does better.

The glue under ``cartelsim discover``. The cases are the replicates (= design rows of a sweep); a case is
*of interest* when ``policy``'s value is strictly below ``vs``'s in the same replicate (paired: the same
design row and seed), or below ``vs``'s plus a margin (:class:`Margin`: an amount in the outcome's unit,
or a share of ``vs``'s value in that replicate), which asks where a policy is *at most* that much worse.
:func:`discover` runs PRIM (:mod:`.prim`) on the replicates' sampled assumptions:
the design's factors, plus any intervention key drawn per replicate under ``policy`` or ``vs`` (its
experiments column, e.g. ``strike_campaign.strikes_per_week``). Failed experiments are left out and
named; an outcome with no case of interest is an answer (nowhere in the sampled ranges), not an error.

This asks which *assumptions about the world* make one policy come out ahead; it never searches for where
or whom to strike (DESIGN.md, "The line we hold").

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame(rng.uniform(size=(400, 2)), columns=["a", "b"])
>>> d = discover_cases(X, np.where(X["a"] > 0.75, -1.0, 1.0), threshold=0.9)
>>> round(d.share, 2), d.result.limits["factor"].tolist()
(0.29, ['a'])

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartelsim.analysis.prim import PrimResult, prim
from cartelsim.analysis.sweeps import SweepBundle, SweepError, SweepOutcome

__all__ = ["Discovery", "Margin", "discover", "discover_cases", "factor_frame"]


@dataclass(frozen=True)
class Margin:
    """How much worse than ``vs`` a case may be and still count: ``policy < vs + amount + share * vs``.

    Parameters
    ----------
    amount : float
        In the outcome's unit (e.g. deaths over the window); 0 by default.
    share : float
        Of ``vs``'s own value in the same replicate (0.01 = 1%); 0 by default.

    Examples
    --------
    >>> Margin.parse("2%"), Margin.parse("-5000")
    (Margin(amount=0.0, share=0.02), Margin(amount=-5000.0, share=0.0))
    >>> f"below vs {Margin(amount=-5000.0, share=0.02)}"
    'below vs - 5000 + 2% of vs'


    """

    amount: float = 0.0
    share: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Margin:
        """Read ``"2%"`` (a share of ``vs``'s value) or ``"5000"`` (an amount in the outcome's unit)."""
        t = text.strip()
        try:
            if t.endswith("%"):
                v = float(t[:-1]) / 100.0
                if np.isfinite(v):
                    return cls(share=v)
            else:
                v = float(t)
                if np.isfinite(v):
                    return cls(amount=v)
        except ValueError:
            pass
        raise SweepError(f"margin {text!r}: write an amount in the outcome's unit (5000) or a share of vs (2%)")

    def __str__(self) -> str:
        """Signed terms to append to "vs", e.g. ``"+ 2% of vs"`` or ``"- 2500"`` (empty for no margin)."""
        parts = [f"{'-' if self.amount < 0 else '+'} {abs(self.amount):g}"] if self.amount else []
        parts += [f"{'-' if self.share < 0 else '+'} {abs(self.share) * 100:g}% of vs"] if self.share else []
        return " ".join(parts)

    def allowance(self, vs_values: np.ndarray | None) -> np.ndarray | float:
        """The margin per case (outcome unit)."""
        if not self.share:
            return self.amount
        if vs_values is None:
            raise SweepError("a margin given as a share needs the values under vs")
        return self.amount + self.share * np.abs(np.asarray(vs_values, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class Discovery:
    """The cases, which are of interest, and PRIM's box.

    Attributes
    ----------
    X : pandas.DataFrame
        The cases kept (index: replicate), one column per assumption, in its unit.
    y : numpy.ndarray
        bool, one per row of ``X``: the case is of interest (``policy`` below ``vs``).
    result : PrimResult or None
        The peeling trajectory and chosen box; ``None`` when no case (or every case) is of interest,
        where there is no box to find.
    dropped : tuple of int
        Replicates left out because an experiment failed (or gave a non-finite value).

    """

    X: pd.DataFrame
    y: np.ndarray
    result: PrimResult | None
    dropped: tuple[int, ...]

    @property
    def n(self) -> int:
        """Cases used."""
        return int(self.y.size)

    @property
    def n_interest(self) -> int:
        """Cases of interest."""
        return int(self.y.sum())

    @property
    def share(self) -> float:
        """Share of the cases used that are of interest (0..1)."""
        return self.n_interest / self.n if self.n else float("nan")


def factor_frame(bundle: SweepBundle, policy: str, vs: str | None = None) -> pd.DataFrame:
    """The replicates' sampled assumptions, one row per replicate (the index), one column per assumption.

    Columns: the design's factors (a sweep), or every sampled parameter (a plain run with
    ``[uncertainty]``), then each other sampled column (a drawn intervention key) that has a finite value
    in every experiment of ``policy`` (else of ``vs``) and varies across replicates. Values are taken from
    that policy's rows (a factor's value is the same under every policy of a replicate).

    Raises
    ------
    SweepError
        If the bundle samples nothing (no design, no uncertain parameter, no drawn key).

    """
    ex = bundle.experiments
    design = bundle.design
    sampled = bundle.sampled_columns()
    first = design.names if design is not None else []
    cols: dict[str, pd.Series] = {}
    for p in (policy, vs):
        if p is None:
            continue
        rows = ex[ex["policy"] == p].set_index("replicate").sort_index()
        for c in [*first, *sampled]:
            if c in cols or c not in rows.columns or not pd.api.types.is_numeric_dtype(rows[c]):
                continue
            v = rows[c].astype(np.float64)
            if c in first or (np.isfinite(v).all() and v.nunique() > 1):
                cols[c] = v
    if not cols:
        raise SweepError(
            "the bundle samples no assumption (no design, no [uncertainty] table, no distribution-valued key): "
            "there is nothing to discover over; run `cartelsim sweep`"
        )
    return pd.DataFrame(cols)


def discover_cases(
    X: pd.DataFrame,
    diff: np.ndarray,
    *,
    allowance: np.ndarray | float = 0.0,
    threshold: float = 0.8,
    alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """PRIM on cases whose paired difference ``diff`` (policy minus vs) is below ``allowance`` (0: below vs).

    Parameters
    ----------
    X : pandas.DataFrame
        One row per case (index: replicate), one numeric column per assumption.
    diff : numpy.ndarray
        One paired difference per row of ``X`` (outcome unit); NaN marks a failed case, left out.
    allowance : float or numpy.ndarray
        How much worse a case may be and still count (outcome unit; per case or one for all), e.g.
        :meth:`Margin.allowance`.
    threshold, alpha, mass_min : float
        PRIM's density threshold, peeling share and smallest box mass (:func:`.prim.prim`).

    Returns
    -------
    Discovery

    """
    diff = np.asarray(diff, dtype=np.float64)
    if diff.shape != (len(X),):
        raise SweepError(f"one difference per case needed: expected ({len(X)},), got {diff.shape}")
    limit = np.broadcast_to(np.asarray(allowance, dtype=np.float64), diff.shape)
    ok = np.isfinite(diff) & np.isfinite(limit)
    bad_x = ~np.isfinite(X.to_numpy(dtype=np.float64)).all(axis=1)
    keep = ok & ~bad_x
    dropped = tuple(int(r) for r in X.index[~keep])
    Xk, y = X.loc[keep], diff[keep] < limit[keep]
    if not y.size:
        raise SweepError("no case left: every experiment failed under one of the two policies")
    result = None
    if 0 < y.sum() < y.size:
        try:
            result = prim(Xk, y, alpha=alpha, mass_min=mass_min, threshold=threshold)
        except ValueError as e:
            raise SweepError(str(e)) from None
    return Discovery(X=Xk, y=y, result=result, dropped=dropped)


def discover(
    bundle: SweepBundle,
    outcome: SweepOutcome,
    *,
    margin: Margin | None = None,
    threshold: float = 0.8,
    alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Which ranges of which assumptions make ``outcome.policy``'s value lower than ``outcome.vs``'s.

    Parameters
    ----------
    bundle : SweepBundle
        The bundle (a sweep, or a run with sampled assumptions).
    outcome : SweepOutcome
        From :func:`.sweeps.sweep_outcome` with ``vs`` set: the paired differences.
    margin : Margin, optional
        Count a case when ``policy`` is below ``vs`` plus this margin (default: strictly below).
    threshold, alpha, mass_min : float
        PRIM's density threshold, peeling share and smallest box mass (:func:`.prim.prim`).

    Returns
    -------
    Discovery

    """
    if outcome.vs is None:
        raise SweepError("discovery compares two policies: give --vs")
    X = factor_frame(bundle, outcome.policy, outcome.vs)
    if len(X) != outcome.values.size or not np.array_equal(X.index.to_numpy(), np.arange(len(X))):
        raise SweepError("the experiments table does not hold one row per replicate 0..n-1 for the policy")
    allowance = (margin or Margin()).allowance(outcome.vs_values)
    return discover_cases(X, outcome.values, allowance=allowance, threshold=threshold, alpha=alpha, mass_min=mass_min)
