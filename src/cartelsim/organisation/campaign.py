"""The campaign chain in abstraction: surveillance, a target list, strikes (``models/organisation.md``).

Everything here is a rate or a probability acting on synthetic members and assets; nothing is nominated,
planned or optimised. Each week of an active ``strike_campaign``:

1. **Surveillance.** Each member and each warehouse, lab and vehicle is detected with probability
   p = 1 - exp(-sorties_per_week * detect_per_sortie[role or kind] * detection_factor) (``cooperation``
   sets the factor; 1 when bilateral), independently: within each (cartel, role) and (cartel, kind) that
   the strategy lists, the gaps between detected items are geometric (:func:`detect`), the same
   distribution as one Bernoulli draw per item at a cost that follows the detections, not the items.
   Groups that are not cartels and safe houses are never detected or listed.
2. **Target list**, only from this week's detections, in a fixed order set by the strategy (no
   optimisation): ``leadership``: leaders, then plaza bosses; ``logistics``: warehouses, labs, vehicles,
   then logistics members; ``mixed``: the two lists alternately; ``opportunistic``: everything detected, in
   detection order. Within a tier, detection order (a uniform draw per item). Each entry is misidentified
   (not a member, or not the cartel's asset) with probability ``misidentification_share``.
3. **Strikes**: up to the week's strikes, each on the top entry, succeeding with
   ``success_probability``. A failed strike leaves the entry on top, so the next strike repeats it. A
   successful strike on a correctly identified entry kills the member or destroys the asset (rebuilt after
   a geometric delay); on a misidentified person it kills that person, a civilian (our reading of the
   spec's "a misidentified strike kills civilians only": the person mistaken for a member is a civilian,
   whom tallies like New America's count as militants). Every strike also kills bystanders:
   negative-binomial(``civilian_deaths_per_strike_mean``, ``civilian_deaths_dispersion``), drawn in
   :meth:`~cartelsim.organisation.layer.OrganisationLayer.step`.

Outputs are counts per experiment and cartel (the cartel whose member or asset the entry names).

Examples
--------
>>> STRATEGIES.index("logistics"), int(MEMBER_TIER[0, 1]), int(ASSET_TIER[1, 3])
(1, 1, 2)

"""

from __future__ import annotations

import math

import numba
import numpy as np

from cartelsim.organisation.assets import destroy_asset
from cartelsim.organisation.members import add_rank, pick_rank, remove_member, role_count
from cartelsim.organisation.roles import GUNMAN, LAB, LEADER, LOGISTICS, LOOKOUT, PLAZA_BOSS, VEHICLE, WAREHOUSE
from cartelsim.philox import uniform
from cartelsim.policies.organisation import STRIKE_TARGETS

__all__ = ["ASSET_TIER", "MEMBER_TIER", "STRATEGIES", "detect", "detect_positions", "geometric_delay", "strike_week"]

#: Strategy codes (index into this tuple), as the ``strike_campaign`` key ``target`` names them.
STRATEGIES: tuple[str, ...] = STRIKE_TARGETS
MIXED = STRATEGIES.index("mixed")

#: Tier of each role (columns) on each strategy's list (rows); -1: not listed. For ``mixed`` the leadership
#: tiers are 0-1 and the logistics tiers 10-13: the two lists are interleaved.
MEMBER_TIER = np.full((4, 7), -1, np.int64)
MEMBER_TIER[0, LEADER], MEMBER_TIER[0, PLAZA_BOSS] = 0, 1
MEMBER_TIER[1, LOGISTICS] = 3
MEMBER_TIER[2, LEADER], MEMBER_TIER[2, PLAZA_BOSS], MEMBER_TIER[2, LOGISTICS] = 0, 1, 13
MEMBER_TIER[3, :] = 0
#: Tier of each asset kind (columns) on each strategy's list (rows); safe houses are never listed.
ASSET_TIER = np.full((4, 4), -1, np.int64)
ASSET_TIER[1, WAREHOUSE], ASSET_TIER[1, LAB], ASSET_TIER[1, VEHICLE] = 0, 1, 2
ASSET_TIER[2, WAREHOUSE], ASSET_TIER[2, LAB], ASSET_TIER[2, VEHICLE] = 10, 11, 12
ASSET_TIER[3, WAREHOUSE], ASSET_TIER[3, LAB], ASSET_TIER[3, VEHICLE] = 0, 0, 0


@numba.njit(cache=True, nogil=True)
def geometric_delay(u, mean):  # pragma: no cover - jit
    """Weeks until a destroyed asset is back: geometric on 1, 2, ... with the given mean (>= 1)."""
    if mean <= 1.0:
        return 1
    return 1 + math.floor(math.log1p(-u) / math.log1p(-1.0 / mean))


@numba.njit(cache=True, nogil=True)
def detect_positions(n, p, k0, k1, b, tag, week, out, o):  # pragma: no cover - jit
    """Detect each of ``n`` items with probability ``p``; write their positions ``0 .. n - 1`` into ``out[o:]``.

    Geometric skipping: the gap to the next detected item is geometric with parameter ``p``, one uniform
    per detection (coordinates: group ``b``, detection number, ``tag``), so the detected set is that of
    ``n`` independent Bernoulli(p) draws. Returns the new end of ``out``. Used as it is for a group kept as a
    count (gunmen, lookouts) and through :func:`detect` for a bucket of slots.
    """
    if n <= 0 or p <= 0.0:
        return o
    if p >= 1.0:
        for i in range(n):
            out[o + i] = i
        return o + n
    lq = math.log1p(-p)
    x = -1
    a = 0
    while True:
        u = uniform(k0, k1, b, a, tag, week)
        a += 1
        x += 1 + math.floor(math.log1p(-u) / lq)
        if x >= n:
            return o
        out[o] = x
        o += 1


@numba.njit(cache=True, nogil=True)
def detect(idx, start, n, p, k0, k1, b, tag, week, out, o):  # pragma: no cover - jit
    """:func:`detect_positions` for a bucket ``idx[start : start + n]``: write the detected items into ``out[o:]``."""
    end = detect_positions(n, p, k0, k1, b, tag, week, out, o)
    for i in range(o, end):
        out[i] = idx[start + out[i]]
    return end


@numba.njit(cache=True, nogil=True)
def strike_week(
    m,
    a,
    first,
    p_member,
    p_asset,
    listed,
    strategy,
    n_strikes,
    success,
    misid,
    rebuild_mean,
    keys,
    week,
    member_tier,
    asset_tier,
    out,
    events,
    n_events,
):  # pragma: no cover - jit
    """One week of the chain for every experiment with an active campaign (``strategy[e] >= 0``).

    ``first`` (E, N + 1): the cartels' cell offsets. ``p_member`` (E, 7) and ``p_asset`` (E, 4): this week's
    detection probabilities by role and kind;
    ``listed`` (E, N): the columns that may be listed (cartels). ``keys`` (5, E, 2): streams detect,
    order, misidentified, success, rebuild. ``out`` (6, E, N) is incremented: strikes, misidentified
    strikes, members killed, leaders killed, assets destroyed, misidentified persons killed (civilians).
    Each leader or plaza boss killed is logged in ``events[n_events[0]]`` as (experiment, cartel, cell,
    role, 1 = killing) for the layer's adaptation.
    """
    b_idx, b_start, b_count = m[6], m[7], m[8]
    a_idx, a_start, a_count = a[6], a[7], a[8]
    n_e = strategy.shape[0]
    n_c = listed.shape[1]
    for e in range(n_e):
        s = strategy[e]
        if s < 0 or n_strikes[e] <= 0:
            continue
        size = 0
        for c in range(n_c):
            if not listed[e, c]:
                continue
            for r in range(7):
                if member_tier[s, r] >= 0:
                    size += role_count(m[8][e], m[16][e], c, r)
            for kd in range(4):
                if asset_tier[s, kd] >= 0:
                    size += a_count[e, c * 4 + kd]
        if size == 0:
            continue
        # entries: kind 0 a member's slot, 1 an asset (ids: its slot), 2 a gunman or lookout (ids: its cell;
        # coord: its position in the cartel's count, which keys its draws as a slot's number keys a slot's)
        ids = np.empty(size, np.int64)  # room for every listed item; only the detected ones are written
        kind = np.empty(size, np.int64)
        coord = np.empty(size, np.int64)
        cartel = np.empty(size, np.int64)
        role = np.empty(size, np.int64)
        o = 0
        k0, k1 = keys[0, e, 0], keys[0, e, 1]
        for c in range(n_c):
            if not listed[e, c]:
                continue
            for r in range(7):
                b = c * 7 + r
                if member_tier[s, r] < 0:
                    continue
                o0 = o
                if r == GUNMAN or r == LOOKOUT:
                    o = detect_positions(
                        role_count(m[8][e], m[16][e], c, r), p_member[e, r], k0, k1, b, 0, week, coord, o
                    )
                    for i in range(o0, o):
                        ids[i] = pick_rank(m[15], first, e, c, r, coord[i])
                        coord[i] += b << 32  # unique across groups
                    kind[o0:o] = 2
                else:
                    o = detect(b_idx[e], b_start[e, b], b_count[e, b], p_member[e, r], k0, k1, b, 0, week, ids, o)
                    kind[o0:o] = 0
                    coord[o0:o] = ids[o0:o]
                cartel[o0:o] = c
                role[o0:o] = r
            for kd in range(4):
                b = c * 4 + kd
                if asset_tier[s, kd] >= 0:
                    o0 = o
                    o = detect(a_idx[e], a_start[e, b], a_count[e, b], p_asset[e, kd], k0, k1, b, 1, week, ids, o)
                    kind[o0:o] = 1
                    coord[o0:o] = ids[o0:o]
                    cartel[o0:o] = c
                    role[o0:o] = kd
        if o == 0:
            continue
        key = np.empty(o)
        group = np.zeros(o, np.int64)
        for i in range(o):
            tier = asset_tier[s, role[i]] if kind[i] == 1 else member_tier[s, role[i]]
            group[i] = tier // 10
            key[i] = tier + uniform(keys[1, e, 0], keys[1, e, 1], coord[i], kind[i], 0, week)
        order = np.argsort(key)
        if s == MIXED:  # alternate: leadership entry, logistics entry, ...
            lead = order[group[order] == 0]
            logi = order[group[order] == 1]
            merged = np.empty(o, np.int64)
            i = j = p = 0
            while p < o:
                if i < lead.size and (p % 2 == 0 or j >= logi.size):
                    merged[p] = lead[i]
                    i += 1
                else:
                    merged[p] = logi[j]
                    j += 1
                p += 1
            order = merged
        top = 0
        for k in range(n_strikes[e]):
            if top >= o:
                break
            i = order[top]
            item, c = ids[i], cartel[i]
            out[0, e, c] += 1
            wrong = uniform(keys[2, e, 0], keys[2, e, 1], coord[i], kind[i], 0, week) < misid[e]
            hit = uniform(keys[3, e, 0], keys[3, e, 1], k, 0, 0, week) < success[e]
            if wrong:
                out[1, e, c] += 1
            if not hit:
                continue
            top += 1
            if wrong:
                if kind[i] != 1:
                    out[5, e, c] += 1
            elif kind[i] == 1:
                u = uniform(keys[4, e, 0], keys[4, e, 1], item, 0, 0, week)
                destroy_asset(a, e, item, week, geometric_delay(u, rebuild_mean[e]))
                out[4, e, c] += 1
            elif kind[i] == 2:  # a gunman or lookout of cell ``item`` (it holds every one detected there)
                add_rank(m, e, c, item, role[i], -1)
                out[2, e, c] += 1
            else:
                r = remove_member(m, e, item)
                out[2, e, c] += 1
                if r == LEADER:
                    out[3, e, c] += 1
                if r == LEADER or r == PLAZA_BOSS:
                    ev = n_events[0]
                    events[ev, 0], events[ev, 1], events[ev, 2] = e, c, m[1][e, item]
                    events[ev, 3], events[ev, 4] = r, 1
                    n_events[0] = ev + 1
