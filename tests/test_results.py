import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import cartelsim
from cartelsim import scenarios
from cartelsim.bundle import BundleError
from cartelsim.results import BundleExistsError, write_bundle


@pytest.fixture
def bundle(tmp_path, small_uncertain):
    res = cartelsim.run_experiments(small_uncertain, progress=False)
    return res, res.save(tmp_path / "b")


def test_round_trip(bundle):
    res, path = bundle
    back = cartelsim.load(path)
    pd.testing.assert_frame_equal(res.outcomes, back.outcomes)
    pd.testing.assert_frame_equal(res.experiments, back.experiments)
    assert back.hash == res.hash
    assert not path.with_name("b.partial").exists()


def test_bundle_layout_follows_design(bundle):
    _, path = bundle
    t = pq.read_table(path / "outcomes.parquet")
    assert t.column_names == [
        "experiment_id",
        "scenario",
        "policy",
        "replicate",
        "week",
        "date",
        "level",
        "group",
        "variable",
        "value",
    ]
    assert str(t.schema.field("date").type) == "date32[day]"
    o = t.to_pandas()
    for c in ("scenario", "policy", "level", "group", "variable"):
        o[c] = o[c].astype(str)
    keys = ["experiment_id", "level", "group", "variable", "week"]
    assert o[keys].equals(o[keys].sort_values(keys, kind="stable").reset_index(drop=True))
    assert not o.duplicated(keys).any()
    assert set(o["level"]) == {"national", "cartel"}
    assert set(o.loc[o["level"] == "national", "group"]) == {""}
    cart = o[o["level"] == "cartel"]
    assert cart.groupby(["experiment_id", "variable", "week"]).size().eq(150).all()  # zeros included
    first = o[o["week"] == 53].iloc[0]
    assert str(first["date"]) == "2013-01-08"
    g = pd.read_parquet(path / "groups.parquet")
    assert list(g.columns) == ["experiment_id", "group", "label", "kind", "parent"] and len(g) == 150
    assert g["experiment_id"].isna().all()
    m = json.loads((path / "manifest.json").read_text())
    for k in (
        "format_version",
        "package_version",
        "master_seed",
        "scenario",
        "data_checksums",
        "wall_time_s",
    ):
        assert k in m
    assert m["master_seed"] == 7 and "bacrim2020/nodes.csv" in m["data_checksums"]


def test_no_person_names_in_bundle(bundle):
    _, path = bundle
    labels = pd.read_parquet(path / "groups.parquet")["label"]
    assert labels.str.match(r"^Group \d{5} \(").sum() == 60  # groups named after persons get neutral labels


def test_same_seed_same_values(tmp_path, small_uncertain):
    a = cartelsim.run_experiments(small_uncertain, progress=False).save(tmp_path / "a")
    b = cartelsim.run_experiments(small_uncertain, progress=False).save(tmp_path / "b")
    for f in ("experiments.parquet", "outcomes.parquet"):
        assert pq.read_table(a / f).equals(pq.read_table(b / f))


def test_existing_dir_is_not_overwritten(bundle):
    res, path = bundle
    before = (path / "outcomes.parquet").stat().st_mtime_ns
    with pytest.raises(BundleExistsError, match="--overwrite"):
        res.save(path)
    assert (path / "outcomes.parquet").stat().st_mtime_ns == before
    res.save(path, overwrite=True)
    assert cartelsim.load(path).outcomes.shape == res.outcomes.shape


def test_failed_write_leaves_nothing(tmp_path, small):
    res = cartelsim.run_experiments(small, progress=False)

    def bad_tables():
        yield from res.iter_tables()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_bundle(tmp_path / "x", res.experiments, bad_tables(), res.groups, res.manifest)
    assert list(tmp_path.iterdir()) == []


def test_load_rejects_non_bundle(tmp_path):
    with pytest.raises(BundleError, match=r"missing experiments\.parquet"):
        cartelsim.load(tmp_path)


def test_select_errors_name_recorded(bundle):
    res, _ = bundle
    with pytest.raises(KeyError, match="recorded: n_cartels, n_members"):
        res.select("n_strikes")
    s = res.select("n_members")
    assert np.isfinite(s["value"]).all()


def test_every_recorded_variable_declares_its_kind():
    """Flow or stock comes from the registry, never from the name (a flow is summed over its interval)."""
    from cartelsim.variables import VARIABLES, is_flow

    kinds = {v.kind for v in VARIABLES.values()}
    assert kinds <= {"stock", "flow", "index", "share"}
    sc = cartelsim.Scenario.from_toml(scenarios.path("strike-flows"))
    sc = sc.replace(end=dt.date(sc.start.year + 1, 1, 1), replicates=1)
    res = cartelsim.run_experiments(sc, [], progress=False)
    recorded = set(res.outcomes["variable"].astype(str))
    assert recorded <= set(VARIABLES), recorded - set(VARIABLES)
    assert is_flow("new_strikes") and not is_flow("n_members") and not is_flow("flow_to_border_index")
    with pytest.raises(KeyError, match="no variable 'new_made_up'"):
        is_flow("new_made_up")  # a name that looks like a flow is not one unless registered
