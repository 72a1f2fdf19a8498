"""The geography layer in the weekly loop: recording rules, index, diversion, caching, seams, ecosystem parity."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import cartelsim
from cartelsim import places
from cartelsim.experiments import experiment_specs
from cartelsim.geography import layer as layer_mod
from cartelsim.geography.layer import GeographyLayer, routes_at
from cartelsim.memo import Memo
from cartelsim.recorder import Recorder
from cartelsim.simulation import draw_values, simulate_batch

TEXT = """
[scenario]
name = "geo-test"
start = 2012-01-01
end = 2015-01-01
seed = 3
replicates = 2
layers = ["ecosystem", "geography"]
record = {{ national = 1, groups = {groups} }}
reference = 2013-01-01
{extra}
[[policy]]
name = "close-nl"
  [[policy.intervention]]
  type = "crackdown"
  start = 2013-07-01
  municipalities = ["28027"]
  cost_factor = inf

[[policy]]
name = "interdict"
  [[policy.intervention]]
  type = "interdiction"
  start = 2014-01-01
  ports = "all"
  seizure_probability = 0.1
  added_cost = 100
"""

N_MUNI, N_PORTS, N_STATES = 2469, 27, 32


def geo_scenario(groups: int = 26, extra: str = "") -> cartelsim.Scenario:
    return cartelsim.Scenario.from_text(TEXT.format(groups=groups, extra=extra))


@pytest.fixture(scope="module")
def res() -> cartelsim.Results:
    return cartelsim.run_experiments(geo_scenario(), progress=False)


@pytest.fixture(scope="module")
def out(res) -> pd.DataFrame:
    o = res.outcomes
    return o.astype({"level": str, "group": str, "variable": str, "policy": str})


def values(out, policy, variable, level="national", group=None, replicate=0):
    m = (out["policy"] == policy) & (out["variable"] == variable) & (out["level"] == level)
    m &= out["replicate"] == replicate
    if group is not None:
        m &= out["group"] == group
    return out[m]


def test_variables_and_levels_recorded(out):
    have = out.groupby("level")["variable"].unique().map(set).to_dict()
    assert {"flow_to_border_index", "n_municipalities_on_routes"} <= have["national"]
    assert "n_routes" in have["municipality"]
    assert have["port"] == {"flow_share"}
    groups = out.groupby("level")["group"].unique().map(set).to_dict()
    assert groups["municipality"] == set(places.municipalities()["code"])
    assert groups["port"] == set(places.ports()["port_code"])


def test_every_recorded_week_has_every_group_zeros_included(out):
    weeks = {"national": 156, "municipality": 6, "port": 6, "state": 6}  # weekly; every 26 weeks
    size = {"national": 1, "municipality": N_MUNI, "port": N_PORTS, "state": N_STATES}
    counts = out.groupby(["experiment_id", "level", "variable"]).size()
    for (_, level, variable), n in counts.items():
        if level in weeks:
            assert n == weeks[level] * size[level], (level, variable, n)
    nr = values(out, "baseline", "n_routes", "municipality")
    assert set(nr["week"]) == {0, 26, 52, 78, 104, 130}
    assert (nr["value"] == 0).mean() > 0.9  # routes cross a few municipalities; the rest are explicit zeros
    assert nr.groupby("week")["group"].nunique().eq(N_MUNI).all()


def test_flow_share_sums_to_one_every_recorded_week(out):
    s = out[out["variable"] == "flow_share"].groupby(["experiment_id", "week"])["value"].sum()
    assert len(s) == 6 * 6
    np.testing.assert_allclose(s.to_numpy(), 1.0, atol=1e-12)


def test_index_is_100_at_the_reference_week_and_counts_seizures(out):
    idx = out[out["variable"] == "flow_to_border_index"]
    assert (idx.loc[idx["week"] == 52, "value"] == 100.0).all()
    inter = values(out, "interdict", "flow_to_border_index").set_index("week")["value"]
    np.testing.assert_allclose(inter.loc[:103], 100.0, rtol=1e-12)
    np.testing.assert_allclose(inter.loc[104:], 90.0, rtol=1e-12)  # 10% seized at every port from 2014
    np.testing.assert_allclose(values(out, "baseline", "flow_to_border_index")["value"], 100.0, rtol=1e-12)


def test_crackdown_diverts_routes(out):
    def routes(policy, week):
        r = values(out, policy, "n_routes", "municipality")
        return r[r["week"] == week].set_index("group")["value"]

    base, closed = routes("baseline", 78), routes("close-nl", 78)
    assert closed["28027"] == 0 and base["28027"] > 0
    diverted = closed[(closed > 0) & (base == 0)]
    assert len(diverted) >= 5  # routes rise from 0 somewhere
    pd.testing.assert_series_equal(routes("baseline", 52), routes("close-nl", 52))  # before the crackdown
    share = values(out, "close-nl", "flow_share", "port", "2304").set_index("week")["value"]
    assert share.loc[52] > 0.3 and share.loc[78] == 0.0
    on = values(out, "close-nl", "n_municipalities_on_routes").set_index("week")["value"]
    assert on.loc[78] == (closed > 0).sum()
    # the same interdiction cost at every port changes no route (warm start from the unshocked solve)
    pd.testing.assert_series_equal(routes("baseline", 130), routes("interdict", 130))


def test_ecosystem_outcomes_unchanged_by_the_geography_layer():
    sc = geo_scenario()
    specs = experiment_specs(sc)
    geo = simulate_batch(sc, specs)
    eco_general = simulate_batch(sc.replace(layers=("ecosystem",)), specs, fused=False)
    eco_fused = simulate_batch(sc.replace(layers=("ecosystem",)), specs)
    for lev in ("national", "cartel"):
        g_groups, g_weeks, g_arrs = geo.levels[lev]
        e_groups, e_weeks, e_arrs = eco_general.levels[lev]
        assert g_groups == e_groups and np.array_equal(g_weeks, e_weeks)
        for v, arr in e_arrs.items():
            np.testing.assert_array_equal(g_arrs[v], arr, err_msg=f"{lev} {v}")  # bit-identical
            np.testing.assert_allclose(g_arrs[v], eco_fused.levels[lev][2][v], rtol=1e-11, atol=1e-9)


def test_violence_allocated_in_space_sums_to_the_national_deaths():
    sc = geo_scenario(groups=52)
    b = simulate_batch(sc, experiment_specs(sc, policies=["close-nl"]))
    cartel = b.levels["cartel"][2]["new_conflict_deaths"].sum(axis=1)
    for lev, n in (("state", N_STATES), ("municipality", N_MUNI)):
        groups, weeks, arrs = b.levels[lev]
        assert len(groups) == n and list(weeks) == [0, 52, 104]
        np.testing.assert_allclose(arrs["new_conflict_deaths"].sum(axis=1), cartel, rtol=1e-9)
        share = 0.10  # victim_share_cartel's default (no [uncertainty])
        np.testing.assert_allclose(arrs["new_victims_est"], arrs["new_conflict_deaths"] / share, rtol=1e-12)


def test_violence_windows_follow_the_group_interval(monkeypatch):
    calls = []

    def fake(deaths, cartel_ids, n_routes, baseline_routes, params):
        calls.append((deaths.copy(), n_routes.copy(), baseline_routes.copy(), len(cartel_ids)))
        e = deaths.shape[0]
        st, mu = np.zeros((e, N_STATES)), np.zeros((e, N_MUNI))
        st[:, 0] = mu[:, 0] = deaths.sum(axis=1)
        return st, mu

    monkeypatch.setattr(layer_mod, "violence_allocator", lambda: fake)
    sc = geo_scenario(groups=40)  # windows 0-39, 40-79, 80-119 and the short last one, 120-155
    b = simulate_batch(sc, experiment_specs(sc, policies=["close-nl"]))
    assert len(calls) == 4 and calls[0][3] == 150
    cartel = b.levels["cartel"][2]["new_conflict_deaths"].sum(axis=1)
    np.testing.assert_allclose(b.levels["state"][2]["new_conflict_deaths"][:, 0, :], cartel, rtol=1e-12)
    routes = b.levels["municipality"][2]["n_routes"]
    for k, (_, n_routes, _, _) in enumerate(calls):
        np.testing.assert_array_equal(n_routes, routes[:, :, k])  # the window's recorded routes
    m = places.municipalities()["code"].tolist().index("28027")
    assert (calls[1][1][:, m] > 0).all()  # window 40-79 opens before the crackdown (week 77)
    closed = slice(2, 4)  # experiments: baseline x 2, then close-nl x 2
    assert (calls[2][1][closed, m] == 0).all() and (calls[2][2][closed, m] > 0).all()  # unshocked as the baseline
    np.testing.assert_array_equal(calls[2][1][:2], calls[2][2][:2])  # the baseline is its own unshocked run


def make_layer(sc, policy="close-nl", allocate=None, memo=None):
    specs = experiment_specs(sc, policies=[policy])
    specs = [s for s in specs if s.policy == policy]
    drawn = [draw_values(sc, s) for s in specs]
    rec = Recorder(len(specs), sc.n_weeks, sc.record.national, sc.record.groups)
    rec.add_level("cartel", ["N10025"])
    return GeographyLayer(sc, [d[0] for d in drawn], [d[1] for d in drawn], rec, allocate=allocate, memo=memo), rec


def run_layer(layer, sc):
    for t in range(sc.spinup_weeks + sc.n_weeks):
        layer.advance(t)
    layer.finish()


def test_one_solve_per_distinct_shock_state_shared_by_experiments():
    sc = geo_scenario().replace(replicates=3)
    run_memo = Memo()  # one run: its batches share the solves
    layer, rec = make_layer(sc, memo=run_memo)
    run_layer(layer, sc)
    assert layer.n_solves == 2  # no shocks, then Nuevo Laredo closed: never per week, never per replicate
    again, _ = make_layer(sc, memo=run_memo)
    run_layer(again, sc)
    assert again.n_solves == 0  # kept by the run: another batch of the run solves nothing
    assert rec.arrays["municipality"]["n_routes"].shape == (3, N_MUNI, 6)


def test_uncertain_route_parameters_solve_per_replicate():
    sc = geo_scenario(extra='[uncertainty]\ncrossing_congestion_km = { dist = "uniform", low = 300, high = 800 }\n')
    layer, rec = make_layer(sc)
    run_layer(layer, sc)
    assert layer.n_solves == 4
    shares = rec.arrays["port"]["flow_share"][:, :, 0]
    assert not np.allclose(shares[0], shares[1])


def test_supply_seam_scales_the_flow():
    sc = geo_scenario()
    layer, _ = make_layer(sc)
    t = sc.spinup_weeks + 100
    unit = layer.solution(int(layer.state_ids(t)[0]))
    layer.supply = np.full((2, layer.origins.size), 2.5)
    doubled = layer.solution(int(layer.state_ids(t)[0]))
    assert doubled.flow_to_border == pytest.approx(2.5 * unit.flow_to_border, rel=1e-9)
    np.testing.assert_allclose(doubled.flow_share, unit.flow_share, atol=2e-3)
    with pytest.raises(ValueError, match="supply must have shape"):
        layer.supply = np.ones((2, 3))
        layer.state_ids(t)


def test_routes_at_matches_the_run(out):
    sc = geo_scenario()
    graph, sol, plain = routes_at(sc, 78, "close-nl")
    rec = values(out, "close-nl", "n_routes", "municipality")
    rec = rec[rec["week"] == 78].set_index("group")["value"].reindex(graph.codes)
    np.testing.assert_array_equal(rec.to_numpy(), sol.n_routes)
    assert plain.n_routes[graph.municipality_index("28027")[0]] > 0
    with pytest.raises(KeyError, match="no policy 'nope'"):
        routes_at(sc, 78, "nope")
    with pytest.raises(ValueError, match="outside the run"):
        routes_at(sc, 156)


def test_geography_off_records_no_routes():
    sc = geo_scenario().replace(layers=("ecosystem",))
    b = simulate_batch(sc, experiment_specs(sc, policies=[]))
    assert set(b.levels) == {"national", "cartel"}


@pytest.mark.parametrize(
    "first",
    ["cartelsim.params.geography", "cartelsim.geography.params", "cartelsim.geography.layer", "cartelsim.params"],
)
def test_import_order_has_no_cycle(first):
    code = f"import {first}; from cartelsim.params import PARAMS; assert 'crossing_congestion_km' in PARAMS"
    subprocess.run([sys.executable, "-c", code], check=True)
