"""Named random streams with common random numbers (DESIGN.md, Randomness; STYLE.md).

Every stochastic decision has a stable name. Its generator at week ``t`` for replicate seed ``s`` is a
function of ``(s, stable_hash(name), t)`` only: a counter-based Philox generator whose key comes from
``SeedSequence([s, stable_hash(name)])`` and whose counter's high word is ``t``. So adding a decision
never shifts another's numbers, and a replicate gives the same draws whichever batch it runs in.

Examples
--------
>>> seeds = replicate_seeds(20230922, 2)
>>> s = Streams(seeds)
>>> a = s.generator("recruits", week=3, replicate=1).random()
>>> b = Streams([seeds[1]]).generator("recruits", week=3, replicate=0).random()
>>> a == b
True

"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

__all__ = ["Streams", "replicate_seeds", "stable_hash"]


def stable_hash(name: str) -> int:
    """Return a 64-bit hash of ``name`` that is stable across processes and Python versions."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def replicate_seeds(master_seed: int, n: int) -> list[int]:
    """Return replicate seeds: for replicate r, ``int(SeedSequence(master_seed).spawn(n)[r].generate_state(1)[0])``."""
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(master_seed).spawn(n)]


class Streams:
    """Per-replicate named generators, re-keyed every week.

    Parameters
    ----------
    seeds : sequence of int
        One seed per replicate (see :func:`replicate_seeds`).

    """

    def __init__(self, seeds: Sequence[int]) -> None:
        self.seeds = [int(s) for s in seeds]
        self._cache: dict[tuple[str, int], tuple[np.random.Philox, np.random.Generator]] = {}

    def generator(self, name: str, week: int, replicate: int) -> np.random.Generator:
        """Return the generator of decision ``name`` at ``week`` for the replicate at index ``replicate``."""
        key = (name, replicate)
        hit = self._cache.get(key)
        if hit is None:
            k = np.random.SeedSequence([self.seeds[replicate], stable_hash(name)]).generate_state(2, np.uint64)
            bitgen = np.random.Philox(key=k)
            hit = (bitgen, np.random.Generator(bitgen))
            self._cache[key] = hit
        bitgen, gen = hit
        state = bitgen.state
        state["state"]["counter"] = np.array([0, 0, 0, week], dtype=np.uint64)
        state["buffer_pos"] = 4
        state["has_uint32"] = 0
        bitgen.state = state
        return gen

    def generators(self, name: str, week: int) -> list[np.random.Generator]:
        """Return the generators of ``name`` at ``week`` for every replicate, in order."""
        return [self.generator(name, week, r) for r in range(len(self.seeds))]
