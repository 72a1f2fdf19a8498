"""`cartelsim sensitivity` and `cartelsim discover` on small real sweeps (ecosystem only), and their errors."""

import datetime as dt
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cartelsim.analysis.sweeps import SweepBundle, sweep_outcome
from cartelsim.bundle import file_checksums
from cartelsim.cli import app

from ..conftest import UNCERTAIN, small_text

runner = CliRunner()
FACTORS = ("recruitment_per_member_per_week", "victim_share_cartel")
WINDOW = ("--variable", "new_victims_est", "--since", "2014-01-01", "--at", "2015-01-01")


def cli(*args):
    r = runner.invoke(app, [str(a) for a in args])
    return r.exit_code, " ".join(r.output.split())


def scenario_file(folder):
    text = small_text(1, UNCERTAIN).replace("end = 2016-01-01", "end = 2015-01-01")
    text = text.replace("record = { national = 1, groups = 52 }", 'record = { national = 13, groups = "none" }')
    p = folder / "s.toml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """One Morris, one Sobol (second order) and one LHS sweep, and a plain run, of a 3-year world."""
    d = tmp_path_factory.mktemp("sweeps")
    s = scenario_file(d)
    for name, args in {
        "morris": ("--method", "morris", "--samples", "10"),  # 30 rows
        "sobol": ("--method", "sobol", "--samples", "8"),  # 48 rows
        "lhs": ("--method", "lhs", "--samples", "30"),
    }.items():
        code, out = cli("sweep", s, *args, "--out", d / name, "-q")
        assert code == 0, out
    code, out = cli("run", s, "--out", d / "run", "--replicates", "3", "-q")
    assert code == 0, out
    return d


def test_morris_ranking_table_plot_and_csv(sweeps, tmp_path):
    b = sweeps / "morris"
    code, out = cli(
        "sensitivity", b, *WINDOW, "--policy", "halve-recruitment", "--vs", "baseline", "--csv", tmp_path / "m.csv"
    )
    assert code == 0, out
    assert "morris design, 30 rows x 2 factors" in out and "morris ranking by mu_star" in out
    assert "new_victims_est summed over weeks 104-155 (2014-01-01 up to 2015-01-01, exclusive)" in out
    assert "halve-recruitment below baseline in 30 of 30 replicates (100.0%)" in out  # prevention always helps
    png = b / "figures" / "sensitivity_new_victims_est_halve-recruitment_vs_baseline.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and f"wrote {png}" in out
    t = pd.read_csv(tmp_path / "m.csv").set_index("factor")
    assert set(t.index) == set(FACTORS) and list(t["rank"]) == [1, 2]
    # victims = conflict deaths / victim_share: a higher share means a smaller estimated reduction (mu > 0);
    # faster recruitment means more members for prevention to cut (mu < 0)
    assert t.loc["victim_share_cartel", "mu"] > 0 and t.loc["recruitment_per_member_per_week", "mu"] < 0
    assert (t["mu_star"] >= t["mu"].abs() - 1e-9).all()


def test_sobol_and_lhs(sweeps):
    code, out = cli(
        "sensitivity", sweeps / "sobol", *WINDOW, "--policy", "halve-recruitment", "--out", sweeps / "sobol.png"
    )
    assert code == 0, out
    assert "sobol ranking by ST" in out and "second-order Sobol indices" in out and (sweeps / "sobol.png").is_file()
    code, out = cli("sensitivity", sweeps / "lhs", *WINDOW, "--policy", "halve-recruitment", "--vs", "baseline")
    assert code == 0, out
    assert "A Latin hypercube has no Morris or Sobol indices" in out and "PRCC" in out and "ranking by |prcc|" in out
    assert (sweeps / "lhs" / "figures" / "sensitivity_new_victims_est_halve-recruitment_vs_baseline.png").is_file()


def test_discover_box_on_a_known_direction(sweeps):
    """Where is prevention's estimated reduction larger than its median? Where victim_share is low."""
    b = sweeps / "lhs"
    bundle = SweepBundle.load(b, ["new_victims_est"])
    o = sweep_outcome(
        bundle, "new_victims_est", dt.date(2015, 1, 1), "halve-recruitment", vs="baseline", since=dt.date(2014, 1, 1)
    )
    margin = float(np.median(o.values))
    code, out = cli(
        "discover",
        b,
        *WINDOW,
        "--policy",
        "halve-recruitment",
        "--vs",
        "baseline",
        f"--margin={margin}",
        "--threshold",
        "0.9",
    )
    assert code == 0, out
    assert f"cases of interest (halve-recruitment below baseline - {-margin:g}): 15 of 30 (50.0%)" in out
    box = re.search(r"│ victim_share_cartel │ ([0-9.e-]+) │ ([0-9.e-]+) │ (\w+) │", out)
    assert box is not None and box.group(3) == "high", out  # the box caps the share from above ...
    assert 0.095 < float(box.group(2)) < 0.105  # ... near its median, 0.10
    assert "recruitment_per_member_per_week │" not in out
    assert "coverage" in out and "density" in out and "mass" in out
    png = b / "figures" / "discover_new_victims_est_halve-recruitment_vs_baseline.png"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_discover_nothing_to_find_writes_nothing(sweeps):
    code, out = cli("discover", sweeps / "morris", *WINDOW, "--policy", "baseline", "--vs", "halve-recruitment")
    assert code == 0, out
    assert "cases of interest (baseline below halve-recruitment): 0 of 30 (0.0%)" in out
    assert "No box to find" in out and "nowhere" in out and "Nothing written" in out
    assert not (sweeps / "morris" / "figures" / "discover_new_victims_est_baseline_vs_halve-recruitment.png").exists()


@pytest.mark.parametrize(
    ("command", "bundle", "args", "needles"),
    [
        ("sensitivity", "run", (), ["not a sweep bundle", "cartelsim sweep"]),
        ("sensitivity", "morris", ("--variable", "n_drones"), ["unknown variable 'n_drones'", "new_victims_est"]),
        ("discover", "morris", ("--policy", "drones"), ["--policy 'drones': unknown policy", "halve-recruitment"]),
        (
            "sensitivity",
            "morris",
            ("--at", "2014-02-01", "--since", None),
            ["not recorded", "nearest recorded dates:", "2014-01-01 (week 104)"],
        ),
        ("sensitivity", "morris", ("--at", "2014-13-01"), ["--at '2014-13-01': not a date"]),
        ("discover", "morris", ("--out", "x.pdf"), ["must be a .png file"]),
        ("discover", "morris", ("--margin", "lots"), ["--margin 'lots'", "2%"]),
        ("discover", "morris", ("--alpha", "0.7"), ["--alpha 0.7: must lie in (0, 0.5)"]),
        ("sensitivity", "nowhere", (), ["is not a cartelsim bundle"]),
    ],
)
def test_errors_exit_2_and_write_nothing(sweeps, command, bundle, args, needles):
    base = {
        "--variable": "new_victims_est",
        "--since": "2014-01-01",
        "--at": "2015-01-01",
        "--policy": "halve-recruitment",
        "--vs": "baseline",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for k, v in base.items() if v is not None for x in (k, v)]
    before = sorted(p.name for p in sweeps.rglob("*"))
    code, out = cli(command, sweeps / bundle, *flat)
    assert code == 2, out
    for n in needles:
        assert n in out, out
    assert sorted(p.name for p in sweeps.rglob("*")) == before


def reseal(bundle):
    m = json.loads((bundle / "manifest.json").read_text())
    m["files"] = file_checksums(bundle)
    (bundle / "manifest.json").write_text(json.dumps(m))


def test_failed_experiments_are_named(sweeps, tmp_path):
    b = tmp_path / "failed"
    shutil.copytree(sweeps / "morris", b)
    ex = pd.read_parquet(b / "experiments.parquet")
    hit = (ex["policy"] == "halve-recruitment") & (ex["replicate"] == 4)
    ex.loc[hit, ["status", "message"]] = ["failed", "FloatingPointError: synthetic"]
    ex.to_parquet(b / "experiments.parquet", index=False)
    reseal(b)  # the edit is deliberate: give the manifest the new checksums
    shutil.rmtree(b / "figures", ignore_errors=True)  # figures of the copied bundle are replaced only with --overwrite
    code, out = cli("sensitivity", b, *WINDOW, "--policy", "halve-recruitment", "--vs", "baseline")
    assert code == 2 and "1 of 30 design rows have no value" in out
    assert "(halve-recruitment, replicate 4): FloatingPointError: synthetic" in out
    code, out = cli("discover", b, *WINDOW, "--policy", "halve-recruitment", "--vs", "baseline")
    assert code == 0 and "left out: 1 replicate(s) with a failed experiment" in out and "29 of 29" in out
