import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartelsim.cli import app

from ..conftest import UNCERTAIN, small_text

runner = CliRunner()


@pytest.fixture
def scen(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(small_text(3, UNCERTAIN))
    return p


def test_run_compare_plot(tmp_path, scen):
    out = tmp_path / "b"
    r = runner.invoke(app, ["run", str(scen), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "9 experiments, 0 failed" in r.output
    r = runner.invoke(app, ["compare", str(out), "--at", "2015-06-01", "--ref", "2014-01-01"])
    assert r.exit_code == 0, r.output
    assert "halve-recruitment" in r.output and "median [10%, 90%]" in r.output and "new_victims_est" in r.output
    r = runner.invoke(app, ["plot", str(out), "--out", str(tmp_path / "fig")])
    assert r.exit_code == 0, r.output
    pngs = sorted(p.name for p in (tmp_path / "fig").glob("*.png"))
    assert pngs == ["n_members.png", "new_conflict_deaths.png", "new_victims_est.png"]
    assert (tmp_path / "fig" / "n_members.png").read_bytes()[:4] == b"\x89PNG"


def test_existing_out_needs_overwrite(tmp_path, scen):
    out = tmp_path / "b"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = runner.invoke(app, ["run", str(scen), "--out", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        (("factor = 0.5", "factor = -0.5"), "key 'factor': must be within [0, 100]"),
        (('name = "halve-recruitment"', 'name = "baseline"'), "'baseline' is reserved"),
        (("start = 2012-01-01", "start = 2012-02-01"), "must be a 1 January"),
        (("seed = 7", "seed = 7\nspeed = 3"), "[scenario] key 'speed': unknown key"),
    ],
)
def test_bad_scenario_exit_2_nothing_written(tmp_path, patch, needle):
    p = tmp_path / "bad.toml"
    p.write_text(small_text(1).replace(*patch))
    out = tmp_path / "b"
    r = runner.invoke(app, ["run", str(p), "--out", str(out)])
    assert r.exit_code == 2
    assert str(p) in r.output and needle in " ".join(r.output.split())
    assert not out.exists() and not (tmp_path / "b.partial").exists()


def test_compare_bad_inputs(tmp_path, scen):
    out = tmp_path / "b"
    runner.invoke(app, ["run", str(scen), "--out", str(out)])
    r = runner.invoke(app, ["compare", str(out), "--at", "2030-01-01"])
    assert r.exit_code == 2 and "outside the run" in r.output
    r = runner.invoke(app, ["compare", str(out), "--at", "June"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = runner.invoke(app, ["compare", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "not a cartelsim bundle" in r.output


def test_params_lists_spec():
    r = runner.invoke(app, ["params"])
    assert r.exit_code == 0 and "recruitment_per_member_per_week" in r.output


def test_validate_prints_table():
    r = runner.invoke(app, ["validate"])
    assert r.exit_code == 0, r.output
    assert "173,800" in r.output and "within tolerance" in r.output
    assert "unclassified" not in r.output  # every row has a basis rule
    assert "1.738e+05" not in r.output


def test_console_script_and_shipped_scenario(tmp_path):
    exe = Path(sys.executable).with_name("cartelsim")
    out = tmp_path / "pc"
    r = subprocess.run(
        [str(exe), "run", "pc2023", "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert (out / "outcomes.parquet").is_file()


def test_shipped_scenarios_run_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no scenarios/ folder here: the name comes from the package
    r = runner.invoke(app, ["run", "pc2023", "--out", "b", "-q", "--replicates", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", "pc2024", "--out", "c"])
    assert r.exit_code == 2 and "not a shipped scenario" in r.output and "pc2023" in r.output
    r = runner.invoke(app, ["scenarios"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "strike-campaign" in r.output and "strike-campaign.toml" in r.output
