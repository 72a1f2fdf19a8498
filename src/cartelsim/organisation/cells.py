"""Cells (one per plaza) and the trafficking capacity they carry.

A cartel's cells are contiguous: cells ``first[c]`` to ``first[c + 1] - 1`` of an experiment belong to
cartel ``c`` (every network cartel has at least one). A fission (:mod:`.factions`) appends its factions'
cells at the end of the experiment's cells, in the order of the factions' columns, and leaves the parent's
old cells empty, so the blocks stay contiguous and in column order. Each cell has a weight (its expected
share of the cartel's members, drawn at generation) stored as a cumulative share within its cartel, so
recruits join cells in proportion to them.

Trafficking capacity (``models/organisation.md``): a cell's capacity is 1 when its logistics role and at
least one warehouse and one vehicle are present, "reduced in proportion otherwise". We read the proportion
as the share of those three inputs present (assumption): a cell missing its warehouse carries 2/3. A
cartel's capacity is the sum over its cells (cell-equivalents).

Examples
--------
>>> import numpy as np
>>> cells = Cells(cartel=np.array([[0, 0, 1]]), cum=np.array([[0.5, 1.0, 1.0]]), first=np.array([[0, 2, 3]]))
>>> per_cell = cell_capacity(np.array([[2, 0, 1]]), np.array([[1, 1, 0]]), np.array([[3, 0, 6]]))
>>> per_cell.round(3).tolist()
[[1.0, 0.333, 0.667]]
>>> cells.per_cartel(per_cell).round(3).tolist()
[[1.333, 0.667]]

"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["Cells", "cartel_capacity", "cell_capacity"]


@dataclass
class Cells:
    """Cells of every experiment of a batch, padded to a common count.

    Attributes
    ----------
    cartel : ndarray of int32, shape (E, cells)
        The cell's cartel (-1 for padding).
    cum : ndarray of float64, shape (E, cells)
        Cumulative weight within the cartel (the cartel's last cell has 1.0).
    first : ndarray of int32, shape (E, N + 1)
        Offsets of each cartel's cells.

    """

    cartel: np.ndarray
    cum: np.ndarray
    first: np.ndarray

    @property
    def n_cells(self) -> np.ndarray:
        """Cells per experiment, shape (E,)."""
        return self.first[:, -1].astype(np.int64)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The arrays the compiled kernels take, in their order."""
        return self.cartel, self.cum, self.first

    def grow(self, extra_cartels: int = 0, extra_cells: int = 0) -> None:
        """Add empty cartel columns (factions: their cells are appended later) and room for more cells."""
        n_e = self.cartel.shape[0]
        if extra_cartels:
            self.first = np.concatenate([self.first, np.repeat(self.first[:, -1:], extra_cartels, 1)], 1)
        if extra_cells:
            self.cartel = np.concatenate([self.cartel, np.full((n_e, extra_cells), -1, self.cartel.dtype)], 1)
            self.cum = np.concatenate([self.cum, np.ones((n_e, extra_cells))], 1)

    def weights(self, e: int, lo: int, hi: int) -> np.ndarray:
        """Weights (shares within the cartel) of experiment ``e``'s cells ``lo..hi-1``, one cartel's block."""
        c = self.cum[e, lo:hi]
        return np.diff(c, prepend=0.0)

    def per_cartel(self, per_cell: np.ndarray) -> np.ndarray:
        """Sum a per-cell quantity (E, cells) over each cartel's cells: shape (E, N)."""
        n_e = per_cell.shape[0]
        cs = np.zeros((n_e, per_cell.shape[1] + 1))
        np.cumsum(per_cell, axis=1, out=cs[:, 1:])
        return np.take_along_axis(cs, self.first[:, 1:].astype(np.int64), 1) - np.take_along_axis(
            cs, self.first[:, :-1].astype(np.int64), 1
        )


def cell_capacity(logistics: np.ndarray, warehouses: np.ndarray, vehicles: np.ndarray) -> np.ndarray:
    """Trafficking capacity per cell: the share of (logistics member, warehouse, vehicle) present."""
    return ((logistics > 0).astype(np.float64) + (warehouses > 0) + (vehicles > 0)) / 3.0


@numba.njit(cache=True, nogil=True)
def cartel_capacity(logistics, warehouses, vehicles, first, out):  # pragma: no cover - jit
    """:func:`cell_capacity` summed over each cartel's cells into ``out`` (E, N), in one pass.

    ``logistics``, ``warehouses`` and ``vehicles``: per experiment and cell (E, cells), as strided views
    of the members' and assets' per-cell counts; ``first``: the cartels' cell offsets.
    """
    n_e, n = out.shape
    for e in range(n_e):
        for c in range(n):
            x = 0.0
            for k in range(first[e, c], first[e, c + 1]):
                x += (1.0 if logistics[e, k] > 0 else 0.0) + (1.0 if warehouses[e, k] > 0 else 0.0)
                x += 1.0 if vehicles[e, k] > 0 else 0.0
            out[e, c] = x / 3.0
