"""A small Results-compatible bundle with state and municipality rows, written directly as parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cartelsim import places
from cartelsim.bundle import BUNDLE_FORMAT, file_checksums
from cartelsim.geography.violence import STATE_CODES, state_totals
from cartelsim.timeline import dates_of

SCENARIO = """
[scenario]
name = "synthetic-map"
start = 2012-01-01
end = 2014-01-01
seed = 1
replicates = 2
record = { national = 52, groups = 52 }

[[policy]]
name = "halve-recruitment"
  [[policy.intervention]]
  type = "recruitment"
  start = 2013-01-01
  factor = 0.5
"""

POLICIES = ("baseline", "halve-recruitment")
WEEKS = (0, 52)
REPLICATES = 2


def municipal_deaths(policy: int, replicate: int, week: int) -> np.ndarray:
    """Deterministic conflict deaths per municipality (summed over 52 weeks): the policy lowers the north."""
    muni = places.municipalities()
    rng = np.random.default_rng([replicate, week])  # the same draw under both policies (paired)
    base = muni["pop_2020"].to_numpy(dtype=float) / 1e4 * rng.uniform(0.5, 1.5, len(muni))
    north = muni["lat"].to_numpy() > 25.0
    return np.where(north, base * (0.5 if policy == 1 and week >= 52 else 1.0), base)


def write_synthetic_bundle(path: Path) -> Path:
    """Write the bundle to ``path`` and return it."""
    codes = places.municipalities()["code"].tolist()
    rows = []
    experiments = []
    for pi, pol in enumerate(POLICIES):
        for r in range(REPLICATES):
            eid = pi * REPLICATES + r
            experiments.append(
                {
                    "experiment_id": eid,
                    "scenario": "synthetic-map",
                    "policy": pol,
                    "replicate": r,
                    "seed": 100 + r,
                    "status": "ok",
                    "message": "",
                }
            )
            for w in WEEKS:
                m = municipal_deaths(pi, r, w)
                s = state_totals(m)
                rows.append(
                    pd.DataFrame(
                        {
                            "level": "national",
                            "group": "",
                            "variable": "new_conflict_deaths",
                            "week": w,
                            "value": [m.sum()],
                            "experiment_id": eid,
                        }
                    )
                )
                rows.append(
                    pd.DataFrame(
                        {
                            "level": "state",
                            "group": list(STATE_CODES),
                            "variable": "new_conflict_deaths",
                            "week": w,
                            "value": s,
                            "experiment_id": eid,
                        }
                    )
                )
                rows.append(
                    pd.DataFrame(
                        {
                            "level": "municipality",
                            "group": codes,
                            "variable": "new_conflict_deaths",
                            "week": w,
                            "value": m,
                            "experiment_id": eid,
                        }
                    )
                )
                rows.append(
                    pd.DataFrame(
                        {
                            "level": "municipality",
                            "group": codes,
                            "variable": "n_routes",
                            "week": w,
                            "value": (m > np.quantile(m, 0.97)).astype(float),
                            "experiment_id": eid,
                        }
                    )
                )
    o = pd.concat(rows, ignore_index=True)
    exp = pd.DataFrame(experiments)
    o = o.merge(exp[["experiment_id", "scenario", "policy", "replicate"]], on="experiment_id")
    o["date"] = dates_of(o["week"].to_numpy(), 2012).astype("datetime64[D]")
    o = o.sort_values(["experiment_id", "level", "group", "variable", "week"], ignore_index=True)
    o = o[["experiment_id", "scenario", "policy", "replicate", "week", "date", "level", "group", "variable", "value"]]
    path.mkdir(parents=True)
    table = pa.Table.from_pandas(o, preserve_index=False)
    table = table.set_column(table.schema.get_field_index("date"), "date", pa.array(o["date"].dt.date, pa.date32()))
    pq.write_table(table, path / "outcomes.parquet")
    pq.write_table(pa.Table.from_pandas(exp, preserve_index=False), path / "experiments.parquet")
    groups = pd.DataFrame(
        {
            "experiment_id": pd.array([None], dtype="Int64"),
            "group": ["N10025"],
            "label": ["CJNG"],
            "kind": ["criminal group"],
            "parent": [None],
        }
    )
    pq.write_table(pa.Table.from_pandas(groups, preserve_index=False), path / "groups.parquet")
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": "1.0",
        "package_version": "test",
        "git_revision": None,
        "master_seed": 1,
        "scenario": SCENARIO,
        "data_checksums": {},
        "scenario_name": "synthetic-map",
        "start_year": 2012,
        "replicates": REPLICATES,
        "wall_time_s": 0.0,
        "files": file_checksums(path),
    }
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path
