"""`cartelsim sweep` and `cartelsim run --executor`: bundles, bad input, kill -9 and Ctrl-C then resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cartelsim
from cartelsim.cli import app
from cartelsim.sampling import Design

from ..conftest import UNCERTAIN, small_text

runner = CliRunner()
EXE = Path(sys.executable).with_name("cartelsim")
FACTORS = ["recruitment_per_member_per_week", "victim_share_cartel"]


@pytest.fixture
def scen(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(small_text(3, UNCERTAIN).replace("end = 2016-01-01", "end = 2015-01-01"))
    return p


@pytest.fixture
def slow_scen(tmp_path):
    """A sweep slow enough (stochastic, 20 years) that a kill always lands while batches are still running."""
    p = tmp_path / "slow.toml"
    text = small_text(3, UNCERTAIN).replace("end = 2016-01-01", "end = 2032-01-01")
    p.write_text(text.replace("seed = 7", "seed = 7\nstochastic = true"))
    return p


def cli(*args):
    r = runner.invoke(app, [str(a) for a in args])
    return r.exit_code, " ".join(r.output.split())


def same_tables(a, b):
    for f in ("experiments.parquet", "outcomes.parquet"):
        ta, tb = pq.read_table(a / f), pq.read_table(b / f)
        assert ta.equals(tb), f


def test_sweep_bundle_holds_design_and_factor_columns(tmp_path, scen):
    code, out = cli("sweep", scen, "--method", "morris", "--samples", "2", "--out", tmp_path / "m", "-q")
    assert code == 0, out
    assert "wrote" in out and "18 experiments, 0 failed" in out  # 2 trajectories x 3 rows x 3 policies
    res = cartelsim.load(tmp_path / "m")
    m = json.loads((tmp_path / "m" / "manifest.json").read_text())
    d = Design.from_manifest(m["design"])
    assert (d.method, d.n, d.seed, d.names) == ("morris", 2, 7, FACTORS)  # the scenario's seed by default
    assert m["design"]["options"]["num_levels"] == 4 and m["design"]["factors"][0]["low"] == 2.45e-3
    base = res.experiments[res.experiments["policy"] == "baseline"].sort_values("replicate")
    assert (base[FACTORS].to_numpy() == d.samples).all()


def test_all_uncertain_sweeps_every_ranged_parameter(tmp_path):
    p = tmp_path / "plain.toml"
    p.write_text(small_text(1).replace("end = 2016-01-01", "end = 2015-01-01"))
    code, out = cli("sweep", p, "--method", "lhs", "--samples", "3", "--out", tmp_path / "b", "-q")
    assert code == 2 and "nothing to sweep" in out and "--all-uncertain" in out
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()
    code, out = cli("sweep", p, "--method", "lhs", "--samples", "3", "--out", tmp_path / "b", "--all-uncertain", "-q")
    assert code == 0, out
    ex = cartelsim.load(tmp_path / "b").experiments
    from cartelsim.params import PARAMS

    assert {n for n, s in PARAMS.items() if s.range} <= set(ex.columns)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--method", "sobol", "--samples", "12"], ["--samples 12", "power of 2", "8 and 16"]),
        (["--method", "grid", "--samples", "4"], ["--method 'grid'", "allowed: lhs, morris, sobol"]),
        (["--method", "lhs", "--samples", "0"], ["--samples 0", ">= 1"]),
        (["--method", "lhs", "--samples", "4", "--executor", "gpu"], ["allowed: serial, process, dask"]),
        (["--method", "lhs", "--samples", "4", "--workers", "2"], ["--workers applies to --executor process or dask"]),
        (["--method", "lhs", "--samples", "4", "--scheduler", "tcp://h:1"], ["--scheduler applies to --executor dask"]),
        (["--method", "lhs", "--samples", "4", "--num-levels", "4"], ["--num-levels applies to --method morris"]),
    ],
)
def test_bad_options_exit_2_nothing_written(tmp_path, scen, args, needles):
    code, out = cli("sweep", scen, "--out", tmp_path / "b", *args)
    assert code == 2, out
    for n in needles:
        assert n in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_mismatched_partial_exit_2(tmp_path, scen):
    partial = tmp_path / "b.partial"
    (partial / "parts").mkdir(parents=True)
    (partial / "run.json").write_text(json.dumps({"format": "cartelsim.partial/1", "kind": "run"}))
    code, out = cli("sweep", scen, "--method", "lhs", "--samples", "4", "--out", tmp_path / "b")
    assert code == 2 and "holds another run" in out and "remove it, or pass --overwrite" in out
    assert "the scenario text" in out and "the design" in out
    assert sorted(p.name for p in partial.iterdir()) == ["parts", "run.json"] and not (tmp_path / "b").exists()
    (partial / "run.json").unlink()  # e.g. left by something else: not resumable either
    code, out = cli("run", scen, "--out", tmp_path / "b")
    assert code == 2 and "no run.json: not a resumable run" in out
    code, out = cli("sweep", scen, "--method", "lhs", "--samples", "4", "--out", tmp_path / "b", "--overwrite", "-q")
    assert code == 0, out
    assert not partial.exists() and (tmp_path / "b" / "outcomes.parquet").is_file()


def test_run_on_a_process_pool_same_tables(tmp_path, scen):
    """`cartelsim run --executor process` writes the serial run's tables (Dask: tests/test_executors.py)."""
    assert cli("run", scen, "--out", tmp_path / "serial", "-q")[0] == 0
    code, out = cli("run", scen, "--out", tmp_path / "process", "--executor", "process", "--workers", "2", "-q")
    assert code == 0 and "9 experiments, 0 failed" in out, out
    same_tables(tmp_path / "serial", tmp_path / "process")
    m = json.loads((tmp_path / "process" / "manifest.json").read_text())
    assert m["execution"]["executor"] == "ProcessExecutor" and m["execution"]["workers"] == 2


def _launch(args):
    # Ctrl-C must reach the command as a user's would, even where the tests run as a background job (a
    # non-interactive shell starts those with SIGINT ignored, and Python then never raises KeyboardInterrupt)
    return subprocess.Popen(
        [str(EXE), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_parts(partial, proc, n, timeout=60.0):
    """Wait until at least ``n`` batches are finished in ``partial`` (while ``proc`` still runs)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        parts = partial / "parts"
        done = len(list(parts.glob("*.experiments.arrow"))) if parts.is_dir() else 0
        if done >= n:
            return done
        assert proc.poll() is None, f"the sweep ended before it could be interrupted: {proc.communicate()}"
        time.sleep(0.005)
    raise AssertionError("no parts appeared")


def _check_complete(out, n):
    ids = pq.read_table(out / "experiments.parquet").column("experiment_id").to_pylist()
    assert ids == list(range(n))  # none lost, none duplicated, in order
    o = pq.read_table(out / "outcomes.parquet", columns=["experiment_id"]).column("experiment_id")
    counts = pc.value_counts(o).to_pylist()
    assert sorted(c["values"] for c in counts) == list(range(n))
    assert len({c["counts"] for c in counts}) == 1  # every experiment has its full set of rows


def test_kill_9_then_resume_gives_the_uninterrupted_tables(tmp_path, slow_scen):
    """SIGKILL a sweep once some parts exist; the same command resumes it; tables equal an uninterrupted run."""
    out = tmp_path / "sw"
    args = ["sweep", slow_scen, "--method", "lhs", "--samples", "20", "--out", out, "--batch-size", "1"]
    proc = _launch(args)
    try:
        killed_at = _wait_for_parts(tmp_path / "sw.partial", proc, 3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    finished = len(list((tmp_path / "sw.partial" / "parts").glob("*.experiments.arrow")))
    assert 3 <= killed_at <= finished < 60
    r = subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert "resuming from" in r.stderr and f"{finished} were done before" in " ".join(r.stdout.split())
    assert not (tmp_path / "sw.partial").exists()
    code, text = cli(*args[:7], tmp_path / "ref", "-q")  # the same sweep, uninterrupted, other batches
    assert code == 0, text
    same_tables(out, tmp_path / "ref")
    _check_complete(out, 60)


def test_ctrl_c_on_a_process_pool_then_resume(tmp_path, slow_scen):
    out = tmp_path / "sw"
    args = ["sweep", slow_scen, "--method", "lhs", "--samples", "20", "--out", out, "--batch-size", "1"]
    proc = _launch([*args, "--executor", "process", "--workers", "2"])
    try:
        _wait_for_parts(tmp_path / "sw.partial", proc, 2)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again to resume" in " ".join(stderr.split())
    assert "Traceback" not in stderr
    assert not out.exists() and (tmp_path / "sw.partial" / "run.json").is_file()
    code, text = cli(*args)  # resumed here, on another executor: the executor is not part of the run
    assert code == 0 and "were done before" in text, text
    code, text = cli(*args[:7], tmp_path / "ref", "-q")
    assert code == 0, text
    same_tables(out, tmp_path / "ref")
    _check_complete(out, 60)


def _pool_children(proc, n, timeout=30.0):
    """The pids of the ``n`` worker processes of ``proc``'s pool (and any helper it started), once started."""
    import psutil

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        kids = psutil.Process(proc.pid).children(recursive=True)
        if sum("spawn_main" in " ".join(k.cmdline()) for k in kids if k.is_running()) >= n:
            return kids
        time.sleep(0.05)
    raise AssertionError("the pool's workers did not start")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_worker_outlives_a_killed_process_pool_run(tmp_path, slow_scen, sig):
    """SIGKILL or SIGTERM the parent of a process-pool sweep: its workers end within seconds, parts stop."""
    import psutil

    args = ["sweep", slow_scen, "--method", "lhs", "--samples", "20", "--out", tmp_path / "sw", "--batch-size", "1"]
    proc = _launch([*args, "--executor", "process", "--workers", "2"])
    parts = tmp_path / "sw.partial" / "parts"
    try:
        _wait_for_parts(tmp_path / "sw.partial", proc, 1)
        kids = _pool_children(proc, 2)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)  # workers hold the pipes: this returns only once they are gone
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(kids, timeout=5)
    assert not alive, [k.pid for k in alive]
    assert proc.returncode in ((-signal.SIGKILL,) if sig == signal.SIGKILL else (128 + signal.SIGTERM, -signal.SIGTERM))
    assert "Traceback" not in stderr
    before = sorted(p.name for p in parts.iterdir())
    time.sleep(1.5)
    assert sorted(p.name for p in parts.iterdir()) == before  # no batch finished after the command ended
    assert len([p for p in before if p.endswith(".experiments.arrow")]) < 60
