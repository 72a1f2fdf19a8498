"""A memo with an owner: pure results kept for the lifetime of the object that holds it.

The geography layer's route solves are pure functions of their state (route parameters, shocks, supply),
and the batches of one run share most states (every policy's unshocked routes). A :class:`Memo` is made
by whoever owns that lifetime, normally one run (:func:`cartelsim.experiments.run_experiments`,
:func:`cartelsim.experiments.run_to_bundle`), and passed to each batch it simulates; a batch simulated
without one gets its own, which ends with the batch. Nothing is kept at module level, so two runs in one
process never share (or leak) solutions.

Sent to another process (a process pool or a Dask worker), a memo arrives empty and keeps what that
process solves for the task it came with: results never depend on it, only the time does.

Examples
--------
>>> m = Memo(size=2)
>>> m.put("a", 1); m.put("b", 2); m.get("a")
1
>>> m.put("c", 3)  # "b" was used least recently: dropped
>>> m.get("b") is None, len(m)
(True, 2)
>>> import pickle
>>> len(pickle.loads(pickle.dumps(m)))
0

"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

__all__ = ["Memo"]


class Memo:
    """A thread-safe least-recently-used memo of ``size`` entries (threads of one executor share it)."""

    def __init__(self, size: int = 512) -> None:
        if size < 1:
            raise ValueError(f"a memo needs room for at least one entry (got size={size})")
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value kept for ``key`` (None when absent); marks it as recently used."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``key``, dropping the least recently used entries beyond ``size``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __getstate__(self) -> dict[str, int]:  # travels empty: another process solves for itself
        return {"size": self.size}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__(state["size"])  # type: ignore[misc]
