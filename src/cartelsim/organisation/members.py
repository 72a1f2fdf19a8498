"""Synthetic members: plain arrays with the ensemble axis first, padded to a common capacity.

Each experiment's row holds its agents in slots: ``cartel``, ``cell`` (index into that experiment's
cells), ``role`` (see :mod:`~cartelsim.organisation.roles`), ``active`` and ``joined`` (recorded week the
agent joined; -1 for those generated at the start). Removed agents stay in their slot, inactive, until a
recruit reuses it (last freed, first reused). A bucket index per (cartel, role) lets the weekly step pick
members in O(1) (:mod:`~cartelsim.organisation.buckets`); ``cell_role`` counts active members per cell
and role; a list per cell and role of its gunmen and of its lookouts (``g_head``, ``g_next``, ``g_prev``:
a doubly linked list through the slots) finds one of them in O(1), for promotions inside a cell. Members
of one cell and role are interchangeable (nothing else tells them apart), so which one of them a
promotion takes changes no outcome's distribution. Agents are synthetic: they describe no one.

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

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from cartelsim.organisation import buckets
from cartelsim.organisation.roles import GUNMAN, LOOKOUT, N_ROLES

__all__ = ["Members", "add_member", "cell_link", "cell_unlink", "move_member", "remove_member"]


@dataclass
class Members:
    """Members of every experiment of a batch (see the module docstring).

    Attributes
    ----------
    cartel, cell, joined : ndarray of int32, shape (E, capacity)
        Cartel index (model order), cell index and recorded week joined (-1: present at the start).
    role : ndarray of int8, shape (E, capacity)
        Role code.
    active : ndarray of bool, shape (E, capacity)
        True for current members (a removed member's slot is inactive until reused).
    n_cartels : int
        Cartels (N); bucket ``c * 7 + r`` holds cartel c's members of role r.

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
    g_head: np.ndarray
    g_next: np.ndarray
    g_prev: np.ndarray
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
        sizes = [len(c) for c in cartel]
        cap = int(max(sizes, default=0) * headroom) + 1024
        nb = n_cartels * N_ROLES
        width = buckets.width_for(cap, nb)
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
            cell_role=np.zeros((n_e, max(1, n_cells), N_ROLES), np.int32),
            b_tail=np.zeros((n_e, 1), np.int64),
            g_head=np.full((n_e, max(1, n_cells), 2), -1, np.int32),
            g_next=np.full((n_e, cap), -1, np.int32),
            g_prev=np.full((n_e, cap), -1, np.int32),
            n_cartels=n_cartels,
        )
        for e in range(n_e):
            k = sizes[e]
            m.cartel[e, :k] = cartel[e]
            m.cell[e, :k] = cell[e]
            m.role[e, :k] = role[e]
            m.active[e, :k] = True
            bucket = np.full(cap, -1, np.int64)
            bucket[:k] = np.asarray(cartel[e], np.int64) * N_ROLES + np.asarray(role[e], np.int64)
            idx, start, count, bcap, pos = buckets.build(bucket, nb, width)
            m.b_idx[e], m.b_start[e], m.b_count[e], m.b_cap[e], m.pos[e] = idx, start, count, bcap, pos
            m.b_tail[e, 0] = buckets.tail_of(start, bcap)
            flat = np.asarray(cell[e], np.int64) * N_ROLES + np.asarray(role[e], np.int64)
            m.cell_role[e] = np.bincount(flat, minlength=m.cell_role[e].size).reshape(m.cell_role[e].shape)
        for e in range(n_e):
            link_cells(m.arrays(), e, sizes[e])
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
            self.g_head,
            self.g_next,
            self.g_prev,
        )

    def role_counts(self) -> np.ndarray:
        """Active members per experiment, cartel and role: shape (E, N, 7)."""
        return self.b_count.reshape(self.b_count.shape[0], self.n_cartels, N_ROLES).astype(np.int64)

    def counts(self) -> np.ndarray:
        """Active members per experiment and cartel: shape (E, N)."""
        return self.role_counts().sum(2)

    def ensure_room(self, extra: np.ndarray) -> None:
        """Grow every array so that each experiment can take ``extra[e]`` more members."""
        room = self.n_free + (self.capacity - self.n_used)
        if (room >= extra).all():
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
        self.g_next, self.g_prev = pad(self.g_next, -1), pad(self.g_prev, -1)
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
            self.n_cartels += extra_cartels
            width = buckets.width_for(self.capacity, self.b_start.shape[1])
            if width > self.b_idx.shape[1]:
                pad = np.full((n_e, width - self.b_idx.shape[1]), -1, np.int32)
                self.b_idx = np.concatenate([self.b_idx, pad], 1)
        if extra_cells:
            pad = np.zeros((n_e, extra_cells, N_ROLES), self.cell_role.dtype)
            self.cell_role = np.concatenate([self.cell_role, pad], 1)
            self.g_head = np.concatenate([self.g_head, np.full((n_e, extra_cells, 2), -1, np.int32)], 1)


@numba.njit(cache=True, nogil=True, inline="always")
def cell_link(m, e, j):  # pragma: no cover - jit
    """Put slot ``j`` (a gunman or a lookout; any other role is left alone) first in its cell's list."""
    r = m[2][e, j]
    if r != GUNMAN and r != LOOKOUT:
        return
    head, nxt, prv = m[15], m[16], m[17]
    k = m[1][e, j]
    q = r - GUNMAN
    h = head[e, k, q]
    nxt[e, j] = h
    prv[e, j] = -1
    if h >= 0:
        prv[e, h] = j
    head[e, k, q] = j


@numba.njit(cache=True, nogil=True, inline="always")
def cell_unlink(m, e, j):  # pragma: no cover - jit
    """Take slot ``j`` out of its cell's list (gunmen and lookouts only)."""
    r = m[2][e, j]
    if r != GUNMAN and r != LOOKOUT:
        return
    head, nxt, prv = m[15], m[16], m[17]
    a, b = prv[e, j], nxt[e, j]
    if a >= 0:
        nxt[e, a] = b
    else:
        head[e, m[1][e, j], r - GUNMAN] = b
    if b >= 0:
        prv[e, b] = a
    nxt[e, j] = -1
    prv[e, j] = -1


@numba.njit(cache=True, nogil=True)
def link_cells(m, e, n):  # pragma: no cover - jit
    """Build experiment ``e``'s per-cell lists from its first ``n`` slots."""
    for j in range(n):
        if m[3][e, j]:
            cell_link(m, e, j)


@numba.njit(cache=True, nogil=True, inline="always")
def move_member(m, e, j, c, k, r):  # pragma: no cover - jit
    """Give member slot ``j`` of experiment ``e`` cartel ``c``, cell ``k`` and role ``r`` (a promotion, a move)."""
    cartel, cell, role, pos = m[0], m[1], m[2], m[5]
    b_idx, b_start, b_count, b_cap, cell_role, tail = m[6], m[7], m[8], m[9], m[13], m[14]
    r0 = role[e, j]
    buckets.remove(b_idx[e], b_start[e], b_count[e], pos[e], j, cartel[e, j] * 7 + r0)
    cell_role[e, cell[e, j], r0] -= 1
    cell_unlink(m, e, j)
    cartel[e, j] = c
    cell[e, j] = k
    role[e, j] = r
    cell_link(m, e, j)
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
    cell_unlink(m, e, j)
    active[e, j] = False
    cell_role[e, cell[e, j], r] -= 1
    free[e, n_free[e]] = j
    n_free[e] += 1
    return r


@numba.njit(cache=True, nogil=True, inline="always")
def add_member(m, e, c, k, r, week):  # pragma: no cover - jit
    """Add a member of cartel ``c``, cell ``k``, role ``r`` joining at recorded ``week``; return its slot."""
    cartel, cell, role, active, joined, pos, b_idx, b_start, b_count, b_cap, free, n_free, n_used, cell_role = m[:14]
    if n_free[e] > 0:
        n_free[e] -= 1
        j = free[e, n_free[e]]
    else:
        j = n_used[e]
        n_used[e] += 1
    cartel[e, j] = c
    cell[e, j] = k
    role[e, j] = r
    active[e, j] = True
    joined[e, j] = week
    cell_link(m, e, j)
    buckets.add(b_idx[e], b_start[e], b_count[e], b_cap[e], pos[e], m[14][e], j, c * 7 + r)
    cell_role[e, k, r] += 1
    return j
