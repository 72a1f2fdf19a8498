"""Recording outcomes on the DESIGN.md timing rules, for any layer.

A stock ``n_x`` recorded at week t is its value at the start of week t; a flow ``new_x`` at week t sums
weeks t..t+k-1 when recording every k weeks. ``national`` has one group; other levels (cartel, state,
municipality, port) are recorded every ``groups`` weeks for a fixed list of group ids.

Examples
--------
>>> import numpy as np
>>> r = Recorder(n_experiments=1, n_weeks=4, national=2, groups=None)
>>> for t in range(4):
...     r.stock("national", "n_x", t, np.array([10.0 + t]))
...     r.flow("national", "new_y", t, np.array([1.0]))
>>> r.arrays["national"]["n_x"][0].tolist(), r.arrays["national"]["new_y"][0].tolist()
([[10.0, 12.0]], [[2.0, 2.0]])

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Recorder", "row_total"]


class Recorder:
    """Accumulates recorded outcomes as arrays of shape ``(E, groups, recorded weeks)`` per level and variable.

    Parameters
    ----------
    n_experiments : int
        Experiments in the batch (E).
    n_weeks : int
        Recorded weeks of the scenario (week 0 = start).
    national, groups : int or None
        Recording interval in weeks for the national level and for every other level (None: not recorded).

    """

    def __init__(self, n_experiments: int, n_weeks: int, national: int | None, groups: int | None) -> None:
        self.n_e, self.n_weeks = n_experiments, n_weeks
        self.every = {"national": national, "groups": groups}
        self.group_ids: dict[str, list[str]] = {"national": [""]}
        self.arrays: dict[str, dict[str, np.ndarray]] = {}

    def add_level(self, level: str, group_ids: Sequence[str]) -> None:
        """Declare a level with its group ids (in the order values will be given)."""
        self.group_ids[level] = list(group_ids)

    def interval(self, level: str) -> int | None:
        """Recording interval of ``level`` in weeks (None: not recorded)."""
        return self.every["national" if level == "national" else "groups"]

    def weeks(self, level: str) -> np.ndarray:
        """Recorded weeks of ``level``."""
        k = self.interval(level)
        return np.arange(0, self.n_weeks, k) if k else np.zeros(0, np.int64)

    def records(self, level: str, week: int) -> bool:
        """True when ``level`` is recorded and ``week`` opens a recording window (stocks are taken)."""
        k = self.interval(level)
        return k is not None and 0 <= week < self.n_weeks and week % k == 0

    def active(self, level: str, week: int) -> bool:
        """True when ``level`` is recorded at all and ``week`` is a recorded week (flows are summed)."""
        return bool(self.interval(level)) and 0 <= week < self.n_weeks

    def _array(self, level: str, var: str) -> np.ndarray:
        lev = self.arrays.setdefault(level, {})
        a = lev.get(var)
        if a is None:
            a = lev[var] = np.zeros((self.n_e, len(self.group_ids[level]), self.weeks(level).size))
        return a

    def _column(self, level: str, week: int) -> int:
        return week // (self.interval(level) or 1)

    def stock(self, level: str, var: str, week: int, values: np.ndarray) -> None:
        """Record a stock at ``week`` (ignored unless ``week`` opens a window). ``values``: (E,) or (E, G)."""
        if self.records(level, week):
            self._array(level, var)[:, :, self._column(level, week)] = values.reshape(self.n_e, -1)

    def flow(self, level: str, var: str, week: int, values: np.ndarray) -> None:
        """Add a flow during ``week`` to its window. ``values``: (E,) or (E, G)."""
        if self.active(level, week):
            self._array(level, var)[:, :, self._column(level, week)] += values.reshape(self.n_e, -1)

    def flow_window(self, level: str, var: str, week: int, values: np.ndarray) -> None:
        """Set a whole window's flow total at once (``week`` is any week of that window)."""
        if self.active(level, week):
            self._array(level, var)[:, :, self._column(level, week)] = values.reshape(self.n_e, -1)


def row_total(x: np.ndarray, n_base: int) -> np.ndarray:
    """Sum ``x`` (E, width) over columns, bit for bit the same whatever the batch's width: (E,).

    The first ``n_base`` columns (the network's groups) are summed as one block of fixed width, then each
    further (faction) column is added in column order. An experiment's faction columns are the same in any
    batch and the columns it does not use hold zeros, so the rounding never depends on how many columns
    other experiments of the batch needed (numpy's pairwise sum splits a row where its width says).
    """
    out = np.asarray(np.sum(x[:, :n_base], axis=1, dtype=np.float64))
    for c in range(n_base, x.shape[1]):
        out = out + x[:, c]
    return out
