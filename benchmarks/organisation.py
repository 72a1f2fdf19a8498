"""Organisation benchmark (issue 15): the shipped strike scenario through the public API, on one core.

Reports, in one run (and writes every number to benchmarks/results/organisation.json):

1. per-experiment seconds of the shipped ``strike-campaign`` scenario (7 policies, ``organisation_scale = 1``
   as shipped, 2026-2032 after the ecosystem's spin-up from 2012) at its own 20 replicates (``--replicates``
   to run fewer; a policy's replicates run as one batch, so fewer replicates cost more per experiment):
   ``cartelsim.run_experiments(sc, replicates=R, progress=False)``, serial, pinned to one core, after a
   one-year warm-up run that loads the compiled kernels; the min over ``--repeats``. That time is
   everything ``run_experiments`` does: the ecosystem, the layer, the campaign, the recording and the
   spin-up's ecosystem-only weeks;
2. agent-weeks per second of the layer: agent-weeks per experiment are the mean recorded national
   ``n_members`` times the recorded weeks times ``organisation_scale`` (the scenario records national
   outcomes every 13 weeks, so the weekly sum is not available);
3. the ratio against a dense pass over the member arrays, measured in the same process: the members the
   layer generates at the scenario's start for one experiment (baseline, first replicate: the same spin-up
   and ``cartelsim.organisation.generate.generate``), one array entry per member of every role, then as
   many weeks as the recorded run, each week one uniform per member compared with a hazard (the week's
   ecosystem outflow per member at the start): what a layer that steps every member would minimally do.
   ``dense_numpy`` draws with numpy's default Generator (PCG64) into a preallocated buffer and counts
   ``buf < hazard``; ``dense_philox`` is a numba loop over the members drawing
   ``cartelsim.philox.uniform(k0, k1, j, 0, 0, week)`` for member j (the layer's own counter-based RNG).
   Ratio = dense seconds per experiment-week / layer seconds per experiment-week (per-experiment seconds /
   recorded weeks); above 1 the layer is faster than a dense pass.
   The dense pass keeps the start's members fixed (no removals or recruits);
4. peak memory of the shipped scenario at its own replicates (``--memory-replicates``, default 20; 0 skips):
   run in a subprocess, read as ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` afterwards, beside the
   same reading for a subprocess that only imports numpy and cartelsim (the Python baseline);
5. with ``--against REV``: the same measurement as 1. for the source tree at REV (a temporary detached
   ``git worktree`` of this repository, removed afterwards), each in a subprocess running this file with
   ``--_measure`` and ``PYTHONPATH`` set to that tree's ``src``, interleaved with the current tree (current,
   REV, current, REV, ... ``--repeats`` times, the min of each), both on the same scenario text and
   replicates; ``speedup_vs_<REV>`` = REV's per-experiment seconds / the current tree's.

6. a profile (``--profile``, on by default; ``--no-profile`` skips it): one more run of 1. with the layer's
   pieces timed (process time, the compiled kernels and the layer's methods wrapped where the layer calls
   them), in milliseconds per experiment: what still costs the most.

The Mesa 3 comparison of earlier versions is dropped: it re-implemented part of the weekly rules at 2022
defaults for a different scenario, and the dense pass is now the per-member yardstick (its last numbers are
in git history). Speed lives here only: nothing is asserted. The load average is recorded before and after.

Run: python benchmarks/organisation.py [--replicates 20] [--repeats 3] [--memory-replicates 20] [--against REV]
     [--no-profile]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

# cartelsim is imported inside the functions: ``--_measure`` runs this file against an older source tree,
# which must fail with a clear message when it lacks an API, not at import time.

SCENARIO = "strike-campaign"
HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results" / "organisation.json"
MIB = 1024.0  # ru_maxrss is in KiB on Linux

MEMORY_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import numpy, cartelsim
sc = cartelsim.Scenario.from_text(open(sys.argv[1], encoding="utf-8").read())
res = cartelsim.run_experiments(sc, replicates=int(sys.argv[2]), progress=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "experiments": len(res.experiments),
                  "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""
BASELINE_CHILD = """
import json, resource
import numpy, cartelsim
print(json.dumps({"self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def pin_one_core() -> int | None:
    """Pin this process (and the subprocesses it starts) to its first allowed core; return it."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {core})
    return core


def load_scenario(path: str | None) -> Any:
    """The scenario to time: the text in ``path``, else the shipped ``strike-campaign``."""
    import cartelsim

    if path is None:
        from cartelsim.api import read_scenario

        return read_scenario(SCENARIO)
    return cartelsim.Scenario.from_text(Path(path).read_text(encoding="utf-8"), source=path)


def measure(sc: Any, replicates: int, repeats: int) -> dict[str, Any]:
    """Per-experiment seconds of ``sc`` at ``replicates`` (min over ``repeats``), after a one-year warm-up.

    Parameters
    ----------
    sc : cartelsim.Scenario
        The scenario (all its policies run).
    replicates : int
        Replicates per policy.
    repeats : int
        Timed runs; the fastest counts.

    Returns
    -------
    dict
        ``per_experiment_s``, every run's seconds, the experiments and weeks, and the agent-weeks per
        experiment (mean recorded national ``n_members`` x recorded weeks x ``organisation_scale``).

    """
    import cartelsim
    from cartelsim.params import defaults

    warm = sc.replace(end=sc.start.replace(year=sc.start.year + 1))
    cartelsim.run_experiments(warm, replicates=1, progress=False)  # load the compiled kernels
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = cartelsim.run_experiments(sc, replicates=replicates, progress=False)
        times.append(time.perf_counter() - t0)
    o = res.outcomes
    n = o[(o["level"] == "national") & (o["variable"] == "n_members")]
    scale = float(sc.parameters.get("organisation_scale", defaults()["organisation_scale"]))
    mean_members = float(n["value"].mean())
    n_exp = len(res.experiments)
    per_exp = min(times) / n_exp
    agent_weeks = mean_members * sc.n_weeks * scale
    first = n[(n["experiment_id"] == n["experiment_id"].min()) & (n["week"] == 0)]["value"]
    return {
        "cartelsim_file": str(Path(cartelsim.__file__).resolve()),
        "replicates": replicates,
        "policies": len(sc.all_policies),
        "experiments": n_exp,
        "weeks": sc.n_weeks,
        "spinup_weeks": sc.spinup_weeks,
        "organisation_scale": scale,
        "run_experiments_all_s": [round(t, 4) for t in times],
        "run_experiments_s": round(min(times), 4),
        "per_experiment_s": round(per_exp, 4),
        "mean_recorded_members": round(mean_members, 1),
        "members_at_start": round(float(n[n["week"] == 0]["value"].mean()), 1),
        "first_experiment_members_at_start": float(first.iloc[0]) if len(first) else float("nan"),
        "agent_weeks_per_experiment": round(agent_weeks),
        "agent_weeks_per_s": round(agent_weeks / per_exp),
    }


#: What :func:`profile` times: (module, name) as the layer calls it; methods of OrganisationLayer by name.
PROFILED_KERNELS = ("refill", "apply_flows", "strike_week", "move_cartel", "rebuild", "targeted_arrests",
                    "removal_counts", "cartel_capacity", "open_roles", "generate")  # fmt: skip
PROFILED_METHODS = ("advance", "apply_removals", "_campaign", "_record_stocks", "_refresh_extension", "_split",
                    "_adapt", "_retarget")  # fmt: skip


def profile(sc: Any, replicates: int) -> dict[str, Any]:
    """One run of ``sc`` with the organisation layer's pieces timed (process seconds): ms per experiment.

    ``advance`` is the layer's weekly step (it contains generate at the first week, refill, apply_flows,
    _campaign, _record_stocks, _retarget, ...), ``apply_removals`` its write-back (_split,
    _refresh_extension); ``rest`` is the run's process time outside both: the ecosystem, the recording,
    the loop and the spin-up.
    """
    import collections

    import cartelsim
    import cartelsim.organisation.layer as layer

    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    saved: list[tuple[Any, str, Any]] = []

    def timed(name: str, f: Any) -> Any:
        @functools.wraps(f)
        def g(*a: Any, **k: Any) -> Any:
            t0 = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[name] += time.process_time() - t0
                calls[name] += 1

        return g

    for owner, names in ((layer, PROFILED_KERNELS), (layer.OrganisationLayer, PROFILED_METHODS)):
        for name in names:
            if hasattr(owner, name):
                saved.append((owner, name, getattr(owner, name)))
                setattr(owner, name, timed(name, getattr(owner, name)))
    try:
        t0 = time.process_time()
        res = cartelsim.run_experiments(sc, replicates=replicates, progress=False)
        total = time.process_time() - t0
    finally:
        for owner, name, f in saved:
            setattr(owner, name, f)
    n = len(res.experiments)
    ms = {k: round(v / n * 1e3, 2) for k, v in sorted(spent.items(), key=lambda x: -x[1])}
    rest = total - spent["advance"] - spent["apply_removals"]  # generate runs inside the first advance
    return {"experiments": n, "total_ms_per_experiment": round(total / n * 1e3, 2), "ms_per_experiment": ms,
            "rest_ms_per_experiment": round(rest / n * 1e3, 2), "calls": dict(calls)}  # fmt: skip


def start_members(sc: Any) -> dict[str, Any]:
    """The layer's members at the scenario's start for its first experiment (baseline, first replicate).

    The spin-up is the ecosystem alone with the experiment's drawn parameters (as the loop runs it: no
    policy acts before ``start``); the members come from ``generate`` at the start week, as the layer's.
    The layer keeps only leaders, plaza bosses and specialists in slots (gunmen and lookouts are counts per
    cell), so the dense pass gets its own member array: one entry for every member of every role.
    """
    from cartelsim.draws import ECO, draw_values
    from cartelsim.ecosystem import EcosystemModel
    from cartelsim.experiments import experiment_specs
    from cartelsim.network import load_network
    from cartelsim.organisation.generate import generate

    spec = experiment_specs(sc, replicates=1)[0]
    params, _, _ = draw_values(sc, spec)
    model = EcosystemModel(load_network())
    state = model.initial_state(np.array([params["initial_members"]]))
    pars = [np.array([params[k]]) for k in ECO]
    for _ in range(sc.spinup_weeks):
        model.flows(state, *pars).apply(state)
    f = model.flows(state, *pars)  # the first recorded week's flows: the hazard of leaving
    hazard = float((f.incapacitated + f.deaths + f.exits).sum() / state.sum())
    members, _, _ = generate(state, [params], [spec.seed], week=sc.spinup_weeks, labs=False)
    n = int(members.counts()[0].sum())
    return {
        "seed": int(spec.seed),
        "members": float(state.sum()),
        "active": np.ones(n, bool),
        "n_used": n,
        "n_active": n,
        "layer_slots": int(members.n_used[0]),
        "hazard": hazard,
    }


def dense_numpy(n_active: int, weeks: int, hazard: float, seed: int) -> tuple[float, int]:
    """One PCG64 uniform per member per week into a preallocated buffer, counted below ``hazard``."""
    rng = np.random.default_rng(seed)
    buf = np.empty(n_active)
    hits = 0
    t0 = time.perf_counter()
    for _ in range(weeks):
        rng.random(n_active, out=buf)
        hits += int(np.count_nonzero(buf < hazard))
    return time.perf_counter() - t0, hits


@functools.cache
def _philox_kernel() -> Any:
    """The dense Philox pass, compiled on first use (cartelsim imported only then)."""
    import numba

    from cartelsim.philox import uniform

    @numba.njit(nogil=True)
    def dense(active, n_used, k0, k1, hazard, first_week, weeks):  # pragma: no cover - jit
        hits = 0
        for t in range(first_week, first_week + weeks):
            for j in range(n_used):
                if active[j] and uniform(k0, k1, j, 0, 0, t) < hazard:
                    hits += 1
        return hits

    return dense


def dense_philox(m: dict[str, Any], first_week: int, weeks: int) -> tuple[float, int]:
    """One counter-based uniform per active member slot per week (``philox.uniform``), below the hazard."""
    from cartelsim.philox import stream_keys

    k0, k1 = stream_keys([m["seed"]], "org/removals")[0]
    kernel = _philox_kernel()
    kernel(m["active"], m["n_used"], k0, k1, m["hazard"], first_week, 1)  # compile outside the timing
    t0 = time.perf_counter()
    hits = kernel(m["active"], m["n_used"], k0, k1, m["hazard"], first_week, weeks)
    return time.perf_counter() - t0, int(hits)


def dense_pass(sc: Any, repeats: int) -> dict[str, Any]:
    """Both dense passes over the start's member arrays for the recorded weeks (min over ``repeats``)."""
    m = start_members(sc)
    weeks = sc.n_weeks
    out: dict[str, Any] = {
        "members_at_start": m["members"],
        "dense_members": m["n_active"],
        "layer_slots_used": m["layer_slots"],
        "weeks": weeks,
        "hazard_per_week": m["hazard"],
    }
    for name, run in (
        ("dense_numpy", lambda: dense_numpy(m["n_active"], weeks, m["hazard"], m["seed"])),
        ("dense_philox", lambda: dense_philox(m, sc.spinup_weeks, weeks)),
    ):
        runs = [run() for _ in range(repeats)]
        best = min(s for s, _ in runs)
        out[name] = {
            "seconds": round(best, 4),
            "all_s": [round(s, 4) for s, _ in runs],
            "per_experiment_week_ms": round(best / weeks * 1e3, 4),
            "agent_weeks_per_s": round(m["n_active"] * weeks / best),
            "hits_per_week": round(runs[0][1] / weeks, 1),
        }
    return out


def _run_child(code_or_args: list[str], env: dict[str, str] | None = None, what: str = "") -> dict[str, Any]:
    """Run ``python ARGS`` and return the JSON of its last stdout line; fail with its error otherwise."""
    p = subprocess.run([sys.executable, *code_or_args], capture_output=True, text=True, env=env, check=False)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    data = json.loads(lines[-1]) if lines else {}
    if p.returncode != 0 or not lines or "error" in data:
        detail = data.get("error") or (p.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{what}: the subprocess failed (exit {p.returncode}): {detail}")
    return data


def peak_memory(scenario_file: Path, replicates: int, src: Path) -> dict[str, Any]:
    """Peak RSS of a subprocess running the scenario, beside one that only imports numpy and cartelsim."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    base = _run_child(["-c", BASELINE_CHILD], env=env, what="memory baseline")
    base_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = _run_child(["-c", MEMORY_CHILD, str(scenario_file), str(replicates)], env=env, what="memory run")
    run_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "replicates": replicates,
        "experiments": run["experiments"],
        "peak_rss_mib": round(run_kib / MIB, 1),
        "baseline_rss_mib": round(base_kib / MIB, 1),
        "difference_mib": round((run_kib - base_kib) / MIB, 1),
        "child_self_reported_peak_mib": round(run["self_maxrss_kib"] / MIB, 1),
        "child_self_reported_baseline_mib": round(base["self_maxrss_kib"] / MIB, 1),
        "run_s_with_imports_and_kernel_loading": round(run["seconds"], 2),
        "how": "resource.getrusage(RUSAGE_CHILDREN).ru_maxrss after each subprocess (KiB on Linux); the "
        "baseline subprocess runs first, so the second reading is the scenario's",
    }


def _relative(path: Path) -> str:
    """``path`` relative to the repository (the results file is tracked: no machine's absolute paths in it)."""
    root = HERE.parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else "outside the repository"


def _git(*args: str, cwd: Path | None = None) -> str:
    p = subprocess.run(["git", *args], cwd=cwd or HERE.parent, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout.strip()


def commit_of(src: Path) -> dict[str, Any]:
    """The git commit of the tree holding ``src`` and whether its ``src`` differs from it."""
    try:
        head = _git("rev-parse", "HEAD", cwd=src)
        dirty = bool(_git("status", "--porcelain", "--", ".", cwd=src))
    except SystemExit:
        return {"commit": None, "src_modified": None}
    return {"commit": head, "src_modified": dirty}


def resolve(rev: str) -> tuple[Path, str]:
    """This repository's top folder and the commit ``rev`` names (checked before anything is timed)."""
    top = Path(_git("rev-parse", "--show-toplevel"))
    p = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=top,
                       capture_output=True, text=True, check=False)  # fmt: skip
    if p.returncode != 0:
        raise SystemExit(f"--against {rev}: not a commit of the repository at {top}")
    return top, p.stdout.strip()


def against(rev: str, scenario_file: Path, replicates: int, repeats: int, current_src: Path) -> dict[str, Any]:
    """Per-experiment seconds of the current tree and of ``rev``, interleaved in subprocesses."""
    top, commit = resolve(rev)
    tmp = Path(tempfile.mkdtemp(prefix="cartelsim-bench-"))
    tree = tmp / "tree"
    _git("worktree", "add", "--detach", str(tree), commit, cwd=top)
    try:
        old_src = tree / "src"
        if not (old_src / "cartelsim" / "__init__.py").exists():
            raise SystemExit(f"--against {rev}: {commit[:10]} has no src/cartelsim")
        trees = {"current": current_src, rev: old_src}
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
        for _ in range(repeats):
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": str(src)}
                args = [str(HERE), "--_measure", str(replicates), "--_repeats", "1", "--_scenario", str(scenario_file)]
                r = _run_child(args, env=env, what=f"--against {rev}: the {name} tree ({src})")
                if not Path(r["cartelsim_file"]).is_relative_to(src.resolve()):
                    raise SystemExit(f"--against {rev}: the {name} run imported {r['cartelsim_file']}, not {src}")
                runs[name].append(r)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=top, capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    best = {k: min(r["per_experiment_s"] for r in v) for k, v in runs.items()}
    return {
        "rev": rev,
        "commit": commit,
        "replicates": replicates,
        "repeats": repeats,
        "order": "current, rev, current, rev, ... (one timed run per subprocess, each after its own warm-up)",
        "current_per_experiment_s": best["current"],
        "current_all_per_experiment_s": [r["per_experiment_s"] for r in runs["current"]],
        "rev_per_experiment_s": best[rev],
        "rev_all_per_experiment_s": [r["per_experiment_s"] for r in runs[rev]],
        "rev_agent_weeks_per_s": max(r["agent_weeks_per_s"] for r in runs[rev]),
        "speedup": round(best[rev] / best["current"], 3),
    }


def _measure_child(args: argparse.Namespace) -> None:
    """``--_measure``: one JSON line with :func:`measure`'s numbers (or the error), for another tree too."""
    try:
        pin_one_core()
        print(json.dumps(measure(load_scenario(args._scenario), args._measure, args._repeats)))
    except (ImportError, AttributeError, TypeError) as e:
        print(json.dumps({"error": f"this source tree lacks an API the benchmark needs ({type(e).__name__}: {e})"}))
        sys.exit(2)
    except Exception as e:  # the scenario text refused, a failed run: say so on the JSON line
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, help="replicates per policy for the timing (default: as shipped, 20)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs; the fastest counts (default 3)")
    ap.add_argument(
        "--memory-replicates", type=int, default=20, help="replicates of the peak-memory run (default 20; 0: skip)"
    )
    ap.add_argument("--against", metavar="REV", help="also time the source tree at git revision REV, interleaved")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True, help="time the layer's pieces")
    ap.add_argument("--_measure", type=int, metavar="N_REPLICATES", help=argparse.SUPPRESS)
    ap.add_argument("--_repeats", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--_scenario", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._measure is not None:
        _measure_child(args)
        return

    import cartelsim

    if args.against:
        resolve(args.against)  # an unknown revision fails now, not after the other measurements
    load_before = os.getloadavg()
    core = pin_one_core()
    sc = load_scenario(None)
    if args.replicates is None:
        args.replicates = sc.replicates
    src = Path(cartelsim.__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="cartelsim-bench-") as d:
        scenario_file = Path(d) / f"{SCENARIO}.toml"
        scenario_file.write_text(sc.text, encoding="utf-8")  # the same text for every subprocess
        memory = peak_memory(scenario_file, args.memory_replicates, src) if args.memory_replicates > 0 else None
        layer = measure(sc, args.replicates, args.repeats)
        dense = dense_pass(sc, args.repeats)
        prof = profile(sc, args.replicates) if args.profile else None
        vs = against(args.against, scenario_file, args.replicates, args.repeats, src) if args.against else None
    load_after = os.getloadavg()

    layer_ms = layer["per_experiment_s"] / layer["weeks"] * 1e3
    ratios = {k: round(dense[k]["per_experiment_week_ms"] / layer_ms, 3) for k in ("dense_numpy", "dense_philox")}
    out: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cartelsim_version": cartelsim.__version__,
        "cartelsim_src": _relative(src),
        **commit_of(src),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu_count": os.cpu_count(),
            "pinned_core": core,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
        },
        "scenario": SCENARIO,
        **{k: v for k, v in layer.items() if k != "cartelsim_file"},
        "per_experiment_week_ms": round(layer_ms, 4),
        "layer_time_includes": "everything run_experiments does: the ecosystem, the organisation layer, the "
        "campaign, the recording, and the spin-up's ecosystem-only weeks (spinup_weeks)",
        "agent_weeks_how": "mean recorded national n_members (recorded every 13 weeks) x weeks x organisation_scale",
        "dense": dense,
        "dense_start_members_vs_run_rel_gap": abs(
            dense["members_at_start"] / layer["first_experiment_members_at_start"] - 1
        ),
        "ratio_dense_numpy": ratios["dense_numpy"],
        "ratio_dense_philox": ratios["dense_philox"],
        "ratio_how": "dense seconds per experiment-week / layer seconds per experiment-week; > 1: the layer is "
        "faster than one draw per member per week",
        "profile": prof,
        "memory": memory,
        "peak_rss_mib": memory["peak_rss_mib"] if memory else None,
    }
    if vs is not None:
        out["against"] = vs
        out[f"speedup_vs_{args.against}"] = vs["speedup"]

    print(
        f"{SCENARIO}: {layer['experiments']} experiments ({layer['policies']} policies x {args.replicates} "
        f"replicates) x {layer['weeks']} weeks, about {layer['members_at_start']:,.0f} members at start: "
        f"{layer['per_experiment_s']:.3f} s per experiment (min of {args.repeats}), "
        f"{layer['agent_weeks_per_s'] / 1e6:.1f} million agent-weeks per s"
    )
    for k in ("dense_numpy", "dense_philox"):
        print(
            f"  {k}: {dense[k]['per_experiment_week_ms']:.3f} ms per experiment-week "
            f"({dense[k]['agent_weeks_per_s'] / 1e6:.0f} million agent-weeks per s) vs the layer's "
            f"{layer_ms:.3f} ms: ratio {ratios[k]:.3f}"
        )
    if prof:
        pieces = ", ".join(f"{k} {v:.1f}" for k, v in prof["ms_per_experiment"].items())
        print(f"profile, ms per experiment (process time; {prof['total_ms_per_experiment']:.1f} in all, "
              f"{prof['rest_ms_per_experiment']:.1f} outside the layer): {pieces}")  # fmt: skip
    if memory:
        print(
            f"peak memory, {memory['experiments']} experiments: {memory['peak_rss_mib']:,.0f} MiB "
            f"(Python + numpy + cartelsim alone: {memory['baseline_rss_mib']:,.0f} MiB)"
        )
    if vs is not None:
        print(
            f"vs {args.against} ({vs['commit'][:10]}): {vs['rev_per_experiment_s']:.3f} s per experiment against "
            f"{vs['current_per_experiment_s']:.3f} s now, interleaved: speedup {vs['speedup']:.2f}x"
        )
    print(f"load average before {out['machine']['loadavg_before']}, after {out['machine']['loadavg_after']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
