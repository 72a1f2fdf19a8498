"""Failed experiments are loud: run lists them all, readers say per policy how many replicates succeeded."""

import pytest
from typer.testing import CliRunner

import cartelsim
from cartelsim import experiments
from cartelsim.cli import app
from cartelsim.results import FailedExperimentsWarning

from ..conftest import small_text

runner = CliRunner()


@pytest.fixture
def failing(monkeypatch):
    """Every experiment of 'halve-recruitment' fails, and replicate 0 of 'double-incapacitation'."""
    real = experiments.simulate_batch

    def simulate(scenario, specs, *a, **k):
        for s in specs:
            if s.policy == "halve-recruitment" or (s.policy == "double-incapacitation" and s.replicate == 0):
                raise FloatingPointError(f"non-finite members in experiment {s.experiment_id}")
        return real(scenario, specs, *a, **k)

    monkeypatch.setattr(experiments, "simulate_batch", simulate)


@pytest.fixture
def bundle(tmp_path, failing):
    scen = tmp_path / "s.toml"
    scen.write_text(small_text(3))
    out = tmp_path / "b"
    r = runner.invoke(app, ["run", str(scen), "--out", str(out), "-q"])
    assert r.exit_code == 1, r.output  # written, with failures
    assert "9 experiments, 4 failed" in r.output
    assert "4 experiments failed:" in r.output
    assert r.output.count("FloatingPointError") == 4  # every failure listed, not the first few
    return out


def test_run_lists_failures_beyond_a_screenful(tmp_path, failing):
    scen = tmp_path / "s.toml"
    scen.write_text(small_text(25))
    r = runner.invoke(app, ["run", str(scen), "--out", str(tmp_path / "b"), "-q"])
    assert r.exit_code == 1
    assert "75 experiments, 26 failed" in r.output and "26 experiments failed:" in r.output  # 25 + 1
    assert r.output.count("FloatingPointError") == 20
    assert "and 6 more (all in" in r.output


def test_compare_shows_the_failed_policy_and_the_short_one(bundle):
    r = runner.invoke(app, ["compare", str(bundle)], env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output
    assert "halve-recruitment (FAILED: 0 of 3)" in r.output  # shown, never dropped
    assert "double-incapacitation (2 of 3)" in r.output
    assert "3 replicates per policy, fewer where a policy says so" in r.output
    assert "failed experiments:" in r.output


def test_compare_table_keeps_every_policy(bundle):
    with pytest.warns(FailedExperimentsWarning, match="halve-recruitment: FAILED"):
        res = cartelsim.load(bundle)
    from cartelsim.analysis.compare import compare

    t = compare(res, 100, 50)
    counts = t.groupby("policy", sort=False)[["replicates", "total"]].first()
    assert counts.to_dict("index") == {
        "baseline": {"replicates": 3, "total": 3},
        "halve-recruitment": {"replicates": 0, "total": 3},
        "double-incapacitation": {"replicates": 2, "total": 3},
    }
    assert t.loc[t["policy"] == "halve-recruitment", "value_q50"].isna().all()
    rc = res.replicate_counts()
    assert rc[["policy", "ok", "failed", "total"]].values.tolist() == [
        ["baseline", 3, 0, 3],
        ["halve-recruitment", 0, 3, 3],
        ["double-incapacitation", 2, 1, 3],
    ]


def test_plot_marks_the_failed_policy_and_exits_1(bundle, tmp_path):
    import matplotlib.pyplot as plt

    labels: list[list[str]] = []
    real_close = plt.close

    def close(fig=None):
        if fig is not None and hasattr(fig, "axes"):
            labels.append([t.get_text() for t in fig.axes[0].get_legend().get_texts()])
        real_close(fig)

    plt.close = close
    try:
        r = runner.invoke(app, ["plot", str(bundle), "--out", str(tmp_path / "fig")])
    finally:
        plt.close = real_close
    assert r.exit_code == 1, r.output
    assert len(list((tmp_path / "fig").glob("*.png"))) == 3
    assert labels and all(
        ls == ["baseline", "halve-recruitment: FAILED (0 of 3 replicates)", "double-incapacitation (2 of 3 replicates)"]
        for ls in labels
    )


def test_a_bundle_where_everything_failed_says_so(tmp_path, monkeypatch):
    def boom(scenario, specs, *a, **k):
        raise FloatingPointError("synthetic")

    monkeypatch.setattr(experiments, "simulate_batch", boom)
    scen = tmp_path / "s.toml"
    scen.write_text(small_text(2))
    out = tmp_path / "b"
    assert runner.invoke(app, ["run", str(scen), "--out", str(out), "-q"]).exit_code == 1
    for cmd in (["compare", str(out)], ["plot", str(out)]):
        r = runner.invoke(app, cmd)
        assert r.exception is None or isinstance(r.exception, SystemExit), r.output  # no traceback
        assert r.exit_code == 1 and "every experiment failed" in r.output, r.output
