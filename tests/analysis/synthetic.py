"""A synthetic sweep bundle (tables only) with outcome values chosen by the test: no model runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cartelsim.analysis.sweeps import SweepBundle
from cartelsim.sampling import Design
from cartelsim.timeline import date_of

SCENARIO = """
[scenario]
name = "synthetic"
start = 2026-01-01
end = 2027-01-01
record = { national = 13, groups = "none" }
"""
WEEKS = (0, 13, 26, 39)  # quarterly rows of a one-year run


def bundle(
    design: Design | None,
    values: Mapping[str, np.ndarray],
    *,
    n_rep: int | None = None,
    failed: Sequence[tuple[str, int]] = (),
    extra_columns: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    variable: str = "new_deaths_all_est",
    stock: str = "n_members",
    seed: int = 0,
) -> SweepBundle:
    """Build a bundle whose ``variable`` row at every week holds ``values[policy][replicate]``.

    ``n_members`` (a stock) holds the same values. Experiments in ``failed`` (policy, replicate) are
    marked failed and have no outcome rows. Outcome rows are shuffled (their order must not matter).
    ``extra_columns[column][policy]`` adds a sampled column (e.g. a drawn key) to that policy's rows.
    """
    policies = list(values)
    n = design.n_rows if design is not None else int(n_rep or len(next(iter(values.values()))))
    exp_rows, out_rows = [], []
    for pi, p in enumerate(policies):
        for r in range(n):
            eid = pi * n + r
            bad = (p, r) in failed
            row = {
                "experiment_id": eid,
                "scenario": "synthetic",
                "policy": p,
                "replicate": r,
                "seed": 1000 + r,
                "status": "failed" if bad else "ok",
                "message": "ValueError: synthetic failure" if bad else "",
            }
            if design is not None:
                row.update(zip(design.names, design.samples[r].tolist(), strict=True))
            for col, by_policy in (extra_columns or {}).items():
                row[col] = float(by_policy[p][r]) if p in by_policy else np.nan
            exp_rows.append(row)
            if bad:
                continue
            for w in WEEKS:
                for var in (variable, stock):
                    out_rows.append(
                        {
                            "experiment_id": eid,
                            "scenario": "synthetic",
                            "policy": p,
                            "replicate": r,
                            "week": w,
                            "date": date_of(w, 2026),
                            "level": "national",
                            "group": "",
                            "variable": var,
                            "value": float(values[p][r]),
                        }
                    )
    out = pd.DataFrame(out_rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for c in ("policy", "level", "group", "variable"):
        out[c] = out[c].astype("category")
    exp = pd.DataFrame(exp_rows)
    manifest = {"scenario": SCENARIO, "start_year": 2026, "master_seed": 1}
    if design is not None:
        manifest["design"] = design.to_manifest()
    return SweepBundle.from_tables(exp, out, manifest)
