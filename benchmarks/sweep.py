"""Sweep benchmark (DESIGN.md, Performance targets: near-linear scaling over local workers).

The same LHS sweeps are run through `cartelsim.experiments.run_to_bundle` (what `cartelsim sweep` runs)
serially, on a process pool of 2 workers and on a Dask LocalCluster of 2 single-threaded worker
processes, in one run, with the same batch size:

- "ecosystem": a 20-year ecosystem-only world, three uncertain parameters, baseline plus two policies,
  national outcomes weekly and per-cartel outcomes yearly (as the shipped scenario pc2023 records them).
  Simulating is cheap here; turning outcomes into rows and writing them dominates.
- "all-layers": a 10-year world with the organisation and geography layers, the same factors and
  policies. Simulating dominates.

For each sweep and executor it reports:

- startup_s: starting the executor and warming every worker (imports, compiled kernels, the data);
- run_s: simulating every batch and writing its part file (the parallel phase);
- consolidate_s: streaming the parts into one outcomes.parquet (in the client, serial by design);
- experiments per second over run_s and end to end (run + consolidation), and scaling efficiency
  (rate / serial rate / workers);
- CPU seconds used by this process and the workers (Linux /proc), per experiment: the cost that does not
  depend on how busy the machine is, from which a cluster is sized (docs/scaling.md).

Then it runs the ecosystem sweep serially at two sizes (a quarter and 2.5 times --samples) in fresh
processes and records their peak memory (a resumable run streams parts, so it should not grow), and
the peak memory of a fresh process running one batch of each world at two batch sizes (what a worker
needs).

Each executor runs each sweep --repeat times, the executors interleaved, and the fastest run of each is
kept: on a shared machine, other load slows every executor alike. The 1-minute load average at the start
and end is recorded: with load above the core count, wall-clock scaling is not meaningful.

It checks that every executor's bundle holds the serial tables, then writes benchmarks/results/sweep.json.
Run: python benchmarks/sweep.py [--samples N] [--heavy-samples N] [--workers K] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

import cartelsim
from cartelsim.executors import default_workers, make_executor
from cartelsim.experiments import Job, experiment_specs, run_job, run_to_bundle
from cartelsim.sweep import sweep_design

WORLD = """
[scenario]
name = "bench-sweep-{name}"
start = 2012-01-01
end = {end}
seed = 8
layers = {layers}
record = {{ national = 1, groups = 52 }}
[uncertainty]
recruitment_per_member_per_week = {{ dist = "uniform", low = 2.45e-3, high = 2.6e-3 }}
conflict_rate_per_member_pair_per_week = {{ dist = "uniform", low = 1.5e-8, high = 1.6e-8 }}
victim_share_cartel = {{ dist = "triangular", low = 0.08, mode = 0.10, high = 0.12 }}
[[policy]]
name = "halve-recruitment"
  [[policy.intervention]]
  type = "recruitment"
  start = 2016-01-01
  factor = 0.5
[[policy]]
name = "double-incapacitation"
  [[policy.intervention]]
  type = "incapacitation"
  start = 2016-01-01
  factor = 2.0
"""
WORLDS = {
    "ecosystem": {"end": "2032-01-01", "layers": '["ecosystem"]'},
    "all-layers": {"end": "2022-01-01", "layers": '["ecosystem", "organisation", "geography"]'},
}
KINDS = ("serial", "process", "dask")


def _pids(ex: object) -> list[int]:
    """This process and the executor's worker processes (whose CPU time the sweep uses)."""
    pids = [os.getpid()]
    pool = getattr(ex, "_pool", None)
    if pool is not None:
        pids += list(getattr(pool, "_processes", {}) or {})
    client = getattr(ex, "_client", None)
    if client is not None:
        pids += list(client.run(os.getpid).values())
    return pids


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of the processes (Linux /proc; all threads included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _warm(scenarios: list[cartelsim.Scenario], ex: object, workers: int) -> None:
    """One-experiment jobs on every worker slot (imports, numba caches and data loads outside the timing)."""
    for sc in scenarios:
        jobs = [Job((experiment_specs(sc, replicates=1)[0],), None)] * (2 * workers)
        for _, res in ex.map(functools.partial(run_job, sc), jobs):  # type: ignore[attr-defined]
            if isinstance(res, BaseException):
                raise res


def bench(ex: object, sc: cartelsim.Scenario, design, out: Path, batch_size: int) -> tuple[float, ...]:
    """One sweep into ``out``: (run_s, consolidate_s, total_s, experiments, cpu_s)."""
    shutil.rmtree(out, ignore_errors=True)
    pids = _pids(ex)
    c0 = _cpu_s(pids)
    t1 = time.perf_counter()
    s = run_to_bundle(sc, out, design=design, executor=ex, batch_size=batch_size, progress=False)  # type: ignore[arg-type]
    total = time.perf_counter() - t1
    cpu = _cpu_s(pids) - c0
    assert s.n_failed == 0, s.failures
    m = json.loads((out / "manifest.json").read_text())
    return m["wall_time_s"], m["write_time_s"], total, s.n_experiments, cpu


def summarise(times: dict[str, list[tuple[float, ...]]], startup: dict[str, float], workers: int) -> list[dict]:
    rows = []
    for kind in KINDS:
        w = 1 if kind == "serial" else workers
        run_s, cons_s, total = (min(t[i] for t in times[kind]) for i in range(3))
        n = int(times[kind][0][3])
        cpu = min(t[4] for t in times[kind])
        rows.append(
            {
                "executor": kind,
                "workers": w,
                "startup_s": round(startup[kind], 2),
                "run_s": round(run_s, 2),
                "run_s_all": [round(t[0], 2) for t in times[kind]],
                "consolidate_s": round(cons_s, 2),
                "total_s": round(total, 2),
                "experiments": n,
                "experiments_per_s_run": round(n / run_s, 1),
                "experiments_per_s_end_to_end": round(n / total, 1),
                "cpu_s": round(cpu, 2),
                "cpu_ms_per_experiment": round(cpu / n * 1e3, 2),
            }
        )
    base = rows[0]
    for r in rows:
        r["speedup_run"] = round(r["experiments_per_s_run"] / base["experiments_per_s_run"], 2)
        r["efficiency_run"] = round(r["speedup_run"] / r["workers"], 2)
        r["speedup_end_to_end"] = round(r["experiments_per_s_end_to_end"] / base["experiments_per_s_end_to_end"], 2)
        r["efficiency_end_to_end"] = round(r["speedup_end_to_end"] / r["workers"], 2)
    return rows


def _rss_run(samples: int, batch_size: int) -> None:
    """Run the ecosystem sweep serially in this (fresh) process and print its peak memory in MB."""
    sc = cartelsim.Scenario.from_text(WORLD.format(name="ecosystem", **WORLDS["ecosystem"]))
    with tempfile.TemporaryDirectory() as d:
        run_to_bundle(sc, Path(d) / "b", design=sweep_design(sc, "lhs", samples), batch_size=batch_size, progress=False)
    print(_peak_mb())


def _peak_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) / 1024


def _rss_job(world: str, batch: int) -> None:
    """Run one batch as a worker would (simulate, make rows, write a part) and print the peak memory in MB."""
    sc = cartelsim.Scenario.from_text(WORLD.format(name=world, **WORLDS[world]))
    with tempfile.TemporaryDirectory() as d:
        run_job(sc, Job(tuple(experiment_specs(sc, replicates=batch)[:batch]), d))
    print(_peak_mb())


def worker_memory(cases: list[tuple[str, int]]) -> list[dict]:
    """Peak memory of a fresh process running one batch, for batch sizes of each world."""
    out = []
    for world, batch in cases:
        args = [sys.executable, __file__, "--rss-job", world, "--batch-size", str(batch)]
        r = subprocess.run(args, capture_output=True, text=True, check=True)
        out.append({"world": world, "batch_size": batch, "peak_rss_mb": round(float(r.stdout.split()[-1]), 1)})
    return out


def client_memory(samples: list[int], batch_size: int) -> list[dict]:
    """Peak memory of a whole serial sweep, in fresh processes, for growing sizes (flat means flat)."""
    out = []
    for n in samples:
        r = subprocess.run(
            [sys.executable, __file__, "--rss-run", str(n), "--batch-size", str(batch_size)],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append({"experiments": 3 * n, "peak_rss_mb": round(float(r.stdout.split()[-1]), 1)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=200, help="LHS rows of the ecosystem sweep (x3 policies)")
    ap.add_argument("--batch-size", type=int, default=50, help="batch size of the ecosystem sweep")
    ap.add_argument("--heavy-samples", type=int, default=8, help="LHS rows of the all-layers sweep (x3 policies)")
    ap.add_argument("--heavy-batch-size", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="rounds (executors interleaved); the best of each is kept")
    ap.add_argument("--rss-run", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rss-job", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_run is not None:
        _rss_run(args.rss_run, args.batch_size)
        return
    if args.rss_job is not None:
        _rss_job(args.rss_job, args.batch_size)
        return
    load_start = os.getloadavg()[0]
    scen = {
        name: cartelsim.Scenario.from_text(WORLD.format(name=name, **kw)).replace(name=f"bench-sweep-{name}")
        for name, kw in WORLDS.items()
    }
    plan = {
        "ecosystem": (sweep_design(scen["ecosystem"], "lhs", args.samples), args.batch_size),
        "all-layers": (sweep_design(scen["all-layers"], "lhs", args.heavy_samples), args.heavy_batch_size),
    }
    root = Path(tempfile.mkdtemp(prefix="cartelsim-bench-sweep-"))
    sweeps: dict[str, dict] = {}
    try:
        with contextlib.ExitStack() as stack:
            pools, startup = {}, {}
            for kind in KINDS:
                t0 = time.perf_counter()
                w = 1 if kind == "serial" else args.workers
                pools[kind] = stack.enter_context(make_executor(kind, None if kind == "serial" else w))
                _warm(list(scen.values()), pools[kind], w)
                startup[kind] = time.perf_counter() - t0
            for name, (design, batch) in plan.items():
                sc = scen[name]
                times: dict[str, list[tuple[float, ...]]] = {k: [] for k in KINDS}
                for _ in range(args.repeat):  # interleaved: load from elsewhere hits every executor alike
                    for kind in KINDS:
                        times[kind].append(bench(pools[kind], sc, design, root / name / kind, batch))
                rows = summarise(times, startup, args.workers)
                identical = all(
                    pq.read_table(root / name / "serial" / f).equals(pq.read_table(root / name / kind / f))
                    for f in ("experiments.parquet", "outcomes.parquet")
                    for kind in KINDS[1:]
                )
                meta = pq.read_metadata(root / name / "serial" / "outcomes.parquet")
                size = (root / name / "serial" / "outcomes.parquet").stat().st_size
                n = rows[0]["experiments"]
                sweeps[name] = {
                    "scenario_weeks": sc.n_weeks,
                    "layers": list(sc.layers),
                    "design": {"method": "lhs", "rows": design.n_rows, "factors": design.names},
                    "policies": len(sc.all_policies),
                    "batch_size": batch,
                    "outcome_rows_per_experiment": meta.num_rows // n,
                    "outcomes_parquet_bytes_per_experiment": size // n,
                    "identical_tables": identical,
                    "runs": rows,
                }
                print(f"{name}: {n} experiments, {meta.num_rows // n:,} outcome rows each, batches of {batch}")
                for r in rows:
                    print(
                        f"  {r['executor']:>8} x{r['workers']}: run {r['run_s']:.2f} s "
                        f"({r['experiments_per_s_run']:.1f}/s, speedup {r['speedup_run']:.2f}, "
                        f"efficiency {r['efficiency_run']:.0%}); consolidate {r['consolidate_s']:.2f} s; "
                        f"end to end {r['experiments_per_s_end_to_end']:.1f}/s "
                        f"(efficiency {r['efficiency_end_to_end']:.0%}); {r['cpu_ms_per_experiment']:.1f} CPU-ms each"
                    )
                print(f"  identical tables on every executor: {identical}")
        memory = client_memory([args.samples // 4, args.samples * 5 // 2], args.batch_size)
        print(
            "peak memory of a whole serial ecosystem sweep (one process): "
            + ", ".join(f"{m['experiments']} experiments {m['peak_rss_mb']:.0f} MB" for m in memory)
        )
        workers_mem = worker_memory([("ecosystem", 1), ("ecosystem", 200), ("all-layers", 1), ("all-layers", 32)])
        print(
            "peak memory of one worker batch: "
            + ", ".join(f"{m['world']} x{m['batch_size']} {m['peak_rss_mb']:.0f} MB" for m in workers_mem)
        )
        result = {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "usable_cpus": default_workers(),
            "python": platform.python_version(),
            "workers": args.workers,
            "repeat": args.repeat,
            "startup_s": {k: round(v, 2) for k, v in startup.items()},
            "load_average_1min_at_start": round(load_start, 2),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            "sweeps": sweeps,
            "client_peak_memory": memory,
            "worker_batch_peak_memory": workers_mem,
        }
        out = Path(__file__).parent / "results" / "sweep.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(
            f"startup (executor + warm-up): {result['startup_s']}; load average {load_start:.1f} -> "
            f"{result['load_average_1min_at_end']:.1f} on {default_workers()} cores; wrote {out}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
