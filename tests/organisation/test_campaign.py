import numpy as np
import pytest

from cartelsim.organisation.assets import rebuild
from cartelsim.organisation.campaign import ASSET_TIER, MEMBER_TIER, STRATEGIES, geometric_delay, strike_week
from cartelsim.organisation.generate import generate
from cartelsim.organisation.roles import LEADER, LOGISTICS, PLAZA_BOSS, VEHICLE, WAREHOUSE
from cartelsim.params import defaults
from cartelsim.philox import stream_keys

from .conftest import check_members


def world():
    state = np.array([[9000.0, 3000.0, 500.0]])
    return generate(state, [defaults()], [9], week=0)


def strike(m, a, cells, strategy, n, success=1.0, misid=0.0, detect_all=True, week=5):
    p = 1.0 if detect_all else 0.0
    keys = np.stack([stream_keys([1], f"k{i}") for i in range(5)])
    out = np.zeros((6, 1, 3), np.int64)
    listed = np.ones((1, m.n_cartels), bool)
    strike_week(m.arrays(), a.arrays(), cells.first, np.full((1, 7), p), np.full((1, 4), p), listed,
                np.array([STRATEGIES.index(strategy)]), np.array([n]), np.array([success]),
                np.array([misid]), np.array([8.0]), keys, week, MEMBER_TIER, ASSET_TIER, out,
                np.zeros((n, 5), np.int64), np.zeros(1, np.int64))  # fmt: skip
    return out


def test_geometric_delay_mean():
    u = np.random.default_rng(0).random(20000)
    d = np.array([geometric_delay(x, 8.0) for x in u])
    assert d.min() >= 1 and d.mean() == pytest.approx(8.0, rel=0.05)
    assert geometric_delay(0.5, 1.0) == 1


def test_leadership_strikes_leaders_then_plaza_bosses():
    m, cells, a = world()
    lead = int(m.role_counts()[0, :, LEADER].sum())
    before = m.role_counts()[0].sum(0)
    out = strike(m, a, cells, "leadership", lead + 4)
    after = m.role_counts()[0].sum(0)
    assert out[0].sum() == lead + 4 == out[2].sum()
    assert out[3].sum() == lead and after[LEADER] == 0
    assert before[PLAZA_BOSS] - after[PLAZA_BOSS] == 4
    assert (before[2:] == after[2:]).all()
    assert out[4].sum() == 0 and out[1].sum() == 0
    check_members(m)


def test_nothing_detected_nothing_struck():
    m, cells, a = world()
    out = strike(m, a, cells, "opportunistic", 10, detect_all=False)
    assert out.sum() == 0


def test_misidentified_entries_kill_civilians_only():
    m, cells, a = world()
    before = m.counts().copy()
    out = strike(m, a, cells, "leadership", 6, misid=1.0)
    np.testing.assert_array_equal(m.counts(), before)
    assert out[1].sum() == 6 == out[5].sum() and out[2].sum() == 0


def test_failed_strikes_repeat_the_top_entry():
    m, cells, a = world()
    before = m.counts().copy()
    out = strike(m, a, cells, "leadership", 7, success=0.0)
    assert out[0].sum() == 7 and out[0, 0].max() == 7  # all on the same (first) entry's cartel
    np.testing.assert_array_equal(m.counts(), before)


def test_logistics_strikes_destroy_warehouses_first_and_they_come_back():
    m, cells, a = world()
    n_wh = int(a.kind_counts()[0, :, WAREHOUSE].sum())
    out = strike(m, a, cells, "logistics", n_wh + 3, week=5)
    k = a.kind_counts()[0].sum(0)
    assert out[4].sum() == n_wh + 3 and k[WAREHOUSE] == 0
    assert a.n_down[0] == n_wh + 3
    assert m.role_counts()[0, :, LOGISTICS].sum() > 0 and out[2].sum() == 0
    ready = a.ready[0][~a.active[0, : a.n[0]]]
    assert (ready > 5).all()
    rebuild(a.arrays(), int(ready.max()))
    assert a.n_down[0] == 0 and a.kind_counts()[0, :, WAREHOUSE].sum() == n_wh
    assert a.kind_counts()[0, :, VEHICLE].sum() == 6 * int(cells.n_cells[0])


def test_mixed_alternates_leadership_and_logistics():
    m, cells, a = world()
    out = strike(m, a, cells, "mixed", 6)
    assert out[2].sum() == 3 and out[4].sum() == 3


NON_CARTELS = ("N10038", "N10149")  # an armed insurgent group and a community police force (not cartels)


def test_non_cartel_groups_are_never_struck_or_arrested():
    """DESIGN, "Non-cartel groups": on no target list, no targeted arrests, no kingpin removals; in the ecosystem."""
    import cartelsim

    from .conftest import org_text

    pol = """
[[policy]]
name = "everything"
  [[policy.intervention]]
  type = "strike_campaign"
  start = 2012-01-01
  target = "opportunistic"
  sorties_per_week = 400
  strikes_per_week = 300
  [[policy.intervention]]
  type = "targeted_arrests"
  start = 2012-01-01
  target = "leaders"
  share = 0.5
"""
    sc = cartelsim.Scenario.from_text(org_text(pol, end="2013-01-01", scale=1.0, record="{ national = 1, groups = 1 }"))
    res = cartelsim.run_experiments(sc, ["everything"], replicates=1, progress=False)
    assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
    kinds = res.groups.set_index("group")["kind"]
    assert all(kinds[g].endswith("(not a cartel)") for g in NON_CARTELS)
    o = res.outcomes
    cartel = o[(o["level"] == "cartel") & (o["policy"] == "everything")].astype({"group": str, "variable": str})
    hit = ("new_strikes", "new_strike_deaths_members", "new_leaders_removed", "new_civilian_deaths_strikes")
    per = cartel[cartel["variable"].isin(hit)].groupby(["group", "variable"])["value"].sum().unstack()
    assert per.loc[~per.index.isin(NON_CARTELS), "new_strikes"].sum() > 1000  # the campaign did strike
    assert per.loc[~per.index.isin(NON_CARTELS), "new_leaders_removed"].sum() > 1000  # and arrest leaders
    members = cartel[cartel["variable"] == "n_members"].groupby("group")["value"].max()
    assert (members.reindex(NON_CARTELS) > 0).all()  # they are in the ecosystem, with members to strike
    assert (per.reindex(NON_CARTELS).fillna(0).to_numpy() == 0).all(), per.reindex(NON_CARTELS)
