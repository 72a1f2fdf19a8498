"""`cartelsim map`: choropleths from a bundle, and exit code 2 with a clear message on bad input."""

import pytest
from typer.testing import CliRunner

from cartelsim.cli import app

from ..geography.synthetic_bundle import write_synthetic_bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_synthetic_bundle(tmp_path_factory.mktemp("cli-map") / "bundle")


@pytest.mark.parametrize(
    "extra",
    [
        ["--level", "state"],
        ["--level", "municipality"],
        ["--level", "municipality", "--policy", "halve-recruitment", "--vs", "baseline"],
    ],
)
def test_map_writes_png(bundle, tmp_path, extra):
    out = tmp_path / "m.png"
    args = ["map", str(bundle), "--variable", "new_conflict_deaths", "--at", "2013-03-01", "--out", str(out), *extra]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.output.replace("\n", "")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_default_file_name(bundle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(
        app, ["map", str(bundle), "--variable", "n_routes", "--at", "2012-05-01", "--level", "municipality"]
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "map_n_routes_municipality_baseline_2012-01-01.png").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--variable", "n_members", "--at", "2013-01-01"], "recorded there: new_conflict_deaths"),
        (["--variable", "n_routes", "--at", "2013-01-01"], "'n_routes' is recorded at: municipality"),
        (["--variable", "new_conflict_deaths", "--at", "2013-13-01"], "not a date; write it as YYYY-MM-DD"),
        (["--variable", "new_conflict_deaths", "--at", "2030-01-01"], "outside the run"),
        (["--variable", "new_conflict_deaths", "--at", "2013-01-01", "--policy", "strikes"], "policies: baseline"),
        (["--variable", "new_conflict_deaths", "--at", "2013-01-01", "--vs", "strikes"], "--vs 'strikes'"),
        (
            ["--variable", "new_conflict_deaths", "--at", "2013-01-01", "--level", "port"],
            "allowed: state, municipality",
        ),
        (["--variable", "new_conflict_deaths", "--at", "2013-01-01", "--out", "m.pdf"], "must be a .png file"),
    ],
)
def test_bad_input_exit_2_nothing_written(bundle, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["map", str(bundle), *args])
    assert r.exit_code == 2, r.output
    assert needle in " ".join(r.output.split())
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.pdf"))


def test_missing_bundle(tmp_path):
    r = runner.invoke(app, ["map", str(tmp_path / "none"), "--variable", "x", "--at", "2013-01-01"])
    assert r.exit_code == 2 and "not a cartelsim bundle" in r.output
