"""`cartelsim routes` and the shipped routes scenario, end to end."""

import pytest
from typer.testing import CliRunner

import cartelsim
from cartelsim import scenarios
from cartelsim.cli import app

runner = CliRunner()
SCENARIO = scenarios.path("routes-crackdown")


def test_routes_prints_origins_busiest_places_and_port_shares(tmp_path):
    png = tmp_path / "maps" / "nl.png"
    r = runner.invoke(
        app, ["routes", str(SCENARIO), "--at", "2021-03-15", "--policy", "crackdown-nuevo-laredo", "--out", str(png)]
    )
    assert r.exit_code == 0, r.output
    text = r.output
    assert "policy crackdown-nuevo-laredo at 2021-03-12 (week 166); 1 geography intervention active" in text
    assert "Badiraguato" in text and "path km" in text  # origins with their port and path length
    assert "Busiest municipalities" in text and "n_routes" in text and "unshocked" in text
    laredo = next(line for line in text.splitlines() if line.startswith("│ 2304 │"))
    assert "Nuevo Laredo" in laredo and "│       0.0% │" in laredo  # closed twin: nothing crosses at Laredo
    assert "diverted onto" in text and f"wrote {png}" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_routes_baseline_before_the_policy_starts():
    r = runner.invoke(app, ["routes", str(SCENARIO), "--at", "2019-06-01", "--policy", "crackdown-nuevo-laredo"])
    assert r.exit_code == 0, r.output
    assert "0 geography interventions active" in r.output and "unshocked" not in r.output
    laredo = next(line for line in r.output.splitlines() if line.startswith("│ 2304 │"))
    assert "37.4%" in laredo


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--at", "2021-13-01"], "--at '2021-13-01': not a date; write it as YYYY-MM-DD"),
        (["--at", "2030-01-01"], "outside the run; allowed: 2018-01-01 to 2024-01-01"),
        (["--at", "2021-01-01", "--policy", "nope"], "allowed: baseline, crackdown-nuevo-laredo, interdiction"),
        (["--at", "2021-01-01", "--out", "map.svg"], "must be a .png file"),
    ],
)
def test_routes_bad_input_exit_2_nothing_written(tmp_path, args, needle):
    args = [a if a != "map.svg" else str(tmp_path / "map.svg") for a in args]
    r = runner.invoke(app, ["routes", str(SCENARIO), *args])
    assert r.exit_code == 2, r.output
    assert needle in " ".join(r.output.split())
    assert list(tmp_path.iterdir()) == []


def test_shipped_scenario_runs(tmp_path):
    out = tmp_path / "routes"
    r = runner.invoke(app, ["run", str(SCENARIO), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    o = cartelsim.load(out).outcomes
    o = o[o["week"] == 156].astype({"policy": str, "variable": str, "level": str, "group": str})
    idx = o[o["variable"] == "flow_to_border_index"].set_index("policy")["value"]
    assert idx["baseline"] == 100.0 and idx["interdiction-all-ports"] == pytest.approx(90.0)
    share = o[(o["variable"] == "flow_share") & (o["group"] == "2304")].set_index("policy")["value"]
    assert share["crackdown-nuevo-laredo"] == 0.0 and share["baseline"] > 0.35
    assert share["baseline"] > share["crackdown-tamaulipas"] > 0.3
