"""Synthetic assets: safe houses, warehouses, labs and vehicles, per cell, with destruction and rebuilding.

Arrays with the ensemble axis first, padded to a common count: ``cell``, ``cartel``, ``kind`` (see
:data:`~cartelsim.organisation.roles.ASSET_KINDS`), ``active`` and ``ready`` (absolute week at which a
destroyed asset is back; -1 while active). A bucket index per (cartel, kind) holds the active assets so
that detection picks among them in O(1) per pick. A destroyed asset is rebuilt after a geometric delay of
mean ``asset_rebuild_weeks`` (``models/organisation.md``: mean 8 weeks, range 2-26, assumption), at least
one week. Assets are synthetic: no real place or vehicle is represented.

Examples
--------
>>> import numpy as np
>>> a = Assets.from_arrays(cell=[np.array([0, 0, 1])], kind=[np.array([1, 3, 3])],
...                        cell_cartel=[np.array([0, 1])], n_cartels=2, n_cells=2)
>>> a.cell_kind[0].tolist()
[[0, 1, 0, 1], [0, 0, 0, 1]]
>>> destroy_asset(a.arrays(), 0, 1, 10, 3)
>>> a.cell_kind[0, 0].tolist(), int(a.ready[0, 1])
([0, 1, 0, 0], 13)
>>> rebuild(a.arrays(), 13)
>>> a.cell_kind[0, 0].tolist()
[0, 1, 0, 1]

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from cartelsim.organisation import buckets
from cartelsim.organisation.roles import N_KINDS

__all__ = ["Assets", "destroy_asset", "rebuild"]


@dataclass
class Assets:
    """Assets of every experiment of a batch (see the module docstring)."""

    cell: np.ndarray
    cartel: np.ndarray
    kind: np.ndarray
    active: np.ndarray
    ready: np.ndarray
    pos: np.ndarray
    b_idx: np.ndarray
    b_start: np.ndarray
    b_count: np.ndarray
    cell_kind: np.ndarray
    n_down: np.ndarray
    n: np.ndarray
    down: np.ndarray
    n_cartels: int

    @classmethod
    def from_arrays(
        cls,
        cell: Sequence[np.ndarray],
        kind: Sequence[np.ndarray],
        cell_cartel: Sequence[np.ndarray],
        n_cartels: int,
        n_cells: int,
    ) -> Assets:
        """Build the batch's arrays from each experiment's (cell, kind) per asset and cartel per cell."""
        n_e = len(cell)
        sizes = [len(c) for c in cell]
        cap = max(1, max(sizes, default=0))
        nb = n_cartels * N_KINDS
        a = cls(
            cell=np.full((n_e, cap), -1, np.int32),
            cartel=np.full((n_e, cap), -1, np.int32),
            kind=np.full((n_e, cap), -1, np.int8),
            active=np.zeros((n_e, cap), bool),
            ready=np.full((n_e, cap), -1, np.int32),
            pos=np.full((n_e, cap), -1, np.int32),
            b_idx=np.full((n_e, cap), -1, np.int32),
            b_start=np.zeros((n_e, nb), np.int64),
            b_count=np.zeros((n_e, nb), np.int32),
            cell_kind=np.zeros((n_e, max(1, n_cells), N_KINDS), np.int32),
            n_down=np.zeros(n_e, np.int64),
            n=np.array(sizes, np.int64),
            down=np.zeros((n_e, cap), np.int32),
            n_cartels=n_cartels,
        )
        for e in range(n_e):
            k = sizes[e]
            cl = np.asarray(cell[e], np.int64)
            kd = np.asarray(kind[e], np.int64)
            a.cell[e, :k] = cl
            a.cartel[e, :k] = np.asarray(cell_cartel[e])[cl]
            a.kind[e, :k] = kd
            a.active[e, :k] = True
            bucket = np.full(cap, -1, np.int64)
            bucket[:k] = a.cartel[e, :k].astype(np.int64) * N_KINDS + kd
            idx, start, count, _, pos = buckets.build(bucket, nb, cap, slack=False)
            a.b_idx[e], a.b_start[e], a.b_count[e], a.pos[e] = idx, start, count, pos
            a.cell_kind[e] = np.bincount(cl * N_KINDS + kd, minlength=a.cell_kind[e].size).reshape(a.cell_kind[e].shape)
        return a

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays the compiled kernels take, in their order."""
        return (
            self.cell,
            self.cartel,
            self.kind,
            self.active,
            self.ready,
            self.pos,
            self.b_idx,
            self.b_start,
            self.b_count,
            self.cell_kind,
            self.n_down,
            self.n,
            self.down,
        )

    def grow(self, extra_cartels: int = 0, extra_cells: int = 0) -> None:
        """Add empty buckets for ``extra_cartels`` more cartel columns and room for ``extra_cells`` more cells."""
        n_e = self.cell.shape[0]
        if extra_cartels:
            nb = extra_cartels * N_KINDS
            self.b_start = np.concatenate([self.b_start, np.full((n_e, nb), self.b_idx.shape[1], np.int64)], 1)
            self.b_count = np.concatenate([self.b_count, np.zeros((n_e, nb), np.int32)], 1)
            self.n_cartels += extra_cartels
        if extra_cells:
            self.cell_kind = np.concatenate([self.cell_kind, np.zeros((n_e, extra_cells, N_KINDS), np.int32)], 1)

    def reindex(self, e: int) -> None:
        """Rebuild experiment ``e``'s bucket index after assets changed cartel (a fission).

        Each bucket gets room for all its assets, destroyed ones included, so that :func:`rebuild` can put
        them back in place; the active ones are listed.
        """
        k = int(self.n[e])
        nb = self.b_start.shape[1]
        bucket = self.cartel[e, :k].astype(np.int64) * N_KINDS + self.kind[e, :k]
        room = np.bincount(bucket, minlength=nb)
        start = np.zeros(nb, np.int64)
        start[1:] = np.cumsum(room)[:-1]
        act = np.flatnonzero(self.active[e, :k])
        order = act[np.argsort(bucket[act], kind="stable")]
        count = np.bincount(bucket[act], minlength=nb)
        within = np.arange(order.size) - np.repeat(np.cumsum(count) - count, count)
        where = start[bucket[order]] + within
        self.b_idx[e] = -1
        self.b_idx[e, where] = order
        self.pos[e] = -1
        self.pos[e, order] = where
        self.b_start[e] = start
        self.b_count[e] = count

    def kind_counts(self) -> np.ndarray:
        """Active assets per experiment, cartel and kind: shape (E, N, 4)."""
        return self.b_count.reshape(self.b_count.shape[0], self.n_cartels, N_KINDS).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def destroy_asset(a, e, i, week, delay):  # pragma: no cover - jit
    """Destroy asset ``i`` of experiment ``e`` at absolute ``week``; it is back at ``week + delay``."""
    cell, cartel, kind, active, ready, pos, b_idx, b_start, b_count, cell_kind, n_down = a[:11]
    k = kind[e, i]
    buckets.remove(b_idx[e], b_start[e], b_count[e], pos[e], i, cartel[e, i] * 4 + k)
    active[e, i] = False
    ready[e, i] = week + delay
    cell_kind[e, cell[e, i], k] -= 1
    a[12][e, n_down[e]] = i  # the queue of destroyed assets (rebuild reads it, not every asset)
    n_down[e] += 1


@numba.njit(cache=True, nogil=True)
def rebuild(a, week):  # pragma: no cover - jit
    """Bring back every destroyed asset whose ``ready`` week has come, from each experiment's queue."""
    cell, cartel, kind, active, ready, pos, b_idx, b_start, b_count, cell_kind, n_down, _, down = a
    for e in range(cell.shape[0]):
        kept = 0
        for q in range(n_down[e]):
            i = down[e, q]
            if ready[e, i] > week:
                down[e, kept] = i
                kept += 1
                continue
            k = kind[e, i]
            b = cartel[e, i] * 4 + k
            p = b_start[e, b] + b_count[e, b]
            b_idx[e, p] = i
            pos[e, i] = p
            b_count[e, b] += 1
            active[e, i] = True
            ready[e, i] = -1
            cell_kind[e, cell[e, i], k] += 1
        n_down[e] = kept
