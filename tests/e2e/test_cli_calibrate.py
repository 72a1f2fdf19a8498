"""`cartelsim calibrate`: the refit from the command line."""

import tomllib

import pytest
from typer.testing import CliRunner

from cartelsim.calibrate import FIT_PARAMETERS
from cartelsim.cli import app

runner = CliRunner()


def flat(output: str) -> str:
    return " ".join(output.split())


def test_default_refit_prints_parameters_table_and_loss():
    r = runner.invoke(app, ["calibrate"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    out = flat(r.output)
    assert "recruitment_per_member_per_week │ rho │ 0.00252734 │ 0.00252747 │ -0.005% │ fitted" in out
    assert "conflict_rate_per_member_pair_per_week │ theta │ 1.54895e-08" in out
    assert "incapacitation_per_week │ eta │ 110 │ 110 │ │ held" in out
    assert all(f"│ {y} │" in out for y in range(2012, 2022))
    assert "loss (sum over 520 weeks of (model deaths - target)^2): 37,963" in out


def test_out_writes_a_parameters_block_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "fit.toml"
    r = runner.invoke(app, ["calibrate", "--free", "rho,theta", "--out", str(path)])
    assert r.exit_code == 0, r.output
    params = tomllib.loads(path.read_text())["parameters"]
    assert list(params) == list(FIT_PARAMETERS)
    assert params["recruitment_per_member_per_week"] == pytest.approx(2.527474e-3, rel=0.005)
    before = path.read_text()
    r = runner.invoke(app, ["calibrate", "--out", str(path)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert path.read_text() == before
    r = runner.invoke(app, ["calibrate", "--free", "rho", "--out", str(path), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert "freed: recruitment_per_member_per_week;" in path.read_text()


@pytest.mark.parametrize(
    ("free", "needle"),
    [
        ("rho,speed", "--free: cannot fit 'speed'; allowed: recruitment_per_member_per_week (rho)"),
        ("victim_share_cartel", "initial_members (C0)"),
        ("rho,rho", "named twice"),
        ("", "name at least one parameter"),
    ],
)
def test_bad_free_exit_2_nothing_written(tmp_path, free, needle):
    path = tmp_path / "fit.toml"
    r = runner.invoke(app, ["calibrate", "--free", free, "--out", str(path)])
    assert r.exit_code == 2
    assert needle in flat(r.output)
    assert not path.exists()


def test_out_in_a_missing_folder(tmp_path):
    r = runner.invoke(app, ["calibrate", "--out", str(tmp_path / "no" / "fit.toml")])
    assert r.exit_code == 2 and "does not exist" in flat(r.output)
