"""Explicit tie networks after removals: rewiring of orphaned ties, and the network measures of Duijn et al.

Duijn, Kashirin & Sloot (Sci. Reports 4:4238, 2014) simulate disruption of a criminal value-chain network
and its recovery: removed members are replaced and the ties they leave orphaned are re-formed; the
recovered network ends up as efficient and dense as before, or more. The weekly layer keeps ties implicit
(they follow roles and cells, :mod:`.ties`, so replacement restores them); this module acts on an
explicit copy of one experiment's ties, for the network measures and the validation check:

- :func:`remove_and_rewire`: remove members; each tie a removed member leaves orphaned is re-formed with
  probability ``rewire_probability`` by the orphaned member, with someone chosen by ``rewiring_rule``:
  0 random (anyone), 1 by degree (in proportion to degree + 1, preferential attachment), 2 by distance
  (the nearest: another former neighbour of the removed member, two steps away before; anyone when there
  is none);
- :func:`efficiency` (global efficiency, Latora & Marchiori 2001: the mean of 1 / distance over ordered
  pairs, 0 for unreachable pairs; the measure Duijn et al. report) and :func:`density`.

Examples
--------
>>> import numpy as np
>>> t = Ties(np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2]), np.zeros(4, np.int8))
>>> round(efficiency(t, np.arange(4)), 3), round(density(t, np.arange(4)), 3)
(0.833, 0.667)
>>> r = remove_and_rewire(t, np.arange(4), np.array([0]), 1.0, 2, np.random.default_rng(1))
>>> sorted(zip(r.src.tolist(), r.dst.tolist())) == [(1, 2), (1, 3), (2, 3)] or len(r.src) >= 2
True

"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from cartelsim.organisation.ties import Ties

__all__ = ["REWIRED", "RULES", "density", "efficiency", "remove_and_rewire"]

#: Rewiring rules, by the code of the ``rewiring_rule`` parameter.
RULES: tuple[str, ...] = ("random", "by_degree", "by_distance")
#: ``kind`` of a re-formed tie.
REWIRED = 2


def _adjacency(t: Ties, nodes: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Symmetric 0/1 adjacency over ``nodes`` (:func:`~cartelsim.organisation.ties.nodes`); and the sorted ids.

    Row i of the matrix is ``nodes[i]``.
    """
    order = np.argsort(nodes, kind="stable")
    ids = np.asarray(nodes, np.int64)[order]

    def row(x: np.ndarray) -> np.ndarray:
        if ids.size == 0:
            return np.full(x.shape, -1)
        i = np.minimum(np.searchsorted(ids, x), ids.size - 1)
        return np.where(ids[i] == x, order[i], -1)

    a, b = row(t.src), row(t.dst)
    keep = (a >= 0) & (b >= 0) & (a != b)
    a, b = a[keep], b[keep]
    m = sp.csr_matrix((np.ones(2 * a.size), (np.concatenate([a, b]), np.concatenate([b, a]))), (nodes.size,) * 2)
    m.data[:] = 1.0
    return m, ids


def efficiency(t: Ties, nodes: np.ndarray) -> float:
    """Global efficiency of the network of ``nodes``: mean over ordered pairs of 1 / shortest distance."""
    n = nodes.size
    if n < 2:
        return 0.0
    m, _ = _adjacency(t, nodes)
    d = shortest_path(m, method="D", unweighted=True, directed=False)
    with np.errstate(divide="ignore"):
        inv = np.where(np.isfinite(d) & (d > 0), 1.0 / d, 0.0)
    return float(inv.sum() / (n * (n - 1)))


def density(t: Ties, nodes: np.ndarray) -> float:
    """Ties over possible ties among ``nodes`` (distinct undirected pairs)."""
    n = nodes.size
    if n < 2:
        return 0.0
    m, _ = _adjacency(t, nodes)
    return float(m.nnz / (n * (n - 1)))


def remove_and_rewire(
    t: Ties, nodes: np.ndarray, removed: np.ndarray, probability: float, rule: float, rng: np.random.Generator
) -> Ties:
    """Remove ``removed`` from the network of ``nodes`` and re-form their orphaned ties (see the module docstring).

    Removals are taken one at a time in the given order; returns the ties among the remaining nodes,
    re-formed ones with kind :data:`REWIRED`.
    """
    code = round(rule)
    if code not in (0, 1, 2):
        raise ValueError(f"rewiring_rule must be 0 (random), 1 (by degree) or 2 (by distance); got {rule}")
    nbrs: dict[int, set[int]] = {int(v): set() for v in nodes.tolist()}
    kind: dict[tuple[int, int], int] = {}
    for a, b, k in zip(t.src.tolist(), t.dst.tolist(), t.kind.tolist(), strict=True):
        if a in nbrs and b in nbrs and a != b:
            nbrs[a].add(b)
            nbrs[b].add(a)
            kind[(min(a, b), max(a, b))] = k
    alive = set(nbrs)
    for v in removed.tolist():
        if v not in alive:
            continue
        alive.discard(v)
        orphans = sorted(nbrs.pop(v))
        for x in orphans:
            nbrs[x].discard(v)
        pool = np.array(sorted(alive), np.int64)
        for x in orphans:
            if rng.random() >= probability or pool.size < 2:
                continue
            near = [y for y in orphans if y != x and y in alive and y not in nbrs[x]]
            if code == 2 and near:
                y = near[int(rng.integers(len(near)))]
            else:
                if code == 1:
                    deg = np.array([len(nbrs[int(y)]) + 1.0 for y in pool])
                    y = int(pool[rng.choice(pool.size, p=deg / deg.sum())])
                else:
                    y = int(pool[rng.integers(pool.size)])
                if y == x or y in nbrs[x]:
                    continue
            nbrs[x].add(y)
            nbrs[y].add(x)
            kind[(min(x, y), max(x, y))] = REWIRED
    pairs = sorted(p for p in kind if p[0] in alive and p[1] in alive and p[1] in nbrs[p[0]])
    src = np.array([p[0] for p in pairs], np.int64)
    dst = np.array([p[1] for p in pairs], np.int64)
    return Ties(src, dst, np.array([kind[p] for p in pairs], np.int8))
