"""Synthetic members: a slot per leader, plaza boss and specialist, counts per cell for gunmen and lookouts.

Members of one cell and role are interchangeable: nothing in the model tells two of them apart. The
layer therefore keeps two kinds of record, with the ensemble axis first:

- **slots** for the roles that are few and act on their own (leaders, plaza bosses, logistics, production
  and finance members): ``cartel``, ``cell`` (index into that experiment's cells), ``role`` (see
  :mod:`~cartelsim.organisation.roles`), ``active`` and ``joined`` (recorded week the member took its
  slot by promotion; -1 for those generated at the start), padded to a common capacity.
  A removed member's slot stays inactive until a promotion reuses it (last freed, first reused). A bucket
  index per (cartel, role) picks a slot in O(1) (:mod:`~cartelsim.organisation.buckets`);
- **counts** for the rank and file (gunmen and lookouts, about two thirds of all members):
  ``cell_role[e, k, r]``, with a Fenwick tree per experiment and role over the cells (``fen``), so that
  "a uniformly random gunman of cartel c" is drawn in O(log cells) as the cell holding the x-th of them.

``cell_role`` counts every role (slots included); ``b_count[e, c * 7 + r]`` counts a cartel's slots of
each role and ``rank[e, c, r - GUNMAN]`` its rank and file; :meth:`Members.role_counts` reads both. The
weekly step's cost follows its events: a recruit or a rank-and-file removal changes three counters and a
tree path, and nothing scans the members. Agents are synthetic: they describe no one.

Examples
--------
>>> import numpy as np
>>> m = Members.from_arrays(
...     cartel=[np.array([0, 0, 1])], cell=[np.array([0, 0, 1])], role=[np.array([0, 2, 0])],
...     n_cartels=2, n_cells=2)
>>> m.counts().tolist()
[[2, 1]]
>>> m.role_counts()[0, 0].tolist()
[1, 0, 1, 0, 0, 0, 0]
>>> int(m.n_used[0])  # the gunman has no slot
2

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from cartelsim.organisation import buckets
from cartelsim.organisation.roles import GUNMAN, LOOKOUT, N_ROLES

__all__ = [
    "RANK_AND_FILE",
    "Members",
    "add_member",
    "add_rank",
    "fenwick",
    "move_member",
    "pick_rank",
    "rank_prefix",
    "remove_member",
    "role_count",
    "touch",
]

#: Roles kept as counts per cell (gunmen, lookouts); their index in ``fen`` is ``role - GUNMAN``.
RANK_AND_FILE: tuple[int, int] = (GUNMAN, LOOKOUT)


def fenwick(counts: np.ndarray) -> np.ndarray:
    """Fenwick tree (1-based, length n + 1) of ``counts`` along the last axis.

    >>> fenwick(np.array([1, 2, 3, 4])).tolist()
    [0, 1, 3, 3, 10]
    """
    c = np.asarray(counts, np.int64)
    n = c.shape[-1]
    p = np.zeros((*c.shape[:-1], n + 1), np.int64)
    np.cumsum(c, axis=-1, out=p[..., 1:])
    i = np.arange(1, n + 1)
    out = np.zeros_like(p)
    out[..., 1:] = p[..., i] - p[..., i - (i & -i)]
    return out.astype(np.int32)


@dataclass
class Members:
    """Members of every experiment of a batch (see the module docstring).

    Attributes
    ----------
    cartel, cell, joined : ndarray of int32, shape (E, capacity)
        Cartel index (model order), cell index and recorded week the member took its slot (-1: present at
        the start), for slotted members.
    role : ndarray of int8, shape (E, capacity)
        Role code.
    active : ndarray of bool, shape (E, capacity)
        True for a slot that holds a current member.
    cell_role : ndarray of int32, shape (E, cells, 7)
        Current members per cell and role (every role).
    fen : ndarray of int32, shape (E, 2, cells + 1)
        Fenwick trees of ``cell_role[..., GUNMAN]`` and ``cell_role[..., LOOKOUT]`` over the cells.
    watched, watch, n_watch : ndarray, shapes (E, cells) bool, (E, 2 cells) int32, (E,) int64
        The cells to look at in the next week's replacement: every cell whose members changed since it
        was last looked at, and every cell left with an open role (``watch[e, :n_watch[e]]``, each once;
        room for twice the cells, as a week's pass appends the cells it changes after those it reads).
    rank : ndarray of int32, shape (E, N, 2)
        Gunmen and lookouts per cartel.
    n_cartels : int
        Cartels (N); bucket ``c * 7 + r`` holds cartel c's slots of role r (the rank-and-file buckets stay
        empty).

    """

    cartel: np.ndarray
    cell: np.ndarray
    role: np.ndarray
    active: np.ndarray
    joined: np.ndarray
    pos: np.ndarray
    b_idx: np.ndarray
    b_start: np.ndarray
    b_count: np.ndarray
    b_cap: np.ndarray
    free: np.ndarray
    n_free: np.ndarray
    n_used: np.ndarray
    cell_role: np.ndarray
    b_tail: np.ndarray
    fen: np.ndarray
    rank: np.ndarray
    watched: np.ndarray
    watch: np.ndarray
    n_watch: np.ndarray
    n_cartels: int

    @classmethod
    def from_arrays(
        cls,
        cartel: Sequence[np.ndarray],
        cell: Sequence[np.ndarray],
        role: Sequence[np.ndarray],
        n_cartels: int,
        n_cells: int,
        headroom: float = 1.25,
    ) -> Members:
        """Build the batch's arrays from each experiment's (cartel, cell, role) per agent."""
        n_e = len(cartel)
        roles = [np.asarray(r, np.int64) for r in role]
        slotted = [(r != GUNMAN) & (r != LOOKOUT) for r in roles]
        sizes = [int(s.sum()) for s in slotted]
        cap = int(max(sizes, default=0) * headroom) + 1024
        nb = n_cartels * N_ROLES
        width = buckets.width_for(cap, nb)
        n_cells = max(1, n_cells)
        m = cls(
            cartel=np.full((n_e, cap), -1, np.int32),
            cell=np.full((n_e, cap), -1, np.int32),
            role=np.full((n_e, cap), -1, np.int8),
            active=np.zeros((n_e, cap), bool),
            joined=np.full((n_e, cap), -1, np.int32),
            pos=np.full((n_e, cap), -1, np.int32),
            b_idx=np.full((n_e, width), -1, np.int32),
            b_start=np.zeros((n_e, nb), np.int64),
            b_count=np.zeros((n_e, nb), np.int32),
            b_cap=np.zeros((n_e, nb), np.int32),
            free=np.zeros((n_e, cap), np.int32),
            n_free=np.zeros(n_e, np.int64),
            n_used=np.array(sizes, np.int64),
            cell_role=np.zeros((n_e, n_cells, N_ROLES), np.int32),
            b_tail=np.zeros((n_e, 1), np.int64),
            fen=np.zeros((n_e, 2, n_cells + 1), np.int32),
            rank=np.zeros((n_e, n_cartels, 2), np.int32),
            watched=np.ones((n_e, n_cells), bool),
            watch=np.tile(np.arange(2 * n_cells, dtype=np.int32) % n_cells, (n_e, 1)),
            n_watch=np.full(n_e, n_cells, np.int64),
            n_cartels=n_cartels,
        )
        for e in range(n_e):
            k, s = sizes[e], slotted[e]
            ca, ce = np.asarray(cartel[e], np.int64), np.asarray(cell[e], np.int64)
            m.cartel[e, :k] = ca[s]
            m.cell[e, :k] = ce[s]
            m.role[e, :k] = roles[e][s]
            m.active[e, :k] = True
            bucket = np.full(cap, -1, np.int64)
            bucket[:k] = ca[s] * N_ROLES + roles[e][s]
            idx, start, count, bcap, pos = buckets.build(bucket, nb, width)
            m.b_idx[e], m.b_start[e], m.b_count[e], m.b_cap[e], m.pos[e] = idx, start, count, bcap, pos
            m.b_tail[e, 0] = buckets.tail_of(start, bcap)
            for q, r in enumerate(RANK_AND_FILE):
                m.rank[e, :, q] = np.bincount(ca[roles[e] == r], minlength=n_cartels)
            flat = ce * N_ROLES + roles[e]
            m.cell_role[e] = np.bincount(flat, minlength=m.cell_role[e].size).reshape(m.cell_role[e].shape)
        m.refresh_fenwick()
        return m

    @property
    def capacity(self) -> int:
        """Slots per experiment."""
        return int(self.cartel.shape[1])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays the compiled kernels take, in their order."""
        return (
            self.cartel,
            self.cell,
            self.role,
            self.active,
            self.joined,
            self.pos,
            self.b_idx,
            self.b_start,
            self.b_count,
            self.b_cap,
            self.free,
            self.n_free,
            self.n_used,
            self.cell_role,
            self.b_tail,
            self.fen,
            self.rank,
            self.watched,
            self.watch,
            self.n_watch,
        )

    def refresh_fenwick(self) -> None:
        """Rebuild the rank and file's Fenwick trees from ``cell_role`` (after the cells grew)."""
        rank = np.moveaxis(self.cell_role[:, :, GUNMAN : LOOKOUT + 1], 2, 1)
        self.fen = fenwick(rank)

    def role_counts(self) -> np.ndarray:
        """Active members per experiment, cartel and role: shape (E, N, 7)."""
        out = self.b_count.reshape(self.b_count.shape[0], self.n_cartels, N_ROLES).astype(np.int64)
        out[:, :, GUNMAN : LOOKOUT + 1] = self.rank
        return out

    def counts(self) -> np.ndarray:
        """Active members per experiment and cartel: shape (E, N)."""
        return self.role_counts().sum(2)

    def room(self) -> np.ndarray:
        """Free slots per experiment."""
        return self.n_free + (self.capacity - self.n_used)

    def ensure_room(self, extra: np.ndarray | int) -> None:
        """Grow every slot array so that each experiment can take ``extra[e]`` more slotted members."""
        extra = np.broadcast_to(np.asarray(extra, np.int64), self.n_used.shape)
        if (self.room() >= extra).all():
            return
        need = int((self.n_used + np.maximum(extra - self.n_free, 0)).max())
        cap = int(need * 1.25) + 1024
        grow = cap - self.capacity
        n_e = self.cartel.shape[0]

        def pad(a: np.ndarray, fill: int | bool) -> np.ndarray:
            return np.concatenate([a, np.full((n_e, grow), fill, a.dtype)], axis=1)

        self.cartel, self.cell, self.joined, self.pos = (
            pad(a, -1) for a in (self.cartel, self.cell, self.joined, self.pos)
        )
        self.role = pad(self.role, -1)
        self.active = pad(self.active, False)
        self.free = pad(self.free, 0)
        width = buckets.width_for(cap, self.b_start.shape[1])
        if width > self.b_idx.shape[1]:
            self.b_idx = np.concatenate([self.b_idx, np.full((n_e, width - self.b_idx.shape[1]), -1, np.int32)], 1)

    def grow(self, extra_cartels: int = 0, extra_cells: int = 0) -> None:
        """Make room for ``extra_cartels`` more cartel columns (factions) and ``extra_cells`` more cells.

        New buckets start empty with no room: the first member added moves the bucket to the row's free tail.
        """
        n_e = self.cartel.shape[0]
        if extra_cartels:
            nb = extra_cartels * N_ROLES
            self.b_start = np.concatenate([self.b_start, np.zeros((n_e, nb), self.b_start.dtype)], 1)
            self.b_count = np.concatenate([self.b_count, np.zeros((n_e, nb), self.b_count.dtype)], 1)
            self.b_cap = np.concatenate([self.b_cap, np.zeros((n_e, nb), self.b_cap.dtype)], 1)
            self.rank = np.concatenate([self.rank, np.zeros((n_e, extra_cartels, 2), self.rank.dtype)], 1)
            self.n_cartels += extra_cartels
            width = buckets.width_for(self.capacity, self.b_start.shape[1])
            if width > self.b_idx.shape[1]:
                pad = np.full((n_e, width - self.b_idx.shape[1]), -1, np.int32)
                self.b_idx = np.concatenate([self.b_idx, pad], 1)
        if extra_cells:
            pad = np.zeros((n_e, extra_cells, N_ROLES), self.cell_role.dtype)
            self.cell_role = np.concatenate([self.cell_role, pad], 1)
            self.refresh_fenwick()
            self.watched = np.concatenate([self.watched, np.zeros((n_e, extra_cells), bool)], 1)
            self.watch = np.concatenate([self.watch, np.zeros((n_e, 2 * extra_cells), np.int32)], 1)


# -- the rank and file: counts per cell with a Fenwick tree per role --------------------------------------
@numba.njit(cache=True, nogil=True, inline="always")
def touch(m, e, k):  # pragma: no cover - jit
    """Cell ``k``'s members changed: watch it in the next replacement (:func:`~.adaptation.refill`)."""
    if not m[17][e, k]:
        m[17][e, k] = True
        m[18][e, m[19][e]] = k
        m[19][e] += 1


@numba.njit(cache=True, nogil=True, inline="always")
def add_rank(m, e, c, k, r, d):  # pragma: no cover - jit
    """Add ``d`` (negative: remove) rank-and-file members of role ``r`` to cell ``k`` of cartel ``c``."""
    m[13][e, k, r] += d
    m[16][e, c, r - GUNMAN] += d
    touch(m, e, k)
    f = m[15][e, r - GUNMAN]
    i = k + 1
    n = f.shape[0]
    while i < n:
        f[i] += d
        i += i & (-i)


@numba.njit(cache=True, nogil=True, inline="always")
def rank_prefix(fen, e, r, k):  # pragma: no cover - jit
    """Rank-and-file members of role ``r`` in cells ``0 .. k - 1`` of experiment ``e`` (``fen``: ``m[15]``)."""
    f = fen[e, r - GUNMAN]
    s = 0
    i = k
    while i > 0:
        s += f[i]
        i -= i & (-i)
    return s


@numba.njit(cache=True, nogil=True, inline="always")
def role_count(b_count, rank, c, r):  # pragma: no cover - jit
    """Members of role ``r`` in cartel ``c``, from one experiment's rows ``m[8][e]`` and ``m[16][e]``."""
    if r == GUNMAN or r == LOOKOUT:
        return rank[c, r - GUNMAN]
    return b_count[c * 7 + r]


@numba.njit(cache=True, nogil=True, inline="always")
def pick_rank(fen, first, e, c, r, x):  # pragma: no cover - jit
    """The cell of cartel ``c`` that holds its ``x``-th (0-based) rank-and-file member of role ``r``.

    Counting the members cell by cell in cell order (``first``: the cartel's cell offsets), as a uniform
    position in the cartel's bucket would: a uniform ``x`` gives each member the same chance.
    """
    f = fen[e, r - GUNMAN]
    x += rank_prefix(fen, e, r, first[e, c])
    n = f.shape[0] - 1
    step = 1
    while step * 2 <= n:
        step *= 2
    p = 0
    while step > 0:
        q = p + step
        if q <= n and f[q] <= x:
            p = q
            x -= f[q]
        step //= 2
    return p


# -- slots ----------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, inline="always")
def move_member(m, e, j, c, k, r):  # pragma: no cover - jit
    """Give member slot ``j`` of experiment ``e`` cartel ``c``, cell ``k`` and role ``r`` (a promotion, a move)."""
    cartel, cell, role, pos = m[0], m[1], m[2], m[5]
    b_idx, b_start, b_count, b_cap, cell_role, tail = m[6], m[7], m[8], m[9], m[13], m[14]
    if r == GUNMAN or r == LOOKOUT:  # to the rank and file: the slot is freed
        remove_member(m, e, j)
        add_rank(m, e, c, k, r, 1)
        return
    r0 = role[e, j]
    buckets.remove(b_idx[e], b_start[e], b_count[e], pos[e], j, cartel[e, j] * 7 + r0)
    cell_role[e, cell[e, j], r0] -= 1
    touch(m, e, cell[e, j])
    touch(m, e, k)
    cartel[e, j] = c
    cell[e, j] = k
    role[e, j] = r
    buckets.add(b_idx[e], b_start[e], b_count[e], b_cap[e], pos[e], tail[e], j, c * 7 + r)
    cell_role[e, k, r] += 1


@numba.njit(cache=True, nogil=True, inline="always")
def remove_member(m, e, j):  # pragma: no cover - jit
    """Remove member slot ``j`` of experiment ``e`` (``m`` is :meth:`Members.arrays`); return its role."""
    cartel, cell, role, active, pos, b_idx, b_start, b_count = m[0], m[1], m[2], m[3], m[5], m[6], m[7], m[8]
    free, n_free, cell_role = m[10], m[11], m[13]
    r = role[e, j]
    b = cartel[e, j] * 7 + r
    buckets.remove(b_idx[e], b_start[e], b_count[e], pos[e], j, b)
    active[e, j] = False
    cell_role[e, cell[e, j], r] -= 1
    touch(m, e, cell[e, j])
    free[e, n_free[e]] = j
    n_free[e] += 1
    return r


@numba.njit(cache=True, nogil=True, inline="always")
def add_member(m, e, c, k, r, week):  # pragma: no cover - jit
    """Add a member of cartel ``c``, cell ``k``, role ``r`` at recorded ``week``; return its slot (-1: rank and file).

    Raises ValueError when a slotted member finds no free slot (the caller keeps room,
    :meth:`Members.ensure_room`).
    """
    if r == GUNMAN or r == LOOKOUT:
        add_rank(m, e, c, k, r, 1)
        return -1
    cartel, cell, role, active, joined, pos, b_idx, b_start, b_count, b_cap, free, n_free, n_used, cell_role = m[:14]
    if n_free[e] > 0:
        n_free[e] -= 1
        j = free[e, n_free[e]]
    elif n_used[e] < cartel.shape[1]:
        j = n_used[e]
        n_used[e] += 1
    else:
        raise ValueError("organisation layer: no free member slot (Members.ensure_room was not called)")
    cartel[e, j] = c
    cell[e, j] = k
    role[e, j] = r
    active[e, j] = True
    joined[e, j] = week
    buckets.add(b_idx[e], b_start[e], b_count[e], b_cap[e], pos[e], m[14][e], j, c * 7 + r)
    cell_role[e, k, r] += 1
    touch(m, e, k)
    return j
