"""Reference numbers of the organisation layer for the shipped strike scenario (issue 15).

Runs ``scenarios/strike-campaign.toml`` as shipped (7 policies, ``--replicates`` replicates, default 200)
and writes, for every national outcome and every policy, one statistic per experiment:

- a flow (``new_*``): its total over a window (the recorded values are sums over their interval);
- a stock or an index: its value at the last recorded week of the window.

Windows: ``year1`` (2026, the campaign's first year: records of weeks 0-51) and ``all`` (2026-2032, the
whole run). Outputs (``tests/data/organisation-reference/``):

- ``replicates.csv.gz``: policy, replicate, window, variable, value (one row per experiment and statistic);
- ``summary.json``: per policy, window and variable, the 10/50/90% quantiles over replicates with their
  Monte Carlo standard errors (bootstrap over replicates, 400 resamples), the code's commit and the date.

Replicate r has the same seed in any run of the scenario with more than r replicates
(``experiments.replicate_seed``), so a later version run with fewer replicates meets the same parameter
draws, campaign draws and ecosystem state: the layer's own randomness is the only difference.

This is an offline script (it takes about 15 minutes on two cores); the test
``tests/organisation/test_reference.py`` compares the current layer with its output.

Run: python data-raw/organisation_reference.py [--replicates 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

import cartelsim
from cartelsim.api import read_scenario
from cartelsim.executors import make_executor
from cartelsim.variables import is_flow

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "organisation-reference"
WINDOWS = {"year1": 52, "all": None}  # recorded weeks from the start (None: the whole run)
QUANTILES = (0.1, 0.5, 0.9)


def statistics(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One value per (policy, replicate, window, variable) from a run's national outcomes."""
    nat = outcomes[outcomes["level"] == "national"]
    frames = []
    for window, weeks in WINDOWS.items():
        part = nat if weeks is None else nat[nat["week"] < weeks]
        for var, d in part.groupby("variable", observed=True):
            keys = ["policy", "replicate"]
            if is_flow(str(var)):
                v = d.groupby(keys, observed=True)["value"].sum()
            else:
                v = d.sort_values("week").groupby(keys, observed=True)["value"].last()
            frames.append(v.rename("value").reset_index().assign(window=window, variable=str(var)))
    out = pd.concat(frames, ignore_index=True)
    out["policy"] = out["policy"].astype(str)
    return out[["policy", "replicate", "window", "variable", "value"]]


def summarise(stats: pd.DataFrame, resamples: int = 400, seed: int = 0) -> list[dict[str, object]]:
    """Quantiles over replicates and their bootstrap standard errors, per policy, window and variable."""
    rng = np.random.default_rng(seed)
    rows = []
    for (pol, win, var), d in stats.groupby(["policy", "window", "variable"]):
        x = d.sort_values("replicate")["value"].to_numpy()
        q = np.quantile(x, QUANTILES)
        boot = np.quantile(x[rng.integers(0, x.size, (resamples, x.size))], QUANTILES, axis=1)
        se = boot.std(axis=1, ddof=1)
        rows.append(
            {
                "policy": pol,
                "window": win,
                "variable": var,
                "n": int(x.size),
                **{f"q{int(p * 100)}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
                **{f"se_q{int(p * 100)}": float(v) for p, v in zip(QUANTILES, se, strict=True)},
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    sc = read_scenario("strike-campaign")
    ex = make_executor("process", workers=args.workers) if args.workers > 1 else None
    t0 = time.perf_counter()
    res = cartelsim.run_experiments(sc, replicates=args.replicates, executor=ex, batch_size=10, progress=True)
    seconds = time.perf_counter() - t0
    failed = res.experiments[res.experiments["status"] != "ok"]
    if len(failed):
        raise SystemExit(f"{len(failed)} experiments failed: {failed['message'].iloc[0]}")
    stats = statistics(res.outcomes)
    args.out.mkdir(parents=True, exist_ok=True)
    stats.to_csv(args.out / "replicates.csv.gz", index=False, float_format="%.10g")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    summary = {
        "scenario": "strike-campaign (shipped)",
        "replicates": args.replicates,
        "commit": commit,
        "version": cartelsim.__version__,
        "date": dt.date.today().isoformat(),
        "seconds": round(seconds, 1),
        "windows": {k: ("whole run" if v is None else f"recorded weeks 0-{v - 1}") for k, v in WINDOWS.items()},
        "statistic": "flows: total over the window; stocks and indexes: value at the window's last record",
        "rows": summarise(stats),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"{len(res.experiments)} experiments in {seconds:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
