"""Allocation of conflict deaths to states and municipalities (cartelsim.geography.violence)."""

import numpy as np
import pandas as pd
import pytest

import cartelsim.data
from cartelsim import places
from cartelsim.data import data_path
from cartelsim.geography import load_route_graph, solve_routes
from cartelsim.geography import violence as vio
from cartelsim.geography.routes import diverted_onto
from cartelsim.geography.shocks import crackdown
from cartelsim.network import load_network
from cartelsim.params import ParamSpec
from cartelsim.params.violence import FITTED, VIOLENCE, defaults

M = 2469


@pytest.fixture(scope="module")
def ids():
    return load_network().ids


@pytest.fixture(scope="module")
def deaths(ids):
    rng = np.random.default_rng(7)
    return rng.gamma(0.5, 20.0, size=(4, len(ids)))


@pytest.fixture(scope="module")
def routes():
    g = load_route_graph()
    origins = g.municipality_index(places.producing_regions()["code"])
    base = solve_routes(g, origins).n_routes
    after = solve_routes(g, origins, crackdown(g, municipalities=["05030", "08019", "01001"], cost_factor=np.inf))
    return base, after.n_routes


def _fresh_caches():
    for f in (vio._bundled_parts, vio._bundled_weights, vio._ucdp_events, vio._homicides_state):
        f.cache_clear()
    vio._homicides_municipality.cache_clear()


def test_rows_add_up_to_national_and_states_to_their_municipalities(ids, deaths, routes):
    base, after = routes
    e = deaths.shape[0]
    params = {
        "violence_fatality_weight_share": np.array([0.0, 0.75, 1.0, 0.75]),
        "violence_background_share": np.array([0.0, 0.1, 0.5, 0.1]),
        "violence_diverted_route_factor": np.array([1.0, 1.2, 3.0, 1.2]),
    }
    for nr, br in ((None, None), (np.tile(after, (e, 1)), np.tile(base, (e, 1)))):
        states, munis = vio.allocate_deaths(deaths, ids, nr, br, params)
        assert states.shape == (e, 32) and munis.shape == (e, M)
        assert (munis >= 0).all()
        np.testing.assert_allclose(munis.sum(axis=1), deaths.sum(axis=1), rtol=1e-13)
        np.testing.assert_allclose(states.sum(axis=1), deaths.sum(axis=1), rtol=1e-13)
        codes = places.municipalities()["state_code"].to_numpy()
        by_hand = np.stack([munis[:, codes == s].sum(axis=1) for s in vio.STATE_CODES], axis=1)
        np.testing.assert_allclose(states, by_hand, rtol=1e-12, atol=1e-12)


def test_presence_rows_sum_to_one_and_are_positive_with_a_background(ids):
    w = vio.presence_weights(ids)
    assert w.shape == (len(ids), M)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    assert (w > 0).all()  # the population background reaches every municipality


def test_weights_ignore_events_after_2016(ids):
    ev = vio.ucdp_events()
    assert ev["year"].max() == 2019 and (ev["year"] > 2016).sum() == 1703
    late = ev["year"] > 2016
    altered = ev.copy()
    rng = np.random.default_rng(0)
    altered.loc[late, "municipality_code"] = rng.permutation(altered.loc[late, "municipality_code"].to_numpy())
    altered.loc[late, "state_code"] = (
        altered.loc[late, "municipality_code"].str[:2].where(altered.loc[late, "municipality_code"] != "", "12")
    )
    altered.loc[late, "best"] = altered.loc[late, "best"] * 10 + 3
    altered.loc[late, "side_a_node"] = "N10001"  # a group UCDP never records in 2012-2016
    extra = altered[late].head(50).assign(event_id=lambda d: d["event_id"] + 10**7, year=2021)
    altered = pd.concat([altered, extra], ignore_index=True)
    removed = ev[~late]
    w = vio.presence_weights(ids)
    np.testing.assert_array_equal(vio.presence_weights(ids, events=altered), w)
    np.testing.assert_array_equal(vio.presence_weights(ids, events=removed), w)
    # ... while a change inside 2012-2016 does move them (the test can fail)
    early = ev.copy()
    early.loc[early["year"] == 2014, "best"] += 100
    assert not np.allclose(vio.presence_weights(ids, events=early), w)


def test_allocation_reads_no_homicide_data(ids, deaths, routes, monkeypatch):
    base, after = routes
    nr, br = np.tile(after, (4, 1)), np.tile(base, (4, 1))
    want = vio.allocate_deaths(deaths, ids, nr, br, {})
    real = cartelsim.data.data_path

    def guarded(dataset, filename):
        if dataset == "mx_homicides":
            raise AssertionError("the allocation read homicide data")
        return real(dataset, filename)

    def boom():
        raise AssertionError("the allocation read homicide data")

    _fresh_caches()
    monkeypatch.setattr(vio, "data_path", guarded)
    monkeypatch.setattr(cartelsim.data, "data_path", guarded)
    monkeypatch.setattr(vio, "homicides_by_state", boom)
    monkeypatch.setattr(vio, "homicides_by_municipality", boom)
    try:
        got = vio.allocate_deaths(deaths, ids, nr, br, {})
        with pytest.raises(AssertionError, match="homicide"):
            vio.homicides_by_state()
    finally:
        _fresh_caches()
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_route_uplift_raises_the_diverted_onto_share(ids, deaths, routes):
    base, after = routes
    div = diverted_onto(after, base)
    assert 10 <= div.sum() <= 60
    e = deaths.shape[0]
    nr, br = np.tile(after, (e, 1)), np.tile(base, (e, 1))
    _, plain = vio.allocate_deaths(deaths, ids, None, None, {})
    _, same = vio.allocate_deaths(deaths, ids, np.tile(base, (e, 1)), br, {})  # nothing diverted: no change
    np.testing.assert_allclose(same, plain, rtol=1e-12)
    _, off = vio.allocate_deaths(deaths, ids, nr, br, {"violence_diverted_route_factor": 1.0})
    np.testing.assert_allclose(off, plain, rtol=1e-12)
    for factor in (1.2, 2.0):
        _, up = vio.allocate_deaths(deaths, ids, nr, br, {"violence_diverted_route_factor": factor})
        rise = up[:, div].sum(axis=1) / plain[:, div].sum(axis=1) - 1
        # the diverted-onto places hold a small share of each cartel's weight: the rise is just under factor - 1
        assert ((rise > 0.9 * (factor - 1)) & (rise < factor - 1)).all(), rise
        assert (up[:, ~div].sum(axis=1) < plain[:, ~div].sum(axis=1)).all()
        np.testing.assert_allclose(up.sum(axis=1), plain.sum(axis=1), rtol=1e-13)
        ratio = up / plain
        assert (ratio[:, div] > 1).all() and (ratio[:, ~div] < 1).all()


def test_uplift_is_per_experiment(ids, deaths, routes):
    base, after = routes
    nr = np.stack([after, base, after, after])  # experiment 1 is not diverted
    br = np.tile(base, (4, 1))
    factor = np.array([1.5, 1.5, 1.0, 1.5])
    _, up = vio.allocate_deaths(deaths, ids, nr, br, {"violence_diverted_route_factor": factor})
    _, plain = vio.allocate_deaths(deaths, ids, None, None, {})
    np.testing.assert_allclose(up[1:3], plain[1:3], rtol=1e-12)
    div = diverted_onto(after, base)
    assert (up[[0, 3]][:, div] > plain[[0, 3]][:, div]).all()


def test_fallback_for_groups_ucdp_never_records(ids):
    parts = vio.presence_parts(ids)
    net = load_network()
    listed = dict(zip(net.ids, net.listed_states, strict=True))
    assert parts.recorded.sum() == 19  # groups with a 2012-2016 event that has a state
    assert parts.recorded[ids.index("N10025")] and parts.recorded[ids.index("N10013")]
    i = int(np.flatnonzero(~parts.recorded)[0])
    muni = places.municipalities()
    state_name = places.states().set_index("state_code")["name"]
    in_state = (muni["state_code"].map(state_name) == listed[ids[i]]).to_numpy()
    w_all = vio.presence_weights(ids, {"violence_listed_state_share": 1.0, "violence_background_share": 0.0})
    assert w_all[i, ~in_state].sum() == 0.0
    pop = muni["pop_2020"].to_numpy(dtype=float)
    np.testing.assert_allclose(w_all[i, in_state], pop[in_state] / pop[in_state].sum(), rtol=1e-12)
    f = defaults()["violence_listed_state_share"]
    w = vio.presence_weights(ids)
    np.testing.assert_allclose(w[i, in_state].sum(), f + (1 - f) * pop[in_state].sum() / pop.sum(), rtol=1e-12)
    # a recorded group's weight follows its UCDP events, not its listed state
    j = ids.index("N10013")  # Sinaloa, listed under Durango
    assert listed["N10013"] == "Durango" and parts.n_events[j] > 100
    in_durango = (muni["state_code"] == "10").to_numpy()
    assert w[j, in_durango].sum() < 0.1


def test_factions_take_their_parent_and_unknown_ids_fail(ids):
    w = vio.presence_weights(["N10025", "N10025.1", "N10001.2"])
    np.testing.assert_array_equal(w[0], w[1])
    np.testing.assert_array_equal(w[2], vio.presence_weights(["N10001"])[0])
    with pytest.raises(KeyError, match="N99999"):
        vio.presence_weights(["N99999"])
    with pytest.raises(ValueError, match="shape"):
        vio.allocate_deaths(np.ones((2, 3)), ["N10025", "N10013"], None, None, {})
    with pytest.raises(ValueError, match="at least 1"):
        vio.allocate_deaths(np.ones((1, 1)), ["N10025"], None, None, {"violence_diverted_route_factor": 0.5})


def test_parameters_are_specs_and_fitted_defaults_match_the_fit():
    assert all(isinstance(p, ParamSpec) for p in VIOLENCE)
    assert [p.name for p in VIOLENCE][:4] == list(FITTED)
    for p in VIOLENCE:
        assert p.low <= p.default <= p.high and p.range is not None and p.low <= p.range[0] <= p.range[1] <= p.high
        assert ("fitted on 2012-2016" in p.source) or p.source.startswith("assumption")
    fit = pd.read_csv(data_path("violence_fit", "fitted_parameters.csv")).set_index("name")
    assert list(fit.index) == list(FITTED)
    spec = {p.name: p for p in VIOLENCE}
    for name in FITTED:
        assert spec[name].default == pytest.approx(fit.loc[name, "value"], abs=1e-9)
        assert spec[name].range == pytest.approx((fit.loc[name, "range_low"], fit.loc[name, "range_high"]))
        assert fit.loc[name, "period"] == "2012-2016"
        assert fit.loc[name, "loss"] < fit.loc[name, "population_only_loss"]


def test_packaged_violence_data():
    st = vio.homicides_by_state()
    mun = vio.homicides_by_municipality()
    assert list(st.columns) == ["state_code", "year", "homicides"] and list(mun.columns) == [
        "code",
        "year",
        "homicides",
    ]
    nat = mun.groupby("year")["homicides"].sum()
    assert nat[2006] == 10393 and nat[2018] == 34404 and nat[2021] == 33626  # SOURCE.md's national sums
    assert st.groupby("year")["homicides"].sum()[2021] == 34346
    assert mun["code"].nunique() == 2467 and mun["code"].str.len().eq(5).all()
    ev = vio.ucdp_events()
    assert len(ev) == 2676 and ev["best"].sum() == 28625
    early = ev[ev["year"] <= 2016]
    assert len(early) == 973 and (early["municipality_code"] != "").sum() == 876
    assert not {"adm_1", "adm_2", "latitude", "longitude", "side_a_label", "side_b_label"} & set(ev.columns)
    ok = ev["municipality_code"] != ""
    assert (ev.loc[ok, "municipality_code"].str[:2] == ev.loc[ok, "state_code"]).all()
    assert set(ev.loc[ok, "municipality_code"]) <= set(places.municipalities()["code"])
