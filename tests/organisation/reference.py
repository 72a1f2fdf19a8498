"""Helpers for ``test_reference.py``: the stored reference of the organisation layer and a run of the current code.

The statistics and the quantile summary are those of the producer, ``data-raw/organisation_reference.py``
(imported from its file, not copied), so the test and the producer compute them the same way. The current
run's statistics go through the same CSV writer and reader as the stored ``replicates.csv.gz`` (10
significant digits), so unchanged code reproduces the stored values exactly.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCER = ROOT / "data-raw" / "organisation_reference.py"
DATA = ROOT / "tests" / "data" / "organisation-reference"
SCENARIO = "strike-campaign"
FLOAT_FORMAT = "%.10g"  # as the producer writes replicates.csv.gz
BATCH_SIZE = 10  # as the producer runs the scenario
KEYS = ["policy", "window", "variable"]


@cache
def producer() -> ModuleType:
    """The producer script, imported from its file (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("organisation_reference", PRODUCER)
    assert spec is not None and spec.loader is not None, f"cannot import {PRODUCER}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Reference:
    """The stored reference: per-replicate statistics and the summary."""

    stats: pd.DataFrame  # policy, replicate, window, variable, value
    summary: dict[str, Any]

    @property
    def replicates(self) -> int:
        return int(self.summary["replicates"])

    def quantiles(self) -> pd.DataFrame:
        """summary.json's rows (quantiles and their standard errors), indexed by policy, window, variable."""
        return pd.DataFrame(self.summary["rows"]).set_index(KEYS).sort_index()


def _read_stats(source: Path | io.StringIO) -> pd.DataFrame:
    stats = pd.read_csv(source, dtype={"policy": str, "window": str, "variable": str, "replicate": np.int64})
    stats["value"] = stats["value"].astype(np.float64)
    return stats


def load_reference(folder: Path = DATA) -> Reference:
    """Read the stored reference; fail (never skip) when it is missing."""
    files = [folder / "replicates.csv.gz", folder / "summary.json"]
    missing = [str(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f) for f in files if not f.is_file()]
    if missing:
        pytest.fail(
            f"the organisation layer's reference is missing ({', '.join(missing)}); produce it with "
            f"`python {PRODUCER.relative_to(ROOT)} --replicates 200` on the code before the layer changes "
            "(issue 15)",
            pytrace=False,
        )
    summary = json.loads(files[1].read_text(encoding="utf-8"))
    return Reference(_read_stats(files[0]), summary)


def run_current(replicates: int, workers: int = 2) -> pd.DataFrame:
    """Run the shipped scenario with the current code and return the producer's statistics.

    The values are written and read back as the producer stores them (``FLOAT_FORMAT``), so that unchanged
    code gives the stored values bit for bit.
    """
    import cartelsim
    from cartelsim.api import read_scenario
    from cartelsim.executors import make_executor

    sc = read_scenario(SCENARIO)
    with make_executor("process", workers=workers) as ex:
        res = cartelsim.run_experiments(sc, replicates=replicates, executor=ex, batch_size=BATCH_SIZE, progress=False)
    failed = res.experiments[res.experiments["status"] != "ok"]
    assert failed.empty, f"{len(failed)} experiments failed: {failed['message'].iloc[0]}"
    stats = producer().statistics(res.outcomes)
    return _read_stats(io.StringIO(stats.to_csv(index=False, float_format=FLOAT_FORMAT)))


# -- the comparison ----------------------------------------------------------------------------------------

QUANTILE_NAMES = ("q10", "q50", "q90")
Z_QUANTILE = 3.0  # quantile check: standard errors allowed
SPREAD_SHARE = 0.02  # quantile check: share of the reference's 10-90% range allowed
Z_PAIRED = 4.0  # paired check: standard errors of the mean difference allowed
MEAN_SHARE = 0.01  # paired check: share of the reference mean allowed
HALF_UNIT = 0.5  # both checks: half a unit (the outcomes are counts)


@dataclass(frozen=True)
class Miss:
    """One comparison outside its tolerance."""

    policy: str
    window: str
    variable: str
    check: str
    reference: float
    new: float
    tolerance: float

    @property
    def ratio(self) -> float:
        """How far outside the tolerance: |new - reference| / tolerance (inf for a missing side)."""
        if math.isnan(self.reference) or math.isnan(self.new):
            return math.inf
        return abs(self.new - self.reference) / self.tolerance


def compare(ref: Reference, new: pd.DataFrame) -> tuple[int, list[Miss]]:
    """Compare the current run's statistics with the reference; return the comparisons made and the misses.

    For every (policy, window, variable) of either side:

    - quantiles (q in 10, 50, 90): ``|q_new - q_ref| <= 3 sqrt(se_ref^2 + se_new^2) + 0.02 (q90_ref - q10_ref)
      + 0.5``, with ``q_ref`` and ``se_ref`` from summary.json and ``q_new``, ``se_new`` from the producer's
      ``summarise`` over the new run;
    - paired: ``d_r = new_r - ref_r`` over the replicates both have (0 .. n-1),
      ``|mean(d)| <= 4 sd(d) / sqrt(n) + 0.01 |mean(ref_r)| + 0.5`` (sd with ddof 1, ``mean(ref_r)`` over
      the same replicates).

    A key on one side only is a miss (check ``present``).
    """
    n = int(new["replicate"].nunique())
    if n > ref.replicates:
        pytest.fail(f"the new run has {n} replicates, the reference only {ref.replicates}", pytrace=False)
    rq = ref.quantiles()
    nq = pd.DataFrame(producer().summarise(new)).set_index(KEYS).sort_index()
    misses: list[Miss] = []
    made = 0
    for key in sorted(set(rq.index) | set(nq.index)):
        if key not in rq.index or key not in nq.index:
            side = "reference" if key not in rq.index else "new run"
            made += 1
            misses.append(Miss(*key, check=f"present (not in the {side})", reference=np.nan, new=np.nan, tolerance=0))
            continue
        r, q = rq.loc[key], nq.loc[key]
        spread = SPREAD_SHARE * (r["q90"] - r["q10"])
        for name in QUANTILE_NAMES:
            tol = Z_QUANTILE * math.hypot(r[f"se_{name}"], q[f"se_{name}"]) + spread + HALF_UNIT
            made += 1
            if not abs(q[name] - r[name]) <= tol:
                misses.append(Miss(*key, check=name, reference=r[name], new=q[name], tolerance=tol))
    # paired differences over the shared replicates
    shared = ref.stats[ref.stats["replicate"] < n]
    both = shared.merge(new, on=[*KEYS, "replicate"], how="inner", suffixes=("_ref", "_new"))
    for key, d in both.groupby(KEYS, sort=True):
        made += 1
        if len(d) != n:
            misses.append(
                Miss(*key, check=f"paired ({len(d)} of {n} replicates)", reference=np.nan, new=np.nan, tolerance=0)
            )
            continue
        diff = d["value_new"].to_numpy() - d["value_ref"].to_numpy()
        mean_ref = float(d["value_ref"].mean())
        sd = float(diff.std(ddof=1)) if n > 1 else 0.0
        tol = Z_PAIRED * sd / math.sqrt(n) + MEAN_SHARE * abs(mean_ref) + HALF_UNIT
        if not abs(diff.mean()) <= tol:
            misses.append(
                Miss(*key, check="paired mean", reference=mean_ref, new=float(d["value_new"].mean()), tolerance=tol)
            )
    return made, misses


def table(misses: list[Miss]) -> str:
    """The misses as a table, the farthest outside its tolerance first."""
    rows = sorted(misses, key=lambda m: (-m.ratio, m.policy, m.window, m.variable, m.check))
    frame = pd.DataFrame(
        {
            "policy": [m.policy for m in rows],
            "window": [m.window for m in rows],
            "variable": [m.variable for m in rows],
            "check": [m.check for m in rows],
            "reference": [m.reference for m in rows],
            "new": [m.new for m in rows],
            "tolerance": [m.tolerance for m in rows],
            "|new-ref|/tol": [m.ratio for m in rows],
        }
    )
    return frame.to_string(index=False, float_format=lambda v: f"{v:.6g}")
