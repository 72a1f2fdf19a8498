import datetime as dt

import numpy as np
import pandas as pd
import pytest

import cartelsim
from cartelsim import scenarios
from cartelsim.experiments import run_experiments
from cartelsim.network import load_network
from cartelsim.params import defaults
from cartelsim.policies.organisation import StrikeCampaign
from cartelsim.variables import VARIABLES

from .conftest import CAMPAIGN, check_members, drive, org_text

SCENARIO = scenarios.path("strike-campaign")
ECO_VARS = ["n_members", "n_cartels", "new_recruits", "new_incapacitated", "new_conflict_deaths",
            "new_saturation_exits", "new_victims_est"]  # fmt: skip


def values(res, policy, variables=None, level="national"):
    o = res.outcomes
    m = (o["policy"] == policy) & (o["level"] == level)
    if variables is not None:
        m &= o["variable"].isin(variables)
    return o[m].sort_values(["replicate", "group", "variable", "week"])


def test_zero_strike_campaign_is_identical_to_baseline():
    """Common random numbers: surveillance that strikes nothing changes nothing."""
    text = org_text(CAMPAIGN.format(start="2012-03-01", target="opportunistic", sorties=500, strikes=0), replicates=2)
    res = run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    for level in ("national", "cartel"):
        a, b = values(res, "baseline", level=level), values(res, "strikes", level=level)
        np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_layer_on_without_campaign_matches_the_ecosystem_alone():
    base = cartelsim.Scenario.from_text(org_text(replicates=2).replace('layers = ["ecosystem", "organisation"]', ""))
    org = cartelsim.Scenario.from_text(org_text(replicates=2))
    a = run_experiments(base, progress=False)
    b = run_experiments(org, progress=False)
    for level in ("national", "cartel"):
        x, y = values(a, "baseline", ECO_VARS, level), values(b, "baseline", ECO_VARS, level)
        np.testing.assert_allclose(y["value"].to_numpy(), x["value"].to_numpy(), rtol=1e-9)  # well within 1%


def test_batching_does_not_change_numbers():
    text = org_text(CAMPAIGN.format(start="2012-02-01", target="mixed", sorties=2000, strikes=20), replicates=3)
    sc = cartelsim.Scenario.from_text(text)
    a = run_experiments(sc, progress=False, batch_size=1).outcomes
    b = run_experiments(sc, progress=False, batch_size=8).outcomes
    pd.testing.assert_frame_equal(a, b)


def test_strike_deaths_leave_the_ecosystem():
    text = org_text(CAMPAIGN.format(start="2012-01-01", target="leadership", sorties=5000, strikes=40), scale=0.05)
    res = run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    b = values(res, "baseline", ["n_members"])["value"].to_numpy()
    s = values(res, "strikes", ["n_members"])["value"].to_numpy()
    killed = values(res, "strikes", ["new_strike_deaths_members"])["value"].to_numpy()
    assert killed[0] > 0
    assert s[1] == pytest.approx(b[1] - killed[0], abs=1e-6)  # week 0's strike deaths are gone at week 1
    toll = values(res, "strikes", ["new_deaths_all_est"])["value"].to_numpy()
    parts = sum(values(res, "strikes", [v])["value"].to_numpy()
                for v in ("new_victims_est", "new_strike_deaths_members", "new_civilian_deaths_strikes"))  # fmt: skip
    np.testing.assert_allclose(toll, parts)
    cap = values(res, "baseline", ["trafficking_capacity_index"])["value"].to_numpy()
    assert cap[0] == pytest.approx(100.0)


def test_member_counts_follow_the_ecosystem_under_a_campaign():
    worst = []
    ivs = [[StrikeCampaign(start=dt.date(2012, 1, 1), sorties_per_week=3000.0, strikes_per_week=30.0, target="mixed")]]

    def each(t, state, layer):
        worst.append(np.abs(layer.members.counts() - 0.2 * state).max())

    _, layer = drive(40, params=[defaults({"organisation_scale": 0.2})], interventions=ivs, each_week=each)
    assert max(worst) <= 0.5 + 1e-6
    assert layer.assets.n_down[0] > 0
    check_members(layer.members)


def test_targeted_arrests_keep_the_total_effort():
    pol = """
[[policy]]
name = "arrests"
  [[policy.intervention]]
  type = "targeted_arrests"
  start = 2012-01-01
  target = "leaders"
  share = 0.02
"""
    res = run_experiments(cartelsim.Scenario.from_text(org_text(pol, scale=1.0)), progress=False)
    b = values(res, "baseline", ["new_incapacitated"])["value"].to_numpy()
    a = values(res, "arrests", ["new_incapacitated"])["value"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6)  # the same national budget, re-targeted
    lb = values(res, "baseline", ["new_leaders_removed"])["value"].sum()
    la = values(res, "arrests", ["new_leaders_removed"])["value"].sum()
    assert la > lb + 0.02 * 110 * 52 * 0.9


def test_unilateral_cooperation_cuts_incapacitation():
    pol = (
        CAMPAIGN.format(start="2012-01-01", target="leadership", sorties=50, strikes=1)
        + """
  [[policy.intervention]]
  type = "cooperation"
  start = 2012-01-01
  mode = "unilateral"
  backlash_factor = 0.8
"""
    )
    res = run_experiments(cartelsim.Scenario.from_text(org_text(pol)), progress=False)
    b = values(res, "baseline", ["new_incapacitated"])["value"].to_numpy()
    s = values(res, "strikes", ["new_incapacitated"])["value"].to_numpy()
    assert s[0] == pytest.approx(0.8 * b[0])


def test_shipped_scenario_runs_and_holds_the_line(tmp_path):
    """The shipped scenario (short, small scale); every string in every output is an id or a neutral label."""
    sc = cartelsim.Scenario.from_toml(SCENARIO)
    assert sc.layers == ("ecosystem", "organisation") and sc.replicates == 20
    assert [p.name for p in sc.policies] == [
        "strikes-leadership-cooperative",
        "strikes-leadership-unilateral",
        "strikes-logistics-cooperative",
        "arrests-at-leaders",
        "halve-recruitment",
        "strikes-and-prevention",
    ]
    sc = sc.replace(end=dt.date(2027, 1, 1), parameters={**sc.parameters, "organisation_scale": 0.02})
    res = run_experiments(sc, replicates=2, progress=False)
    assert (res.experiments["status"] == "ok").all()
    res.save(tmp_path / "b")
    back = cartelsim.load(tmp_path / "b")
    o = back.outcomes
    assert set(o["scenario"].astype(str)) == {"strike-campaign"}
    assert set(o["policy"].astype(str)) == {"baseline", *(p.name for p in sc.policies)}
    assert set(o["level"].astype(str)) == {"national", "cartel"}
    net = load_network()
    cart = set(o.loc[o["level"] == "cartel", "group"].astype(str))
    assert set(net.ids) <= cart and cart - set(net.ids) <= set(back.groups["group"])  # factions: groups.parquet
    assert set(o.loc[o["level"] == "national", "group"].astype(str)) == {""}
    assert set(o["variable"].astype(str)) <= set(VARIABLES)
    for v in ("new_strikes", "new_deaths_all_est", "trafficking_capacity_index", "n_trafficking_capacity"):
        assert v in set(o["variable"].astype(str))
    ex = back.experiments
    text = [c for c in ex.columns if not pd.api.types.is_numeric_dtype(ex[c])]
    assert text == ["scenario", "policy", "status", "message"]
    for col in text:
        vals = set(ex[col].astype(str))
        assert col in ("scenario", "policy", "status", "message"), col
        assert vals <= {"strike-campaign", "ok", "", "baseline", *(p.name for p in sc.policies)}
    g = back.groups
    base = g[g["experiment_id"].isna()]
    labels = dict(zip(base["group"], base["label"], strict=True))
    assert {k: labels[k] for k in net.ids} == dict(zip(net.ids, net.labels, strict=True))
    assert set(base["group"]) == set(net.ids)  # no member, cell or asset ever leaves as a row or a string
    fac = g[g["experiment_id"].notna()]  # factions: neutral ids and labels derived from the network's
    assert fac["group"].str.fullmatch(r"N\d{5}(\.\d+)+").all() and fac["label"].str.startswith("Faction of ").all()
    nat = o[(o["level"] == "national") & (o["variable"] == "new_strikes")]
    assert nat.loc[nat["policy"] == "baseline", "value"].sum() == 0
    assert nat.loc[nat["policy"] == "strikes-leadership-cooperative", "value"].sum() > 0


def test_stochastic_flows_stay_whole_under_retargeting():
    pol = """
[[policy]]
name = "arrests"
  [[policy.intervention]]
  type = "targeted_arrests"
  start = 2012-01-01
  target = "plaza_bosses"
  share = 0.05
"""
    text = org_text(pol, scale=1.0).replace("seed = 11", "seed = 11\nstochastic = true")
    res = run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    for v in ("n_members", "new_incapacitated", "new_leaders_removed"):
        x = values(res, "arrests", [v], level="cartel")["value"].to_numpy()
        np.testing.assert_array_equal(x, np.round(x))
