"""Organisation and geography together: cartels' trafficking capacity sets the volume reaching the border."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import cartelsim
import cartelsim.organisation.layer as org_layer
from cartelsim import scenarios
from cartelsim.scenario import Record

from .organisation.conftest import CAMPAIGN, org_text

STRIKE_FLOWS = scenarios.path("strike-flows")
#: Small scale, leaders easy to find and every targeted removal of a leader splitting its cartel: fissions.
FORCE = {
    "organisation_scale": 0.1,
    "detect_per_sortie_leader": 2e-3,
    "fission_probability_1000_members": 0.9,
    "fission_probability_20000_members": 0.95,
}


def strike_flows(end=dt.date(2027, 1, 1), national=1, force=FORCE):
    """The shipped scenario, one year, with fissions forced."""
    sc = cartelsim.Scenario.from_toml(STRIKE_FLOWS)
    unc = {k: v for k, v in sc.uncertainty.items() if k not in force}
    return sc.replace(end=end, record=Record(national, 13), uncertainty=unc, parameters={**sc.parameters, **force})


def _frame(res):
    o = res.outcomes.astype({"variable": str, "policy": str, "level": str, "group": str})
    return o[["experiment_id", "level", "group", "variable", "week", "value"]]


def test_flow_to_border_tracks_trafficking_capacity():
    text = org_text(
        CAMPAIGN.format(start="2012-07-01", target="logistics", sorties=400, strikes=40),
        end="2014-01-01",
        record="{ national = 4, groups = 52 }",
    ).replace('layers = ["ecosystem", "organisation"]', 'layers = ["ecosystem", "organisation", "geography"]')
    res = cartelsim.run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
    o = res.outcomes.astype({"variable": str, "policy": str, "level": str})
    nat = o[o["level"] == "national"]

    def series(policy, var):
        s = nat[(nat["policy"] == policy) & (nat["variable"] == var)].sort_values("week")
        return s["value"].to_numpy()

    # no geography intervention: routes do not change, so the flow index is the capacity index
    for pol in ("baseline", "strikes"):
        assert series(pol, "flow_to_border_index").size == 2 * 52 // 4
        np.testing.assert_allclose(
            series(pol, "flow_to_border_index"), series(pol, "trafficking_capacity_index"), rtol=1e-9
        )
    assert series("strikes", "new_assets_destroyed").sum() > 0
    assert series("strikes", "flow_to_border_index")[-1] < series("baseline", "flow_to_border_index")[-1]


def test_strike_flows_with_fissions_adds_up(monkeypatch):
    shipped = cartelsim.Scenario.from_toml(STRIKE_FLOWS)
    campaign = cartelsim.Scenario.from_toml(STRIKE_FLOWS.with_name("strike-campaign.toml"))
    assert shipped.layers == ("ecosystem", "organisation", "geography") and shipped.replicates <= 3
    assert shipped.policies == campaign.policies and shipped.uncertainty == campaign.uncertainty
    assert shipped.record.groups is not None  # flows in space: deaths by state and municipality, routes, ports
    # two faction columns at a time: after each fission the week's flows are narrower than the registry
    # (the crash "index 166 is out of bounds for axis 1 with size 166" once 16 columns were used)
    monkeypatch.setattr(org_layer, "GROW_COLUMNS", 2)
    res = cartelsim.run_experiments(strike_flows(), replicates=1, progress=False)
    assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
    o = _frame(res)
    nat = o[o["level"] == "national"].set_index(["experiment_id", "variable", "week"])["value"]
    fissions = nat.xs("new_fissions", level="variable").groupby(level="experiment_id").sum()
    assert fissions.max() >= 2 and (fissions > 0).sum() >= 2
    fac = res.groups[res.groups["experiment_id"].notna()]
    assert len(fac) == 2 * fissions.sum()
    k = 13
    for lev in ("cartel", "state", "municipality"):  # groups (factions included) add up to the nation
        sub = o[o["level"] == lev]
        assert lev != "cartel" or set(fac["group"]) <= set(sub["group"])
        for var in sorted(set(sub["variable"]) - {"n_routes"}):  # n_routes: routes through a municipality
            got = sub[sub["variable"] == var].groupby(["experiment_id", "week"])["value"].sum()
            n = nat.xs(var, level="variable")
            if var.startswith("new_"):  # a flow: the national weekly rows summed over the group window
                n = n.groupby([n.index.get_level_values(0), n.index.get_level_values(1) // k * k]).sum()
            want = n.reindex(got.index)
            assert want.notna().all(), (lev, var)
            np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=f"{lev} {var}")
    # faction deaths are placed where their root group operates: deaths in space follow the cartel rows
    cart = o[(o["level"] == "cartel") & (o["variable"] == "new_conflict_deaths")]
    state = o[(o["level"] == "state") & (o["variable"] == "new_conflict_deaths")]
    split = cart[cart["group"].isin(set(fac["group"]))]
    assert split["value"].sum() > 0
    pd.testing.assert_series_equal(
        state.groupby(["experiment_id", "week"])["value"].sum(),
        cart.groupby(["experiment_id", "week"])["value"].sum(),
        rtol=1e-9,
    )


def test_recording_interval_changes_what_is_written_never_what_is_simulated():
    # DESIGN.md, Coupling: the volume on the routes is passed every week, never read back from the recorder.
    # The reference week (5) is not a multiple of 3: read back from the recorder, the flow there was stale.
    runs = {}
    for k in (1, 3):
        sc = strike_flows(national=k).replace(reference=dt.date(2026, 2, 5))
        assert sc.reference_week == 5
        res = cartelsim.run_experiments(sc, replicates=1, progress=False)
        assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
        runs[k] = _frame(res)
    one, three = runs[1], runs[3]
    key = ["experiment_id", "level", "group", "variable", "week"]
    assert set(three["variable"]) == set(one["variable"])
    nat1 = one[one["level"] == "national"]
    nat3 = three[three["level"] == "national"]
    flows = nat1["variable"].str.startswith("new_")
    stocks = nat1[~flows].merge(nat3, on=key, suffixes=("_1", "_3"))
    assert len(stocks) == len(nat3[~nat3["variable"].str.startswith("new_")])
    for var, sub in stocks.groupby("variable"):  # stocks, indices and shares: equal at the common weeks
        np.testing.assert_array_equal(sub["value_1"], sub["value_3"], err_msg=var)
    weekly = nat1[flows].sort_values(key)
    summed = {}  # weeks 3j..3j+2 added in week order, as the recorder adds them
    for row in weekly.itertuples(index=False):
        k = (row.experiment_id, row.variable, row.week // 3 * 3)
        summed[k] = summed.get(k, 0.0) + row.value
    derived = {"new_victims_est", "new_deaths_all_est"}  # from the recorded deaths after the run: rounding
    for row in nat3[nat3["variable"].str.startswith("new_")].itertuples(index=False):
        want = summed[(row.experiment_id, row.variable, row.week)]
        assert want == row.value or (row.variable in derived and row.value == pytest.approx(want, rel=1e-13)), row
    others = one[one["level"] != "national"].merge(three[three["level"] != "national"], on=key, suffixes=("_1", "_3"))
    assert len(others) == (one["level"] != "national").sum()
    for (lev, var), sub in others.groupby(["level", "variable"]):  # other levels: recorded every 13 weeks in both
        np.testing.assert_array_equal(sub["value_1"], sub["value_3"], err_msg=f"{lev} {var}")


def test_outcomes_do_not_depend_on_batching_with_fissions():
    # experiments of a batch share the faction columns' width (150 + 16 at the first fission of any of them);
    # a sum over that axis (numpy's pairwise sum splits 150 columns at 72, 166 at 80) must not depend on it
    sc = strike_flows()
    pol = ["strikes-leadership-unilateral", "strikes-leadership-cooperative"]
    runs = [cartelsim.run_experiments(sc, pol, replicates=4, progress=False, batch_size=b) for b in (1, 4)]
    fissions = runs[0].outcomes[runs[0].outcomes["variable"] == "new_fissions"]
    assert fissions.groupby("experiment_id", observed=True)["value"].sum().max() >= 2
    key = ["experiment_id", "level", "group", "variable", "week"]
    base = _frame(runs[0]).sort_values(key).reset_index(drop=True)
    for res in runs[1:]:
        assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
        other = _frame(res).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(other, base, check_exact=True)
        pd.testing.assert_frame_equal(res.groups, runs[0].groups)
