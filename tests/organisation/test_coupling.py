import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cartelsim.organisation.coupling import apply_flows, removal_counts, targeted_arrests
from cartelsim.organisation.generate import generate
from cartelsim.organisation.layer import OrganisationLayer
from cartelsim.organisation.roles import GUNMAN, LEADER, LOOKOUT, exposure
from cartelsim.params import defaults
from cartelsim.philox import stream_keys

from .conftest import check_members, drive

flows3 = arrays(np.float64, (2, 4, 3), elements=st.floats(0, 50))


@settings(max_examples=60, deadline=None)
@given(flows3, arrays(np.int64, (2, 4), elements=st.integers(0, 200)), st.integers(1, 30))
def test_removal_counts_are_whole_and_carry_fractions(expected, members, weeks):
    acc = np.zeros((2, 4, 3))
    total = np.zeros((2, 4, 3), np.int64)
    for _ in range(weeks):
        k = removal_counts(acc, expected, members, members)  # target = members: no forced extra
        assert (k >= 0).all()
        total += k
    # each type's total is its expected total to within one member (the carried fraction)
    assert np.abs(total - weeks * expected).max() <= 1.0 + 1e-9


def test_removal_counts_make_up_a_shortfall_with_exits():
    acc = np.zeros((1, 1, 3))
    k = removal_counts(acc, np.zeros((1, 1, 3)), np.array([[10]]), np.array([[7]]))
    assert k.tolist() == [[[0, 0, 3]]]


def _setup(n_e=1, scale=0.2, seeds=(3,)):
    state = np.array([[20000.0, 5000.0, 300.0, 2.0]] * n_e)
    p = defaults({"organisation_scale": scale})
    m, cells, _ = generate(state, [p] * n_e, list(seeds), week=0)
    return m, cells, np.stack([exposure(p)] * n_e)


def _apply(m, cells, w, k, target, week=1):
    n_e, n = target.shape
    removed = np.zeros((n_e, n, 3), np.int64)
    leaders = np.zeros((n_e, n), np.int64)
    recruits = np.zeros((n_e, n), np.int64)
    seeds = list(range(n_e))
    apply_flows(m.arrays(), cells.arrays(), k, target, w, np.full(n_e, 0.25 / 0.65), stream_keys(seeds, "r"),
                stream_keys(seeds, "c"), week, removed, leaders, recruits)  # fmt: skip
    return removed, leaders, recruits


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.int64, (1, 4, 3), elements=st.integers(0, 60)), arrays(np.int64, (1, 4), elements=st.integers(-50, 80))
)
def test_removals_never_create_members_and_counts_reach_the_target(k, delta):
    m, cells, w = _setup()
    before = m.counts()
    before_roles = m.role_counts()[0]
    target = np.maximum(before - k.sum(2) + delta, 0)
    was_active = m.active.copy()
    removed, _leaders, recruits = _apply(m, cells, w, k, target)
    assert (removed.sum(2) <= before).all()  # never more than the cartel had
    assert (removed <= k + np.maximum(0, before - k.sum(2) - target)[..., None]).all()
    np.testing.assert_array_equal(m.counts(), target)
    np.testing.assert_array_equal(m.counts(), before - removed.sum(2) + recruits)
    assert not (m.active.astype(bool) & ~was_active.astype(bool)).any()  # recruits take no slot
    grown = m.role_counts()[0] - before_roles  # gunmen and lookouts, counted per cell
    assert (grown[:, [r for r in range(7) if r not in (GUNMAN, LOOKOUT)]] <= 0).all()
    check_members(m, cells.first)


def test_removals_follow_role_exposure():
    m, cells, w = _setup(scale=1.0)
    w = w.copy()
    w[:, 0, :] = 0.0
    w[:, 0, LEADER] = 1.0  # arrests only ever fall on leaders while there are any
    k = np.zeros((1, 4, 3), np.int64)
    k[0, 0, 0] = 3
    before = m.role_counts()[0, 0]
    _apply(m, cells, w, k, m.counts() - k.sum(2))
    after = m.role_counts()[0, 0]
    assert before[LEADER] - after[LEADER] == 3 and (before[1:] == after[1:]).all()


def test_targeted_arrests_pick_the_role_nationally():
    m, _cells, _ = _setup(scale=1.0)
    arrests = np.zeros((1, 4), np.int64)
    leaders = np.zeros((1, 4), np.int64)
    n_lead = m.role_counts()[0, :, LEADER].sum()
    ev, n_ev = np.zeros((n_lead + 5, 5), np.int64), np.zeros(1, np.int64)
    every = np.ones((1, 4), np.bool_)
    targeted_arrests(m.arrays(), np.array([n_lead + 5]), np.array([LEADER]), every, stream_keys([1], "a"), 4, arrests,
                     leaders, ev, n_ev, 0)  # fmt: skip
    assert n_ev[0] == n_lead and (ev[:n_lead, 3] == LEADER).all()
    assert arrests.sum() == n_lead == leaders.sum()  # stops when no target is left
    assert m.role_counts()[0, :, LEADER].sum() == 0


def test_targeted_arrests_skip_groups_that_are_not_eligible():
    m, _cells, _ = _setup(scale=1.0)
    before = m.role_counts()[0, :, LEADER].copy()
    assert before[1] > 0
    arrests, leaders = np.zeros((1, 4), np.int64), np.zeros((1, 4), np.int64)
    eligible = np.array([[True, False, True, True]])
    n = int(before.sum()) + 5
    ev, n_ev = np.zeros((n, 5), np.int64), np.zeros(1, np.int64)
    targeted_arrests(m.arrays(), np.array([n]), np.array([LEADER]), eligible, stream_keys([1], "a"), 4, arrests,
                     leaders, ev, n_ev, 0)  # fmt: skip
    after = m.role_counts()[0, :, LEADER]
    assert after[1] == before[1] and arrests[0, 1] == 0  # the ineligible group keeps every leader
    assert after[[0, 2, 3]].sum() == 0 and arrests.sum() == before.sum() - before[1]
    check_members(m)


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_member_counts_follow_the_ecosystem_every_week(scale):
    """Property of the coupling: |agents - s C_i| <= 1/2 (rounding) for every cartel at every week."""
    worst = []

    def each(t, state, layer):
        worst.append(np.abs(layer.members.counts() - scale * state).max())

    drive(80, params=[defaults({"organisation_scale": scale})] * 2, seeds=(1, 2), each_week=each)
    assert max(worst) <= 0.5 + 1e-6


def test_layer_without_campaign_leaves_flows_untouched():
    layer = OrganisationLayer([1], [defaults({"organisation_scale": 0.1})], [[]], 10)
    assert not layer.schedule.any_campaign
