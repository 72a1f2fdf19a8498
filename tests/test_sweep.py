"""Sweeps and resumable bundles: design rows as replicates, parts, resume, consolidation."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import cartelsim
from cartelsim import experiments as exp_mod
from cartelsim import results as res_mod
from cartelsim.experiments import experiment_specs, replicate_seed, run_experiments, run_to_bundle
from cartelsim.params import PARAMS
from cartelsim.partial import PartialMismatchError
from cartelsim.results import BundleExistsError
from cartelsim.rng import replicate_seeds
from cartelsim.sampling import Design
from cartelsim.simulation import simulate_batch
from cartelsim.sweep import run_sweep, sweep_design, sweep_factors

from .conftest import UNCERTAIN, small_text

SHORT = small_text(4, UNCERTAIN).replace("end = 2016-01-01", "end = 2015-01-01")
FACTOR_COLS = ["recruitment_per_member_per_week", "victim_share_cartel"]


@pytest.fixture
def scen():
    return cartelsim.Scenario.from_text(SHORT)


@pytest.fixture
def design(scen):
    return sweep_design(scen, "lhs", 6)


def tables(path):
    return {f: pq.read_table(path / f) for f in ("experiments.parquet", "outcomes.parquet")}


def assert_same_tables(a, b):
    ta, tb = tables(a), tables(b)
    for f in ta:
        assert ta[f].equals(tb[f]), f


def test_replicate_seed_is_the_spawned_child():
    assert [replicate_seed(20230922, r) for r in range(5)] == replicate_seeds(20230922, 5)


def test_factors_from_uncertainty_and_all_uncertain(scen):
    fs = sweep_factors(scen)
    assert [f.name for f in fs] == FACTOR_COLS
    assert (fs[0].low, fs[0].high) == (2.45e-3, 2.6e-3) and fs[1].dist["dist"] == "triangular"
    every = sweep_factors(scen, all_uncertain=True)
    ranged = {n for n, p in PARAMS.items() if p.range is not None}
    assert {f.name for f in every} == ranged | set(FACTOR_COLS)
    by = {f.name: f for f in every}
    assert by["victim_share_cartel"].dist["dist"] == "triangular"  # the scenario's table wins over the range
    assert (by["incapacitation_per_week"].low, by["incapacitation_per_week"].high) == PARAMS[
        "incapacitation_per_week"
    ].range
    plain = cartelsim.Scenario.from_text(small_text(1))
    with pytest.raises(ValueError, match=r"nothing to sweep.*--all-uncertain"):
        sweep_factors(plain)
    fixed = cartelsim.Scenario.from_text(
        small_text(1, '[uncertainty]\nvictim_share_cartel = { dist = "fixed", value = 0.1 }\n')
    )
    with pytest.raises(ValueError, match="nothing to sweep"):
        sweep_factors(fixed)


def test_sobol_needs_power_of_two(scen):
    with pytest.raises(ValueError, match=r"--method sobol --samples 12: .*power of 2.*8 and 16"):
        sweep_design(scen, "sobol", 12)
    with pytest.raises(ValueError, match="--method 'grid': unknown; allowed: lhs, morris, sobol"):
        sweep_design(scen, "grid", 4)
    d = sweep_design(scen, "sobol", 2, calc_second_order=False)
    assert d.n_rows == 2 * (2 + 2)


def test_design_rows_are_replicates(tmp_path, scen, design):
    s = run_sweep(scen, design, tmp_path / "sw", progress=False, batch_size=4)
    assert s.n_experiments == 3 * 6 and s.n_failed == 0
    res = cartelsim.load(tmp_path / "sw")
    ex = res.experiments
    assert list(ex.columns) == [
        "experiment_id",
        "scenario",
        "policy",
        "replicate",
        "seed",
        "status",
        "message",
        *FACTOR_COLS,
    ]
    assert ex["experiment_id"].tolist() == list(range(18))
    for pol, rows in ex.groupby("policy"):
        rows = rows.sort_values("replicate")
        np.testing.assert_array_equal(rows[FACTOR_COLS].to_numpy(), design.samples, err_msg=pol)  # exact values
        assert rows["seed"].tolist() == replicate_seeds(scen.seed, 6)  # paired seeds
    assert Design.from_manifest(res.manifest["design"]) == design
    assert res.manifest["replicates"] == 6 and res.manifest["design"]["method"] == "lhs"
    # the model ran with the row's values: victims = deaths / victim_share_cartel
    o = res.outcomes
    nat = o[(o["level"] == "national") & (o["week"] == 10) & (o["policy"] == "baseline")]
    v = nat.pivot(index="replicate", columns="variable", values="value")
    np.testing.assert_allclose(v["new_conflict_deaths"] / v["new_victims_est"], design.samples[:, 1], rtol=1e-12)
    # the same sweep in memory gives the same tables as the resumable bundle
    mem = run_experiments(scen, design=design, progress=False)
    mem.save(tmp_path / "mem")
    assert_same_tables(tmp_path / "sw", tmp_path / "mem")


def test_an_experiment_depends_only_on_its_seed_and_row(scen, design):
    specs = experiment_specs(scen, design=design)
    whole = simulate_batch(scen, specs)
    one = simulate_batch(scen, [specs[9]])
    for v, arr in one.levels["national"][2].items():
        np.testing.assert_array_equal(arr[0], whole.levels["national"][2][v][9], err_msg=v)


def test_run_bundle_equals_saved_results(tmp_path, scen):
    """`cartelsim run` (resumable, streamed) writes the same tables as Results.save."""
    run_to_bundle(scen, tmp_path / "a", progress=False, batch_size=3)
    run_experiments(scen, progress=False).save(tmp_path / "b")
    assert_same_tables(tmp_path / "a", tmp_path / "b")
    a, b = cartelsim.load(tmp_path / "a"), cartelsim.load(tmp_path / "b")
    pd.testing.assert_frame_equal(a.experiments, b.experiments)
    assert a.hash == b.hash
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "experiments.parquet",
        "groups.parquet",
        "manifest.json",
        "outcomes.parquet",
    ]


def test_row_groups_do_not_depend_on_batches(tmp_path, scen, monkeypatch):
    monkeypatch.setattr(res_mod, "OUTCOME_ROW_GROUP", 1000)
    run_to_bundle(scen, tmp_path / "a", progress=False, batch_size=1)
    run_to_bundle(scen, tmp_path / "b", progress=False, batch_size=5)
    meta = pq.read_metadata(tmp_path / "a" / "outcomes.parquet")
    assert meta.num_row_groups > 10
    assert all(meta.row_group(i).num_rows == 1000 for i in range(meta.num_row_groups - 1))
    assert_same_tables(tmp_path / "a", tmp_path / "b")


class Interrupt(KeyboardInterrupt):
    pass


REAL_RUN_JOB = exp_mod.run_job


def _interrupt_after(monkeypatch, n_jobs):
    """Make the n_jobs+1-th batch raise a KeyboardInterrupt (as Ctrl-C would), counting simulated experiments."""
    real = REAL_RUN_JOB
    seen = {"jobs": 0, "experiments": 0}

    def job(scenario, j, progress=None):
        if n_jobs is not None and seen["jobs"] >= n_jobs:
            raise Interrupt
        seen["jobs"] += 1
        seen["experiments"] += len(j.experiments)
        return real(scenario, j, progress)

    monkeypatch.setattr(exp_mod, "run_job", job)
    return seen


def test_resume_recomputes_nothing_finished(tmp_path, scen, design, monkeypatch):
    ref = tmp_path / "ref"
    run_sweep(scen, design, ref, progress=False, batch_size=4)
    out = tmp_path / "sw"
    _interrupt_after(monkeypatch, 2)
    with pytest.raises(Interrupt):
        run_sweep(scen, design, out, progress=False, batch_size=4)
    partial = tmp_path / "sw.partial"
    assert not out.exists() and partial.is_dir()
    parts = sorted(p.name for p in (partial / "parts").iterdir())
    assert parts == [
        "000000000000-000000000003.experiments.arrow",
        "000000000000-000000000003.outcomes.arrow",
        "000000000004-000000000005.experiments.arrow",
        "000000000004-000000000005.outcomes.arrow",
    ]
    run_json = json.loads((partial / "run.json").read_text())
    assert run_json["kind"] == "sweep" and run_json["replicates"] == 6
    # an interrupted write leaves a temporary file, which the resume removes
    (partial / "parts" / "000000000006-000000000009.outcomes.arrow.tmp-1-x").write_bytes(b"half")
    seen = _interrupt_after(monkeypatch, None)
    s = run_sweep(scen, design, out, progress=False, batch_size=5)  # another batch size: same tables
    assert s.resumed == 6 and seen["experiments"] == 18 - 6  # nothing finished is recomputed
    assert not partial.exists()
    assert_same_tables(ref, out)
    ex = pq.read_table(out / "experiments.parquet").column("experiment_id").to_pylist()
    assert ex == list(range(18))  # none lost, none duplicated
    assert json.loads((out / "manifest.json").read_text())["execution"]["resumed_experiments"] == 6


def test_truncated_part_is_recomputed(tmp_path, scen, design, monkeypatch):
    _interrupt_after(monkeypatch, 2)
    with pytest.raises(Interrupt):
        run_sweep(scen, design, tmp_path / "sw", progress=False, batch_size=3)
    part = tmp_path / "sw.partial" / "parts" / "000000000003-000000000005.experiments.arrow"
    part.write_bytes(part.read_bytes()[:20])  # as if the machine died before the data reached the disk
    seen = _interrupt_after(monkeypatch, None)
    s = run_sweep(scen, design, tmp_path / "sw", progress=False, batch_size=3)
    assert s.resumed == 3 and seen["experiments"] == 15
    run_sweep(scen, design, tmp_path / "ref", progress=False)
    assert_same_tables(tmp_path / "ref", tmp_path / "sw")


def test_mismatched_partial_is_refused(tmp_path, scen, design, monkeypatch):
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(Interrupt):
        run_sweep(scen, design, tmp_path / "sw", progress=False, batch_size=3)
    _interrupt_after(monkeypatch, None)
    other = sweep_design(scen, "lhs", 6, seed=99)
    before = sorted(p.name for p in (tmp_path / "sw.partial" / "parts").iterdir())
    with pytest.raises(
        PartialMismatchError, match=r"holds another run \(it differs in the design\); remove it, or pass --overwrite"
    ):
        run_sweep(scen, other, tmp_path / "sw", progress=False)
    assert sorted(p.name for p in (tmp_path / "sw.partial" / "parts").iterdir()) == before  # untouched
    changed = scen.replace(text=scen.text + "\n# edited\n")
    with pytest.raises(PartialMismatchError, match="it differs in the scenario text"):
        run_sweep(changed, design, tmp_path / "sw", progress=False)
    with pytest.raises(PartialMismatchError, match=r"it differs in the command \(run or sweep\), the design"):
        run_to_bundle(scen, tmp_path / "sw", replicates=6, progress=False)
    s = run_sweep(scen, other, tmp_path / "sw", overwrite=True, progress=False)  # --overwrite discards it
    assert s.resumed == 0 and Design.from_manifest(cartelsim.load(tmp_path / "sw").manifest["design"]) == other


def test_existing_bundle_needs_overwrite(tmp_path, scen, design):
    run_sweep(scen, design, tmp_path / "sw", progress=False)
    with pytest.raises(BundleExistsError, match="--overwrite"):
        run_sweep(scen, design, tmp_path / "sw", progress=False)
    assert not (tmp_path / "sw.partial").exists()
    run_sweep(scen, design, tmp_path / "sw", progress=False, overwrite=True)
    assert cartelsim.load(tmp_path / "sw").experiments.shape[0] == 18


def test_failed_experiments_are_recorded_per_experiment(tmp_path, scen, monkeypatch):
    real = exp_mod.simulate_batch

    def flaky(scenario, experiments, progress=None):
        if any(s.experiment_id == 5 for s in experiments):
            raise FloatingPointError("boom")
        return real(scenario, experiments, progress)

    monkeypatch.setattr(exp_mod, "simulate_batch", flaky)
    s = run_to_bundle(scen, tmp_path / "b", progress=False, batch_size=4)
    assert s.n_failed == 1 and s.failures == [(5, "halve-recruitment", 1, "FloatingPointError: boom")]
    res = cartelsim.load(tmp_path / "b")
    ex = res.experiments.set_index("experiment_id")
    assert ex.loc[5, "status"] == "failed" and ex.loc[4, "status"] == "ok"
    assert not np.isnan(ex.loc[5, "recruitment_per_member_per_week"])  # its draws are still recorded
    ids = set(res.outcomes["experiment_id"])
    assert 5 not in ids and ids == set(range(12)) - {5}  # no rows, never zeros; its batch-mates kept


def test_auto_batch_size(tmp_path, scen):
    rows = exp_mod.estimated_rows(scen)
    run_to_bundle(scen, tmp_path / "b", progress=False)
    actual = pq.read_metadata(tmp_path / "b" / "outcomes.parquet").num_rows / 12
    assert actual / 2 < rows < actual * 2  # a rough estimate, good enough to size batches
    assert exp_mod.auto_batch_size(scen, 12, workers=1) == 3  # four batches per worker
    big = exp_mod.auto_batch_size(scen, 10**6, workers=64)
    assert big == exp_mod.BATCH_MEMORY // exp_mod.estimated_bytes(scen) and 100 < big < 1024  # memory-bound
    national = scen.replace(record=cartelsim.scenario.Record(national=52, groups=None))
    assert exp_mod.auto_batch_size(national, 10**6, workers=64) == 1024
    org = scen.replace(layers=("ecosystem", "organisation"))
    assert exp_mod.auto_batch_size(org, 10**6, workers=64) <= 32  # synthetic members cost ~8 MB each


def test_a_partial_run_is_locked_while_in_use(tmp_path, scen):
    from cartelsim.partial import PartialBusyError, PartialRun

    ident = exp_mod.run_identity(scen, [(0, "baseline")], 4, None)
    first = PartialRun.open(tmp_path / "b", ident)
    try:
        with pytest.raises(PartialBusyError, match="in use by another cartelsim process"):
            PartialRun.open(tmp_path / "b", ident)
    finally:
        first.release()
    again = PartialRun.open(tmp_path / "b", ident)  # released (or its process died): it resumes
    assert again.resumed and again.done == []
    again.release()


def test_check_writes_nothing(tmp_path, scen, design):
    assert exp_mod.check_bundle_target(scen, tmp_path / "b", design=design) is False
    assert list(tmp_path.iterdir()) == []


def test_unbounded_tables_are_truncated_at_their_own_tails():
    from cartelsim import Scenario
    from cartelsim.sweep import sweep_factors

    sc = Scenario.from_text(
        '[scenario]\nname = "x"\nstart = 2012-01-01\nend = 2013-01-01\n[uncertainty]\n'
        'incapacitation_per_week = { dist = "lognormal", median = 110, sigma = 0.3 }\n'
        'victim_share_cartel = { dist = "uniform", low = 0.08, high = 0.12 }\n'
    )
    inc, share = sweep_factors(sc)
    # 0.5% and 99.5% quantiles of lognormal(median 110, sigma 0.3): 110 * exp(-+2.5758 * 0.3)
    assert inc.low == pytest.approx(110 * np.exp(-2.5758293 * 0.3), rel=1e-6)
    assert inc.high == pytest.approx(110 * np.exp(2.5758293 * 0.3), rel=1e-6)
    assert (share.low, share.high) == (0.08, 0.12)  # bounded tables keep their own range
