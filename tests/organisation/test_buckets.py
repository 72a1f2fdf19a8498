import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cartelsim.organisation import buckets


def _check(idx, start, count, cap, pos, members):
    for b, items in members.items():
        got = idx[start[b] : start[b] + count[b]]
        assert sorted(got.tolist()) == sorted(items)
        assert count[b] <= cap[b]
        for i in items:
            assert idx[pos[i]] == i


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=1, max_size=300), st.integers(0, 2**31))
def test_random_adds_and_removes_keep_the_index(ops, seed):
    rng = np.random.default_rng(seed)
    n_b, n_items = 5, 400
    bucket = np.full(n_items, -1)
    bucket[:20] = rng.integers(0, n_b, 20)
    idx, start, count, cap, pos = buckets.build(bucket, n_b, buckets.width_for(n_items, n_b))
    members = {b: [int(i) for i in np.flatnonzero(bucket == b)] for b in range(n_b)}
    nxt = 20
    for add, b in ops:
        if add and nxt < n_items:
            buckets.add(idx, start, count, cap, pos, nxt, b)
            members[b].append(nxt)
            nxt += 1
        elif members[b]:
            i = members[b].pop(int(rng.integers(len(members[b]))))
            buckets.remove(idx, start, count, pos, i, b)
    _check(idx, start, count, cap, pos, members)


def test_build_without_slack_is_tight():
    idx, start, count, cap, pos = buckets.build(np.array([2, 0, 2, -1]), 3, 3, slack=False)
    assert count.tolist() == [1, 0, 2] and cap.tolist() == [1, 0, 2]
    assert pos[3] == -1 and sorted(idx[start[2] : start[2] + 2].tolist()) == [0, 2]
