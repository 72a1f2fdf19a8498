"""Weekly coupling with the ecosystem: its flows applied to members, so that counts follow C_i.

Every week (DESIGN.md step 3) the ecosystem's continuous flows per cartel become whole agents:

- removals (incapacitations, conflict deaths, saturation exits) through one accumulator per cartel and
  type, which carries the fractional part to the next week (so each type's total is kept to within a
  member over any horizon);
- the cartel's count after the week is pinned to ``round(s * C_i)`` of the ecosystem's next state:
  recruits make up the difference (they enter as gunmen or lookouts, in the ratio of the two roles'
  shares, into cells in proportion to the cells' weights: a count per cell, :mod:`.members`); when the
  removals fall short of it, the type with the largest carried fraction removes one more. So every
  cartel's agents stay within rounding (half an agent) of s C_i at every week;
- who is removed: one member at a time, drawn with probability proportional to its role's exposure
  weight (:func:`~cartelsim.organisation.roles.exposure`; assumption) among the cartel's current members
  (successive sampling without replacement); within a role every member is equally likely (a slot of
  the role's bucket, or for the rank and file the cell that holds the x-th of them);
- targeted arrests (``targeted_arrests``) take a share of the national incapacitation budget away from
  the proportional rule and spend it on members of one role anywhere in the country, one uniformly among
  them at a time (PROTON-OC's design: the same total effort, re-targeted); what finds no target goes back
  to the proportional rule.

Draws are counter-based per (replicate, stream, week, cartel, type, event) (:mod:`.random`).

Examples
--------
>>> import numpy as np
>>> acc = np.zeros((1, 2, 3))
>>> removal_counts(acc, np.array([[[1.5, 0.2, 0.0], [0.0, 0.0, 0.0]]]), np.array([[10, 3]]), np.array([[9, 1]]))
array([[[1, 0, 0],
        [0, 0, 2]]])
>>> acc.round(2).tolist()
[[[0.5, 0.2, 0.0], [0.0, 0.0, -2.0]]]

"""

from __future__ import annotations

import numba
import numpy as np

from cartelsim.organisation.members import add_rank, pick_rank, remove_member, role_count
from cartelsim.organisation.roles import GUNMAN, LEADER, LOOKOUT, PLAZA_BOSS
from cartelsim.philox import uniform, uniform2

__all__ = ["apply_flows", "removal_counts", "targeted_arrests"]


def removal_counts(acc: np.ndarray, expected: np.ndarray, members: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return whole removals per experiment, cartel and type (E, N, 3), updating the accumulators ``acc``.

    ``expected`` holds this week's removals in agents (E, N, 3); ``members`` the agents now and ``target``
    the agents wanted after the week (E, N). Where the removals would leave more than ``target`` even
    with no recruits, the type with the largest carried fraction takes the rest.
    """
    x = acc + expected
    k = np.maximum(np.floor(x), 0.0).astype(np.int64)
    short = (members - target) - k.sum(2)
    if (short > 0).any():
        top = 2 - np.argmax((x - k)[..., ::-1], axis=2)  # ties go to exits, then deaths
        np.add.at(k, (*np.nonzero(short > 0), top[short > 0]), short[short > 0])
    acc[:] = x - k
    return k


@numba.njit(cache=True, nogil=True, inline="always")
def _pick_role(bc, rk, c, w, u):  # pragma: no cover - jit
    """Role drawn with probability count * weight (count alone when every weight is 0); -1 when empty."""
    tot = 0.0
    n = 0
    for r in range(7):
        nr = role_count(bc, rk, c, r)
        tot += nr * w[r]
        n += nr
    if n == 0:
        return -1
    chosen = -1
    if tot > 0.0:
        x = u * tot
        acc = 0.0
        for r in range(7):
            wr = role_count(bc, rk, c, r) * w[r]
            if wr > 0.0:
                chosen = r
                acc += wr
                if acc > x:
                    break
    else:
        x = u * n
        acc = 0.0
        for r in range(7):
            nr = role_count(bc, rk, c, r)
            if nr > 0:
                chosen = r
                acc += nr
                if acc > x:
                    break
    return chosen


@numba.njit(cache=True, nogil=True, inline="always")
def _remove_one(m, first, e, c, t, week, keys, ev, weights):  # pragma: no cover - jit
    """Remove one member of cartel ``c`` drawn by exposure (event ``ev`` of type ``t``); return its role (-1: none)."""
    u1, u2 = uniform2(keys[e, 0], keys[e, 1], c, ev, t, week)
    bc, rk = m[8][e], m[16][e]
    r = _pick_role(bc, rk, c, weights[e, t], u1)
    if r < 0:
        return -1
    nr = role_count(bc, rk, c, r)
    p = min(int(u2 * nr), nr - 1)
    if r == GUNMAN or r == LOOKOUT:
        add_rank(m, e, c, pick_rank(m[15], first, e, c, r, p), r, -1)
    else:
        remove_member(m, e, m[6][e, m[7][e, c * 7 + r] + p])
    return r


@numba.njit(cache=True, nogil=True, inline="always")
def _cell_of(cum, lo, hi, u):  # pragma: no cover - jit
    """First cell in [lo, hi) whose cumulative weight exceeds u (binary search); the last one otherwise."""
    a, b = lo, hi - 1
    while a < b:
        mid = (a + b) // 2
        if cum[mid] > u:
            b = mid
        else:
            a = mid + 1
    return a


@numba.njit(cache=True, nogil=True)
def apply_flows(
    m, cells, k_out, target, weights, p_lookout, keys_rm, keys_rc, week, removed, leaders, recruits
):  # pragma: no cover - jit
    """Remove ``k_out`` members per cartel and type by exposure, then recruit up to ``target`` (see module).

    ``removed`` (E, N, 3), ``leaders`` and ``recruits`` (E, N) are incremented.
    """
    cum, first = cells[1], cells[2]
    n_e, n = target.shape
    for e in range(n_e):
        for c in range(n):
            for t in range(3):
                for ev in range(k_out[e, c, t]):
                    r = _remove_one(m, first, e, c, t, week, keys_rm, ev, weights)
                    if r < 0:
                        break
                    removed[e, c, t] += 1
                    if r == LEADER:
                        leaders[e, c] += 1
            cur = 0
            for r in range(7):
                cur += role_count(m[8][e], m[16][e], c, r)
            ev = k_out[e, c, 2]
            while cur > target[e, c]:  # safety net: removals short of the target (never with removal_counts)
                r = _remove_one(m, first, e, c, 2, week, keys_rm, ev, weights)
                removed[e, c, 2] += 1
                if r == LEADER:
                    leaders[e, c] += 1
                cur -= 1
                ev += 1
            lo, hi = first[e, c], first[e, c + 1]
            for ev in range(target[e, c] - cur):
                u1, u2 = uniform2(keys_rc[e, 0], keys_rc[e, 1], c, ev, 0, week)
                r = LOOKOUT if u1 < p_lookout[e] else GUNMAN
                add_rank(m, e, c, _cell_of(cum[e], lo, hi, u2), r, 1)
                recruits[e, c] += 1


@numba.njit(cache=True, nogil=True)
def targeted_arrests(m, k, role, eligible, keys, week, arrests, leaders, events, n_events, mode):  # pragma: no cover
    """Arrest ``k[e]`` members of ``role[e]`` (-1: none), each uniformly among the role's members nationally.

    Only groups with ``eligible[e, c]`` (E, N: the cartels) are arrested from, never a group that is not one.

    ``arrests`` and ``leaders`` (E, N) are incremented per cartel; each leader or plaza boss removed is
    logged in ``events[n_events[0]]`` as (experiment, cartel, cell, role, ``mode``: 0 capture, 1 killing).
    """
    b_idx, b_start, b_count = m[6], m[7], m[8]
    n_e = k.shape[0]
    n = b_count.shape[1] // 7
    for e in range(n_e):
        r = role[e]
        if r < 0:
            continue
        for ev in range(k[e]):
            tot = 0
            for c in range(n):
                if eligible[e, c]:
                    tot += b_count[e, c * 7 + r]
            if tot == 0:
                break
            x = min(int(uniform(keys[e, 0], keys[e, 1], ev, 0, 0, week) * tot), tot - 1)
            c = 0
            while not eligible[e, c] or x >= b_count[e, c * 7 + r]:
                if eligible[e, c]:
                    x -= b_count[e, c * 7 + r]
                c += 1
            j = b_idx[e, b_start[e, c * 7 + r] + x]
            remove_member(m, e, j)
            arrests[e, c] += 1
            if r == LEADER:
                leaders[e, c] += 1
            if r == LEADER or r == PLAZA_BOSS:
                ev = n_events[0]
                events[ev, 0], events[ev, 1], events[ev, 2], events[ev, 3], events[ev, 4] = e, c, m[1][e, j], r, mode
                n_events[0] = ev + 1
