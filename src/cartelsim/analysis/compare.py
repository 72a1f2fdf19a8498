"""Compare policies at a date: levels, change vs baseline (paired by replicate) and vs a reference date.

Takes a :class:`~cartelsim.results.Results` (the bundle's tables); never runs a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cartelsim.results import Results
from cartelsim.variables import VARIABLES, is_flow

__all__ = ["COMPARE_VARIABLES", "compare"]

#: Variables shown by ``cartelsim compare`` when present in the bundle.
COMPARE_VARIABLES = (
    "n_members",
    "new_conflict_deaths",
    "new_victims_est",
    "n_cartels",
    "new_fissions",
    "new_strikes",
    "new_leaders_removed",
    "new_assets_destroyed",
    "new_strike_deaths_members",
    "new_civilian_deaths_strikes",
    "new_misidentified_strikes",
    "new_deaths_all_est",
    "trafficking_capacity_index",
)


def _record_step(weeks: np.ndarray) -> int:
    u = np.unique(weeks)
    return int(u[1] - u[0]) if u.size > 1 else 1


def _finite(x: pd.Series) -> pd.Series:
    return x.where(np.isfinite(x))


def compare(
    results: Results,
    at_week: int,
    ref_week: int,
    variables: Sequence[str] | None = None,
    q: Sequence[float] = (0.1, 0.5, 0.9),
) -> pd.DataFrame:
    """Return one row per (policy, variable) with quantiles across replicates.

    Columns: ``policy, variable, label, unit, value_qXX`` (flows per week), ``vs_baseline_qXX``
    (paired relative change, policy / baseline - 1, per replicate, over the replicates that succeeded in
    both) and ``vs_ref_qXX`` (value at ``at_week`` / value at ``ref_week`` - 1, per replicate), then
    ``replicates`` (succeeded) and ``total`` (run). Recorded weeks are used as they are: the nearest
    recorded week at or before the requested one. A policy whose experiments all failed keeps its rows,
    with ``replicates`` 0 and no values: it is never dropped.
    """
    o = results.outcomes
    nat = o[o["level"] == "national"]
    have = list(dict.fromkeys(nat["variable"].astype(str)))
    names = [v for v in (variables or COMPARE_VARIABLES) if v in have]
    if not names:
        raise KeyError(
            f"none of {', '.join(variables or COMPARE_VARIABLES)} recorded nationally; recorded: {', '.join(have)}"
        )
    rows = []
    totals = {p: int(n) for p, n in results.replicate_counts().set_index("policy")["total"].items()}
    ok = results.experiments.loc[results.experiments["status"] == "ok", "experiment_id"]
    for v in names:
        sub = nat[(nat["variable"] == v) & nat["experiment_id"].isin(ok)]
        weeks = sub["week"].to_numpy()
        step = _record_step(weeks)
        w_at = int(weeks[weeks <= at_week].max()) if (weeks <= at_week).any() else int(weeks.min())
        w_ref = int(weeks[weeks <= ref_week].max()) if (weeks <= ref_week).any() else int(weeks.min())
        scale = 1.0 / step if is_flow(v) else 1.0
        wide = (
            sub[sub["week"].isin([w_at, w_ref])].pivot_table(
                index=["policy", "replicate"], columns="week", values="value", observed=True
            )
            * scale
        )
        at = wide[w_at]
        ref = wide[w_ref]
        base = at.xs("baseline", level="policy") if "baseline" in at.index.get_level_values(0) else None
        for pol in results.policies:
            row: dict[str, object] = {
                "policy": pol,
                "variable": v,
                "label": VARIABLES[v].label if v in VARIABLES else v,
                "unit": VARIABLES[v].unit if v in VARIABLES else "",
                "week": w_at,
            }
            if pol not in at.index.get_level_values(0):  # every replicate failed: shown, never dropped
                for x in q:
                    tag = f"q{round(x * 100):02d}"
                    row |= {f"value_{tag}": np.nan, f"vs_baseline_{tag}": np.nan, f"vs_ref_{tag}": np.nan}
                rows.append(row | {"replicates": 0, "total": totals[pol]})
                continue
            a = at.xs(pol, level="policy")
            with np.errstate(divide="ignore", invalid="ignore"):
                # a change relative to zero is undefined: shown as "-", never as inf
                vs_b = _finite(a / base.reindex(a.index) - 1.0) if base is not None else a * np.nan
                vs_r = _finite(a / ref.xs(pol, level="policy").reindex(a.index) - 1.0)
            for x in q:
                tag = f"q{round(x * 100):02d}"
                row[f"value_{tag}"] = float(np.quantile(a, x))
                row[f"vs_baseline_{tag}"] = float(np.nanquantile(vs_b, x)) if np.isfinite(vs_b).any() else np.nan
                row[f"vs_ref_{tag}"] = float(np.nanquantile(vs_r, x)) if np.isfinite(vs_r).any() else np.nan
            row["replicates"] = int(a.size)
            row["total"] = totals[pol]
            rows.append(row)
    return pd.DataFrame(rows)
