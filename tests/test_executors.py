"""Executors: one interface, bounded in-flight work, errors per item, identical tables on every executor."""

import math
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import cartelsim
from cartelsim.executors import DaskExecutor, ExecutorError, ProcessExecutor, SerialExecutor, make_executor
from cartelsim.experiments import run_experiments, run_to_bundle
from cartelsim.sampling import Factor, make_design

from .conftest import UNCERTAIN, small_text

try:
    import distributed  # noqa: F401

    HAVE_DASK = True
except ImportError:  # pragma: no cover - the [distributed] extra is not installed
    HAVE_DASK = False

needs_dask = pytest.mark.skipif(
    not HAVE_DASK, reason="distributed is not importable (pip install 'cartelsim[distributed]')"
)


@pytest.fixture(scope="module")
def process_pool():
    with ProcessExecutor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def dask_cluster():
    if not HAVE_DASK:
        pytest.skip("distributed is not importable (pip install 'cartelsim[distributed]')")
    # Worker processes, as `cartelsim sweep --executor dask` starts them: the test covers pickling too.
    with DaskExecutor(workers=2, processes=True) as ex:
        yield ex


@pytest.fixture(scope="module")
def scen():
    text = small_text(3, UNCERTAIN).replace("end = 2016-01-01", "end = 2015-01-01")
    return cartelsim.Scenario.from_text(text)


@pytest.fixture(scope="module")
def design():
    fs = [Factor("recruitment_per_member_per_week", 2.45e-3, 2.6e-3), Factor("initial_members", 1.1e5, 1.2e5)]
    return make_design("lhs", fs, 5, seed=3)


def _counting(items, log):
    for x in items:
        log.append(x)
        yield x


@pytest.mark.parametrize("kind", ["serial", "process", "dask"])
def test_map_interface_errors_and_window(kind, process_pool, request):
    ex = {"serial": lambda: SerialExecutor(), "process": lambda: process_pool}.get(kind)
    if kind == "dask":
        ex = lambda: request.getfixturevalue("dask_cluster")  # noqa: E731
    executor = ex()
    pulled: list[float] = []
    got = {}
    window = getattr(executor, "window", 1)
    for i, res in executor.map(math.sqrt, _counting([4.0, -1.0, *range(20)], pulled)):
        got[i] = res
        # never more than `window` items taken from the source but not yet yielded back
        assert len(pulled) - (len(got) - 1) <= window
    assert set(got) == set(range(22))
    assert got[0] == 2.0 and isinstance(got[1], ValueError)  # the error is yielded for its item only
    assert [got[i + 2] for i in range(20)] == [math.sqrt(i) for i in range(20)]


def test_window_defaults_to_twice_the_workers(process_pool):
    assert process_pool.workers == 2 and process_pool.window == 4


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("threads",), r"--executor 'threads': unknown; allowed: serial, process, dask"),
        (("serial", 2), "--workers applies to --executor process or dask"),
        (("process", None, "tcp://x:1"), "--scheduler applies to --executor dask only"),
        (("process", 0), "--workers must be a positive integer"),
    ],
)
def test_make_executor_refuses_bad_options(args, match):
    with pytest.raises(ExecutorError, match=match):
        make_executor(*args)


def _tables(path):
    return {f: pq.read_table(path / f) for f in ("experiments.parquet", "outcomes.parquet")}


def test_same_tables_on_every_executor(tmp_path, scen, design, process_pool, dask_cluster):
    """A sweep gives identical experiments and outcomes tables on serial, process pool and Dask."""
    runs = {}
    for name, ex, size in (
        ("serial", SerialExecutor(), 4),
        ("process", process_pool, 2),
        ("dask", dask_cluster, 3),
    ):
        s = run_to_bundle(scen, tmp_path / name, design=design, executor=ex, batch_size=size, progress=False)
        assert s.n_experiments == 15 and s.n_failed == 0
        runs[name] = _tables(tmp_path / name)
    for name in ("process", "dask"):
        for f, t in runs["serial"].items():
            assert t.equals(runs[name][f]), f"{name} {f}"
    # the Dask workers wrote the parts themselves (they share this file system)
    assert dask_cluster.shares_path(tmp_path / "dask" / "manifest.json")


def test_in_memory_api_on_a_process_pool(scen, process_pool):
    a = run_experiments(scen, progress=False, batch_size=2)
    b = run_experiments(scen, executor=process_pool, progress=False, batch_size=2)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.experiments, b.experiments)


def test_dask_without_shared_files_sends_tables_back(tmp_path, scen, dask_cluster, monkeypatch):
    """Workers that cannot see DIR.partial return their tables; this process writes the parts."""
    ref = run_to_bundle(scen, tmp_path / "ref", progress=False, batch_size=2)
    monkeypatch.setattr(type(dask_cluster), "shares_path", lambda self, path: False)
    s = run_to_bundle(scen, tmp_path / "d", executor=dask_cluster, progress=False, batch_size=2)
    assert s.n_experiments == ref.n_experiments == 9
    for f, t in _tables(tmp_path / "ref").items():
        assert t.equals(pq.read_table(tmp_path / "d" / f)), f


@needs_dask
def test_dask_bad_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match=r"--scheduler tcp://127\.0\.0\.1:1: cannot connect"):
        DaskExecutor(scheduler="tcp://127.0.0.1:1", timeout="1s")


def _die_on_three(x: int) -> int:
    if x == 3:
        os._exit(1)  # a worker lost mid-batch (segfault, out of memory)
    return x * 10


def test_a_dead_worker_fails_its_items_only(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))  # so workers can import this module
    with ProcessExecutor(workers=2) as pool:
        got = dict(pool.map(_die_on_three, range(24)))
    assert set(got) == set(range(24))
    assert isinstance(got[3], BrokenProcessPool)
    lost = {i for i, r in got.items() if isinstance(r, BaseException)}
    assert len(lost) <= pool.window  # only what was in flight when the pool noticed
    assert all(got[i] == i * 10 for i in set(range(24)) - lost)  # the pool was replaced; the rest ran
