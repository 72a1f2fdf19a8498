"""Bucket index: the items of each group (a cartel's members of one role, its assets of one kind) as a list.

One row per experiment: ``idx[start[b] : start[b] + count[b]]`` holds the ids of bucket ``b``'s items in
no particular order, and ``pos[i]`` is item ``i``'s place in ``idx``. Removing swaps in the bucket's last
item (O(1)); adding appends (O(1)). A full bucket moves to the row's free tail with fresh slack (O(its
items); ``tail[0]`` is where the free tail starts); only when the tail has no room is the whole row repacked
(every bucket re-laid with fresh slack, in bucket order), so an add costs O(1) amortised. Moving and
repacking keep the order of the items within each bucket. With
it the weekly step picks "a uniformly random logistics member of cartel c" in O(1) instead of scanning
every member, which is what makes the layer event-driven (its cost grows with the week's events, not
with the number of agents).

Examples
--------
>>> import numpy as np
>>> idx, start, count, cap, pos = build(np.array([1, 0, 1, 1]), n_buckets=2, width=64)
>>> count.tolist(), sorted(idx[start[1] : start[1] + count[1]].tolist())
([1, 3], [0, 2, 3])

"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["add", "build", "remove", "repack", "reserve", "tail_of", "width_for"]

#: Free places a bucket gets when (re)packed: max(SLACK_MIN, count // SLACK_DIV).
SLACK_MIN = 16
SLACK_DIV = 4


def width_for(capacity: int, n_buckets: int) -> int:
    """Row width of ``idx`` that any repack of up to ``capacity`` items into ``n_buckets`` fits in."""
    return int(capacity + capacity // SLACK_DIV + SLACK_MIN * n_buckets + 1)


def tail_of(start: np.ndarray, cap: np.ndarray) -> int:
    """Where a row's free tail starts: the end of its last bucket's room."""
    return int((np.asarray(start, np.int64) + cap).max()) if np.size(start) else 0


def build(
    bucket: np.ndarray, n_buckets: int, width: int, slack: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index items by bucket (``bucket[i] < 0``: item ``i`` is in none).

    Returns ``idx`` (width,), ``start`` (n_buckets,), ``count``, ``cap`` and ``pos`` (len(bucket),), as the
    module docstring describes. Without ``slack`` every bucket's capacity is its count.
    """
    bucket = np.asarray(bucket, dtype=np.int64)
    inside = bucket >= 0
    count = np.bincount(bucket[inside], minlength=n_buckets).astype(np.int32)
    cap = (count + np.maximum(SLACK_MIN, count // SLACK_DIV)).astype(np.int32) if slack else count.copy()
    start = np.zeros(n_buckets, np.int64)
    start[1:] = np.cumsum(cap, dtype=np.int64)[:-1]
    if n_buckets and start[-1] + cap[-1] > width:
        raise ValueError(f"bucket index needs {int(start[-1] + cap[-1])} places, row width is {width}")
    items = np.flatnonzero(inside)
    small = bucket[items].astype(np.int16 if n_buckets < 2**15 else np.int64)  # radix sort for small ids
    order = items[np.argsort(small, kind="stable")]
    within = np.arange(order.size) - np.repeat(np.cumsum(count, dtype=np.int64) - count, count)
    where = start[bucket[order]] + within
    idx = np.full(width, -1, np.int32)
    idx[where] = order
    pos = np.full(bucket.size, -1, np.int32)
    pos[order] = where
    return idx, start, count, cap, pos


@numba.njit(cache=True, nogil=True, inline="always")
def remove(idx, start, count, pos, item, b):  # pragma: no cover - jit
    """Remove ``item`` from bucket ``b`` (swap in the bucket's last item)."""
    p = pos[item]
    last = start[b] + count[b] - 1
    moved = idx[last]
    idx[p] = moved
    pos[moved] = p
    idx[last] = -1
    pos[item] = -1
    count[b] -= 1


@numba.njit(cache=True, nogil=True)
def repack(idx, start, count, cap, pos, tail, extra):  # pragma: no cover - jit
    """Re-lay a row with fresh slack in every bucket, room for ``extra[b]`` more items in bucket ``b``.

    ``extra`` may be empty (no extra room). The items keep their order within each bucket.
    """
    n_b = start.shape[0]
    need = 0
    for b in range(n_b):
        c = count[b] + (extra[b] if extra.shape[0] else 0)
        need += c + max(SLACK_MIN, c // SLACK_DIV)
    if need > idx.shape[0]:
        raise ValueError("bucket index row too narrow for a repack")
    old = idx.copy()
    p = 0
    for b in range(n_b):
        c = count[b]
        s0 = start[b]
        for k in range(c):
            item = old[s0 + k]
            idx[p + k] = item
            pos[item] = p + k
        room = c + (extra[b] if extra.shape[0] else 0)
        room += max(SLACK_MIN, room // SLACK_DIV)
        start[b] = p
        cap[b] = room
        for k in range(c, room):
            idx[p + k] = -1
        p += room
    for k in range(p, idx.shape[0]):
        idx[k] = -1
    tail[0] = p


@numba.njit(cache=True, nogil=True)
def reserve(idx, start, count, cap, pos, tail, extra):  # pragma: no cover - jit
    """Make room for ``extra[b]`` more items in every bucket ``b`` (one repack at most)."""
    for b in range(start.shape[0]):
        if count[b] + extra[b] > cap[b]:
            repack(idx, start, count, cap, pos, tail, extra)
            return


@numba.njit(cache=True, nogil=True)
def _relocate(idx, start, count, cap, pos, tail, b):  # pragma: no cover - jit
    """Move full bucket ``b`` to the free tail with fresh slack, or repack the row when the tail is short."""
    c = count[b]
    room = c + 1 + max(SLACK_MIN, (c + 1) // SLACK_DIV)
    t = tail[0]
    if t + room > idx.shape[0]:
        repack(idx, start, count, cap, pos, tail, np.zeros(0, np.int64))
        return
    s0 = start[b]
    for k in range(c):
        item = idx[s0 + k]
        idx[t + k] = item
        pos[item] = t + k
        idx[s0 + k] = -1
    start[b] = t
    cap[b] = room
    tail[0] = t + room


@numba.njit(cache=True, nogil=True, inline="always")
def add(idx, start, count, cap, pos, tail, item, b):  # pragma: no cover - jit
    """Append ``item`` to bucket ``b``, moving the bucket to the free tail first when it is full."""
    if count[b] == cap[b]:
        _relocate(idx, start, count, cap, pos, tail, b)
    p = start[b] + count[b]
    idx[p] = item
    pos[item] = p
    count[b] += 1
