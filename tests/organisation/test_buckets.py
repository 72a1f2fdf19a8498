import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cartelsim.organisation import buckets


def _check(idx, start, count, cap, pos, members, tail=None):
    for b, items in members.items():
        got = idx[start[b] : start[b] + count[b]]
        assert sorted(got.tolist()) == sorted(items)
        assert count[b] <= cap[b]
        for i in items:
            assert idx[pos[i]] == i
    if tail is not None:  # every bucket's room lies before the free tail, and no two overlap
        room = sorted((int(start[b]), int(start[b] + cap[b])) for b in range(start.size) if cap[b] > 0)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(room))
        assert not room or room[-1][1] <= tail[0] <= idx.size


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=1, max_size=300), st.integers(0, 2**31))
def test_random_adds_and_removes_keep_the_index(ops, seed):
    rng = np.random.default_rng(seed)
    n_b, n_items = 5, 400
    bucket = np.full(n_items, -1)
    bucket[:20] = rng.integers(0, n_b, 20)
    idx, start, count, cap, pos = buckets.build(bucket, n_b, buckets.width_for(n_items, n_b))
    tail = np.array([buckets.tail_of(start, cap)])
    members = {b: [int(i) for i in np.flatnonzero(bucket == b)] for b in range(n_b)}
    nxt = 20
    for add, b in ops:
        if add and nxt < n_items:
            buckets.add(idx, start, count, cap, pos, tail, nxt, b)
            members[b].append(nxt)
            nxt += 1
        elif members[b]:
            i = members[b].pop(int(rng.integers(len(members[b]))))
            buckets.remove(idx, start, count, pos, i, b)
        _check(idx, start, count, cap, pos, members, tail)


def test_a_growing_bucket_moves_to_the_tail_then_the_row_repacks_and_order_is_kept():
    n_b, n_items = 3, 200
    bucket = np.full(n_items, -1)
    bucket[:6] = [0, 1, 2, 0, 1, 2]
    idx, start, count, cap, pos = buckets.build(bucket, n_b, buckets.width_for(n_items, n_b))
    tail = np.array([buckets.tail_of(start, cap)])
    moved = repacked = 0
    for i in range(6, n_items):
        s0, t0 = start.copy(), int(tail[0])
        buckets.add(idx, start, count, cap, pos, tail, i, 1)
        moved += int(tail[0] > t0)
        repacked += int(tail[0] < t0 or (tail[0] == t0 and (start != s0).any()))
    assert moved >= 3 and repacked >= 1
    assert idx[start[1] : start[1] + count[1]].tolist() == [1, 4, *range(6, n_items)]  # insertion order
    _check(idx, start, count, cap, pos, {0: [0, 3], 1: [1, 4, *range(6, n_items)], 2: [2, 5]}, tail)


def test_reserve_makes_room_in_one_repack():
    bucket = np.array([0, 1, 1, -1, -1, -1, -1, -1])
    idx, start, count, cap, pos = buckets.build(bucket, 3, buckets.width_for(8, 3), slack=False)
    tail = np.array([buckets.tail_of(start, cap)])
    buckets.reserve(idx, start, count, cap, pos, tail, np.array([0, 0, 5]))
    assert cap[2] >= 5 and idx[start[1] : start[1] + 2].tolist() == [1, 2]
    s0 = start.copy()
    for i in range(3, 8):
        buckets.add(idx, start, count, cap, pos, tail, i, 2)
    assert (start == s0).all()  # no further move
    _check(idx, start, count, cap, pos, {0: [0], 1: [1, 2], 2: [3, 4, 5, 6, 7]}, tail)


def test_build_without_slack_is_tight():
    idx, start, count, cap, pos = buckets.build(np.array([2, 0, 2, -1]), 3, 3, slack=False)
    assert count.tolist() == [1, 0, 2] and cap.tolist() == [1, 0, 2]
    assert pos[3] == -1 and sorted(idx[start[2] : start[2] + 2].tolist()) == [0, 2]
