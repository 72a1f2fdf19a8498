"""Ecosystem benchmark (DESIGN.md, Performance targets).

1,000 replicates x 150 cartels x 1,040 weeks with sampled uncertainty, deterministic, national weekly
outcomes in memory, through the public API (`cartelsim.run_experiments`), against a plain per-replicate
numpy Euler loop (the same equations, dense kernel, measured on a sample of replicates and scaled) in
the same process; then the bundle write in rows per second. Prints times and ratios and writes
benchmarks/results/ecosystem.json. Run: python benchmarks/ecosystem.py [--replicates N]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import cartelsim
from cartelsim.network import load_network
from cartelsim.params import defaults

SCENARIO = """
[scenario]
name = "bench-ecosystem"
start = 2012-01-01
end = 2032-01-01
seed = 1
replicates = {n}
record = {{ national = 1, groups = "none" }}
[uncertainty]
recruitment_per_member_per_week = {{ dist = "uniform", low = 2.45e-3, high = 2.6e-3 }}
conflict_rate_per_member_pair_per_week = {{ dist = "uniform", low = 1.5e-8, high = 1.6e-8 }}
victim_share_cartel = {{ dist = "triangular", low = 0.08, mode = 0.10, high = 0.12 }}
"""


def plain_numpy_replicate(rho: float, k: np.ndarray, c0: np.ndarray, weeks: int = 1040) -> np.ndarray:
    """The baseline: one replicate, plain numpy, dense kernel, national outcomes recorded weekly."""
    p = defaults()
    eta, theta, omega = (
        p["incapacitation_per_week"],
        p["conflict_rate_per_member_pair_per_week"],
        p["saturation_per_member_squared_per_week"],
    )
    c = c0.copy()
    out = np.empty((weeks, 5))
    for t in range(weeks):
        tot = c.sum()
        rec = rho * c
        inc = eta * c / tot
        dth = theta * c * (k @ c)
        ext = omega * c * c
        out[t] = tot, rec.sum(), inc.sum(), dth.sum(), ext.sum()
        c = np.maximum(c + rec - inc - dth - ext, 0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--baseline-sample", type=int, default=20)
    args = ap.parse_args()
    sc = cartelsim.Scenario.from_text(SCENARIO.format(n=args.replicates))

    cartelsim.run_experiments(sc.replace(replicates=2), progress=False)  # load the compiled kernels
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = cartelsim.run_experiments(sc, progress=False)
        times.append(time.perf_counter() - t0)
    ours = min(times)

    net = load_network()
    k = net.kernel_dense()
    c0 = net.zipf_initial(115000.0)
    rhos = res.experiments["recruitment_per_member_per_week"].to_numpy()[: args.baseline_sample]
    t0 = time.perf_counter()
    for r in rhos:
        plain_numpy_replicate(float(r), k, c0)
    per_rep_plain = (time.perf_counter() - t0) / len(rhos)
    per_rep_ours = ours / args.replicates

    t0 = time.perf_counter()
    tab = res.arrow()
    n_rows = tab.num_rows
    build = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        res.save(Path(d) / "b")
        write = time.perf_counter() - t0
    out = {
        "machine": platform.processor() or platform.machine(),
        "replicates": args.replicates,
        "cartels": 150,
        "weeks": 1040,
        "run_experiments_s": round(ours, 4),
        "run_experiments_all_s": [round(t, 4) for t in times],
        "per_replicate_ms": round(per_rep_ours * 1e3, 4),
        "plain_numpy_per_replicate_ms": round(per_rep_plain * 1e3, 3),
        "plain_numpy_sample": len(rhos),
        "speedup_vs_plain_numpy": round(per_rep_plain / per_rep_ours, 1),
        "target_s": 1.0,
        "target_speedup": 20,
        "bundle_rows": n_rows,
        "long_table_build_s": round(build, 3),
        "bundle_write_s": round(write, 3),
        "bundle_rows_per_s": round(n_rows / write),
    }
    print(
        f"ecosystem: {args.replicates} replicates x 150 cartels x 1040 weeks in {ours:.3f} s "
        f"(target < 1 s): {per_rep_ours * 1e3:.3f} ms per replicate"
    )
    print(
        f"plain per-replicate numpy Euler loop: {per_rep_plain * 1e3:.2f} ms per replicate "
        f"(sample of {len(rhos)}); ratio {per_rep_plain / per_rep_ours:.1f}x (target >= 20x)"
    )
    print(f"bundle: {n_rows:,} rows written in {write:.2f} s = {n_rows / write:,.0f} rows/s")
    path = Path(__file__).parent / "results" / "ecosystem.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
