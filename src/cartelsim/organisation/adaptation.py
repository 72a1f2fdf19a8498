"""How cartels adapt (``models/organisation.md``, "Adaptation"): replacement, fission odds, violence after removals.

**Replacement** (after Duijn, Kashirin & Sloot, Sci. Reports 4:4238, 2014). Every week each cartel and
each cell that may lack a role (its members changed, or it still has an open role: the watch list,
:func:`refill`) is compared with the roles it needs, and each open role is filled with probability
1 / (mean delay): a geometric delay from the moment the role fell open, drawn week by week (memoryless,
so the same distribution as one delay drawn at the removal):

- leaders: a cartel needs ``floor(s * L(C) + u)`` leader agents, L(C) = min(leaders_per_cartel_max,
  1 + C / members_per_extra_leader) as at generation and u a uniform frozen per cartel (stable
  stochastic rounding at ``organisation_scale`` s); a missing leader is succeeded, after
  ``succession_weeks``, by a plaza boss of the cartel (uniformly);
- plaza bosses: a cell with members but no plaza boss promotes one after ``replacement_plaza_boss_weeks``;
- specialists: a cell needs round(share_r * n) logistics, production and finance members (n: its
  members but leaders and plaza boss; the role shares of generation); each missing one is promoted after
  ``replacement_cell_role_weeks``.

Promotion is inside the cell: a gunman or lookout of the cell, found by drawing the cartel's gunmen and
lookouts uniformly up to :data:`PROBES` times; when none of the draws is in the cell (a large cartel of
many cells) the last one drawn moves into the cell (our reading of "or by a recruit": someone of the
organisation who was not in that cell). The kernel draws the outcome of the probes in one step, in the
same distribution (:func:`_promote`). Counts per cartel never change, so the layer keeps following the
ecosystem exactly. Recruits (gunmen and lookouts, :mod:`.coupling`) refill the bottom.

**Violence after removals.** A targeted removal (a strike, a targeted arrest, a removal of the backcast)
of a leader or plaza boss opens an episode in the removed member's cell: for ``removal_violence_weeks``
the cell's conflict is multiplied by mu = 1 + x, with x = ``removal_violence_leader_factor`` - 1 for a
leader (times ``removal_violence_plaza_boss_share`` for a plaza boss; times
``removal_violence_killing_factor`` for a killing). A cartel's multiplier is the member-weighted mean of
its cells' (m_c = 1 + sum x n_cell / n_cartel), which the ecosystem applies to every conflict the
cartel is in (:class:`cartelsim.ecosystem.Extension`); the deaths of a cartel in one of its cells are
its deaths times n_cell mu_cell / (n_cartel m_c) (:meth:`Episodes.local`), the model's "homicides in
its places" (Calderon et al. 2015 measure them by municipality).

**Fission odds** (:func:`fission_probability`): when a targeted removal takes a leader, the cartel splits
with probability p_size(C) * (1 - 1/k): p_size log-linear in the cartel's members between the two
anchors (``fission_probability_1000_members``, ``fission_probability_20000_members``), clipped to
[0, 0.95], and k the comparable contenders, its plaza bosses (at least two for a split).

Ordinary attrition (the ecosystem's arrests, conflict deaths and exits, which also take leaders and
plaza bosses) triggers replacement only: the ecosystem's rates were fitted to years whose violence and
fragmentation already contain its effects, and the kingpin studies measure what *targeted* removals add.

Examples
--------
>>> import numpy as np
>>> fission_probability(np.array([1000.0, 20000.0, 50.0]), np.array([400.0, 400.0, 1.0]), 0.15, 0.35).round(3)
array([0.15 , 0.349, 0.   ])
>>> ep = Episodes()
>>> ep.add(0, 3, 17, 0.5, 60)
>>> mult, any_mult = ep.multipliers(np.array([[0.0] * 16 + [10.0, 30.0]]), np.array([[0, 0, 0, 40.0]]), 52)
>>> mult.round(3).tolist(), any_mult.tolist()
([[1.0, 1.0, 1.0, 1.375]], [True])

"""

from __future__ import annotations

import numba
import numpy as np

from cartelsim.organisation.members import add_member, add_rank, move_member, pick_rank, rank_prefix, role_count, touch
from cartelsim.organisation.roles import FINANCE, GUNMAN, LEADER, LOGISTICS, LOOKOUT, PLAZA_BOSS, PRODUCTION
from cartelsim.philox import uniform, uniform2

__all__ = ["PROBES", "Episodes", "fission_probability", "leader_target", "open_roles", "refill"]

#: Draws among the cartel's gunmen and lookouts when looking for a promotion inside a cell (a speed choice).
PROBES = 32


def fission_probability(members: np.ndarray, contenders: np.ndarray, p1000: float, p20000: float) -> np.ndarray:
    """Probability that a cartel splits when a targeted removal takes a leader (see the module docstring).

    Parameters
    ----------
    members : ndarray
        The cartel's members (C_i).
    contenders : ndarray
        Its plaza bosses, in members.
    p1000, p20000 : float
        The probabilities at 1,000 and 20,000 members (the anchors).

    """
    c = np.maximum(np.asarray(members, dtype=np.float64), 1.0)
    k = np.asarray(contenders, dtype=np.float64)
    p = np.clip(p1000 + (p20000 - p1000) * np.log(c / 1000.0) / np.log(20.0), 0.0, 0.95)
    return np.where(k >= 2.0, p * (1.0 - 1.0 / np.maximum(k, 1.0)), 0.0)


def leader_target(members: np.ndarray, scale: np.ndarray, per_extra: np.ndarray, most: np.ndarray,
                  u: np.ndarray) -> np.ndarray:  # fmt: skip
    """Leader agents each cartel needs: floor(s L(C) + u), 0 for a cartel with no member (shape (E, N'))."""
    c = members / scale[:, None]
    lead = np.minimum(np.floor(most + 0.5)[:, None], 1.0 + np.floor(c / per_extra[:, None]))
    return np.where(members > 0, np.floor(scale[:, None] * lead + u), 0).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def open_roles(m, share):  # pragma: no cover - jit
    """Most promotions into a slot :func:`refill` can make this week, per experiment (E,).

    Only watched cells can have an open role (:func:`~cartelsim.organisation.members.touch`); each may
    promote a plaza boss if it has none and each specialist it lacks (its want, as :func:`refill` counts
    it, minus those it has).
    """
    cell_role, watch, n_watch = m[13], m[18], m[19]
    n_e = cell_role.shape[0]
    out = np.zeros(n_e, np.int64)
    for e in range(n_e):
        for i in range(n_watch[e]):
            k = watch[e, i]
            nk = 0
            for r in range(7):
                nk += cell_role[e, k, r]
            rest = nk - cell_role[e, k, LEADER] - cell_role[e, k, PLAZA_BOSS]
            if rest <= 0:
                continue
            if cell_role[e, k, PLAZA_BOSS] == 0:
                out[e] += 1
            for r in (LOGISTICS, PRODUCTION, FINANCE):
                out[e] += max(0, int(share[e, r] * rest + 0.5) - cell_role[e, k, r])
    return out


class Episodes:
    """Open episodes of violence after targeted removals: experiment, column, cell, excess x, last week."""

    def __init__(self) -> None:
        self.e = np.zeros(0, np.int64)
        self.col = np.zeros(0, np.int64)
        self.cell = np.zeros(0, np.int64)
        self.x = np.zeros(0)
        self.end = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return int(self.e.size)

    def add(self, e: int, col: int, cell: int, x: float, end: int) -> None:
        """Open an episode of excess ``x`` in ``cell`` (of cartel column ``col``), lasting through week ``end - 1``."""
        if x <= 0.0:
            return
        self.e = np.append(self.e, e)
        self.col = np.append(self.col, col)
        self.cell = np.append(self.cell, cell)
        self.x = np.append(self.x, x)
        self.end = np.append(self.end, end)

    def prune(self, week: int) -> None:
        """Close the episodes whose last week is before ``week``."""
        keep = self.end > week
        if not keep.all():
            self.e, self.col, self.cell = self.e[keep], self.col[keep], self.cell[keep]
            self.x, self.end = self.x[keep], self.end[keep]

    def multipliers(self, cell_size: np.ndarray, cartel_size: np.ndarray, week: int) -> tuple[np.ndarray, np.ndarray]:
        """Cartel multipliers m (E, N') and which experiments have any, from the episodes open at ``week``.

        ``cell_size``: members per experiment and cell (E, cells), or per cell and role (E, cells, 7).
        """
        mult = np.ones(cartel_size.shape)
        self.prune(week)
        if not len(self):
            return mult, np.zeros(cartel_size.shape[0], bool)
        n_c = cartel_size[self.e, self.col]
        size = cell_size[self.e, self.cell]
        size = size.sum(-1) if size.ndim > 1 else size
        share = np.divide(size, n_c, out=np.zeros(n_c.shape), where=n_c > 0)
        np.add.at(mult, (self.e, self.col), self.x * share)
        return mult, (mult != 1.0).any(1)

    def local(self, e: int, cell: int) -> float:
        """The multiplier mu of one cell (1 + the excess of its open episodes)."""
        return 1.0 + float(self.x[(self.e == e) & (self.cell == cell)].sum())

    def remap(self, e: int, old_cells: np.ndarray, new_cells: np.ndarray, new_cols: np.ndarray) -> None:
        """A fission moved experiment ``e``'s cells ``old_cells`` to ``new_cells`` of columns ``new_cols``."""
        if not len(self):
            return
        lookup = dict(zip(old_cells.tolist(), zip(new_cells.tolist(), new_cols.tolist(), strict=True), strict=True))
        for i in np.flatnonzero(self.e == e):
            hit = lookup.get(int(self.cell[i]))
            if hit is not None:
                self.cell[i], self.col[i] = hit


@numba.njit(cache=True, nogil=True, inline="always")
def _promote(m, first, e, c, k, r, kp0, kp1, v, week, log, n_log):  # pragma: no cover - jit
    """Promote a gunman or lookout of cartel ``c`` (of cell ``k`` if one is drawn) to role ``r`` in cell ``k``.

    The rule of the module docstring (up to :data:`PROBES` uniform draws among the cartel's gunmen and
    lookouts; the first in cell ``k``, else the last drawn) in its exact distribution, with one draw: the
    probes find the cell with probability 1 - (1 - n_k / n)^PROBES (n_k of the cartel's n gunmen and
    lookouts in the cell), and then take a gunman with probability (the cell's gunmen) / n_k; otherwise
    the last probe is uniform among the cartel's gunmen and lookouts outside the cell. The promoted member
    leaves the rank and file's count of its cell and takes a slot. When ``log`` has room, the promotion
    is logged as (source cell, role, its count there before, new slot) (:mod:`cartelsim.validation`'s
    network check follows members through promotions).
    """
    cell_role = m[13]
    ng = role_count(m[8][e], m[16][e], c, GUNMAN)
    n = ng + role_count(m[8][e], m[16][e], c, LOOKOUT)
    if n == 0:
        return False
    g_k = cell_role[e, k, GUNMAN]
    n_k = g_k + cell_role[e, k, LOOKOUT]
    u1, u2 = uniform2(kp0, kp1, k, v, r, week)
    if n_k > 0 and u1 < 1.0 - (1.0 - n_k / n) ** PROBES:
        src = k
        rr = GUNMAN if u2 * n_k < g_k else LOOKOUT
    else:  # uniform among the n - n_k outside cell k: skip the cell's own when counting
        x = min(int(u2 * (n - n_k)), n - n_k - 1)
        rr = GUNMAN if x < ng - g_k else LOOKOUT
        if rr == LOOKOUT:
            x -= ng - g_k
        before = rank_prefix(m[15], e, rr, k) - rank_prefix(m[15], e, rr, first[e, c])
        if x >= before:
            x += cell_role[e, k, rr]
        src = pick_rank(m[15], first, e, c, rr, x)
    i = n_log[0]
    if i < log.shape[0]:
        log[i, 0], log[i, 1], log[i, 2] = src, rr, cell_role[e, src, rr]
    add_rank(m, e, c, src, rr, -1)
    j = add_member(m, e, c, k, r, week)
    if i < log.shape[0]:
        log[i, 3] = j
        n_log[0] = i + 1
    return True


@numba.njit(cache=True, nogil=True)
def refill(
    m, first, cell_cartel, lead_target, q, share, keys_fill, keys_pick, week, promoted, log, n_log
):  # pragma: no cover - jit
    """One week of replacement for every experiment, cartel and cell (see the module docstring).

    ``cell_cartel`` (E, cells): each cell's cartel column; ``q`` (E, 7): this week's fill probability of an
    open role; ``share`` (E, 7): the specialists' shares; ``promoted`` (E, N') is incremented. ``log``
    (rows, 4) and ``n_log`` (1,): promotions from the rank and file, logged while there is room (a zero-row
    ``log`` logs nothing; see :func:`_promote`).

    Cells are looked at from the watch list (:func:`~cartelsim.organisation.members.touch`): a cell that has
    no open role and whose members have not changed since it was last looked at has nothing to fill, so
    the week's work follows the week's changes, not the number of cells. The cells watched when the week
    starts are looked at once each; a cell changed meanwhile (a promotion's source) waits for next week,
    as does one left with an open role.
    """
    b_idx, b_start, b_count, cell, cell_role = m[6], m[7], m[8], m[1], m[13]
    watched, watch, n_watch = m[17], m[18], m[19]
    n_e, n = lead_target.shape
    for e in range(n_e):
        kf0, kf1 = keys_fill[e, 0], keys_fill[e, 1]
        kp0, kp1 = keys_pick[e, 0], keys_pick[e, 1]
        for c in range(n):
            base = c * 7
            for v in range(lead_target[e, c] - b_count[e, base + LEADER]):
                if uniform(kf0, kf1, c, v, 7, week) >= q[e, LEADER]:
                    continue
                npb = b_count[e, base + PLAZA_BOSS]
                if npb == 0:
                    break
                x = min(int(uniform(kp0, kp1, c, v, 7, week) * npb), npb - 1)
                j = b_idx[e, b_start[e, base + PLAZA_BOSS] + x]
                move_member(m, e, j, c, cell[e, j], LEADER)
                promoted[e, c] += 1
        n0 = n_watch[e]
        for i in range(n0):
            k = watch[e, i]
            watched[e, k] = False
            c = cell_cartel[e, k]
            nk = 0
            for r in range(7):
                nk += cell_role[e, k, r]
            rest = nk - cell_role[e, k, LEADER] - cell_role[e, k, PLAZA_BOSS]
            if rest <= 0 or c < 0:
                continue
            still = False
            if cell_role[e, k, PLAZA_BOSS] == 0:
                if uniform(kf0, kf1, k, 0, PLAZA_BOSS, week) < q[e, PLAZA_BOSS] and _promote(
                    m, first, e, c, k, PLAZA_BOSS, kp0, kp1, 0, week, log, n_log
                ):
                    promoted[e, c] += 1
                    rest -= 1
                else:
                    still = True
            for r in (LOGISTICS, PRODUCTION, FINANCE):
                want = int(share[e, r] * rest + 0.5)
                for v in range(want - cell_role[e, k, r]):
                    if uniform(kf0, kf1, k, v, r, week) >= q[e, r]:
                        still = True
                        continue
                    if not _promote(m, first, e, c, k, r, kp0, kp1, v + 1, week, log, n_log):
                        still = True
                        break
                    promoted[e, c] += 1
            if still:
                touch(m, e, k)
        # the cells watched from now on: those changed during the pass and those left with an open role
        n1 = n_watch[e]
        for i in range(n0, n1):
            watch[e, i - n0] = watch[e, i]
        n_watch[e] = n1 - n0
