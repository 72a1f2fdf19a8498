"""Ties between synthetic members as columnar edge arrays (``models/organisation.md``).

Two kinds, built from the current member arrays of one experiment (so they always agree with who is a
member now). Gunmen and lookouts are counts per cell in the layer (:mod:`.members`); here each is a node
with the id :func:`rank_id` (cell, role, its number in the cell's count), above every slot number:

- **hierarchy** (kind 0): each leader to each plaza boss of its cartel, and each plaza boss to every other
  member of its cell;
- **value chain** (kind 1): inside a cell, between the roles that must cooperate to move a product,
  logistics - production - finance (after Duijn, Kashirin & Sloot, Sci. Reports 4:4238, 2014: the
  value-chain network), every pair of members of two different such roles.

Edges are undirected, listed once (``src`` the higher-ranking or earlier role). Use :func:`to_sparse` for a
``scipy.sparse`` adjacency matrix (``scipy.sparse.csgraph`` for graph measures).

Examples
--------
>>> import numpy as np
>>> from cartelsim.params import defaults
>>> from cartelsim.organisation.generate import generate
>>> m, cells, _ = generate(np.array([[130.0]]), [defaults()], [3], week=0)
>>> t = ties(m, 0)
>>> sorted(set(t.kind.tolist())), t.src.size == t.dst.size
([0, 1], True)

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cartelsim.organisation.members import RANK_AND_FILE, Members
from cartelsim.organisation.roles import FINANCE, GUNMAN, LEADER, LOGISTICS, PLAZA_BOSS, PRODUCTION

__all__ = ["HIERARCHY", "RANK_BASE", "VALUE_CHAIN", "Ties", "nodes", "rank_id", "ties", "to_sparse"]

HIERARCHY, VALUE_CHAIN = 0, 1
#: Node ids of gunmen and lookouts start here (slot numbers stay below); :func:`rank_id`.
RANK_BASE = 1 << 40
_STRIDE = 1 << 24  # most members of one role in one cell


def rank_id(cell: np.ndarray, role: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Node id of the ``i``-th gunman or lookout (``role``) of ``cell``: stable while the ones before it stay."""
    return RANK_BASE + (np.asarray(cell, np.int64) * 2 + (np.asarray(role, np.int64) - GUNMAN)) * _STRIDE + i


def _rank(members: Members, e: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids, cells and roles of experiment ``e``'s gunmen and lookouts."""
    ids, cells, roles = [], [], []
    for r in RANK_AND_FILE:
        n = members.cell_role[e, :, r].astype(np.int64)
        cell = np.repeat(np.arange(n.size), n)
        i = np.arange(cell.size) - np.repeat(np.cumsum(n) - n, n)
        ids.append(rank_id(cell, np.full(cell.size, r), i))
        cells.append(cell)
        roles.append(np.full(cell.size, r))
    return np.concatenate(ids), np.concatenate(cells), np.concatenate(roles)


def nodes(members: Members, experiment: int) -> np.ndarray:
    """Every current member of one experiment as a node id: active slots, then gunmen and lookouts."""
    return np.concatenate([np.flatnonzero(members.active[experiment]), _rank(members, experiment)[0]])


_CHAIN = ((LOGISTICS, PRODUCTION), (PRODUCTION, FINANCE), (LOGISTICS, FINANCE))


@dataclass(frozen=True)
class Ties:
    """Edges: member slots ``src`` and ``dst`` (int64) and ``kind`` (int8: hierarchy 0, value chain 1)."""

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray


def _pairs(a_slots: np.ndarray, a_group: np.ndarray, b_slots: np.ndarray, b_group: np.ndarray) -> np.ndarray:
    """All (a, b) with the same group: shape (2, pairs)."""
    if a_slots.size == 0 or b_slots.size == 0:
        return np.zeros((2, 0), np.int64)
    ob = np.argsort(b_group, kind="stable")
    b_slots, b_group = b_slots[ob], b_group[ob]
    lo = np.searchsorted(b_group, a_group, side="left")
    hi = np.searchsorted(b_group, a_group, side="right")
    n = hi - lo
    src = np.repeat(a_slots, n)
    offs = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    dst = b_slots[np.repeat(lo, n) + offs]
    return np.stack([src, dst])


def ties(members: Members, experiment: int) -> Ties:
    """Return the ties among the active members of one experiment (see the module docstring)."""
    e = experiment
    slots = np.flatnonzero(members.active[e])
    r_ids, r_cell, r_role = _rank(members, e)
    act = np.concatenate([slots, r_ids])
    role = np.concatenate([members.role[e, slots].astype(np.int64), r_role])
    cell = np.concatenate([members.cell[e, slots].astype(np.int64), r_cell])
    cartel = np.concatenate([members.cartel[e, slots].astype(np.int64), np.full(r_ids.size, -1)])  # unused

    def sel(r: int) -> np.ndarray:
        return role == r

    parts: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    lead, boss = sel(LEADER), sel(PLAZA_BOSS)
    h1 = _pairs(act[lead], cartel[lead], act[boss], cartel[boss])
    rest = ~lead & ~boss
    h2 = _pairs(act[boss], cell[boss], act[rest], cell[rest])
    for h in (h1, h2):
        parts.append(h)
        kinds.append(np.full(h.shape[1], HIERARCHY, np.int8))
    for ra, rb in _CHAIN:
        a, b = sel(ra), sel(rb)
        v = _pairs(act[a], cell[a], act[b], cell[b])
        parts.append(v)
        kinds.append(np.full(v.shape[1], VALUE_CHAIN, np.int8))
    edges = np.concatenate(parts, axis=1)
    return Ties(edges[0].astype(np.int64), edges[1].astype(np.int64), np.concatenate(kinds))


def to_sparse(t: Ties, node_ids: np.ndarray) -> sp.csr_matrix:
    """Symmetric adjacency matrix over ``node_ids`` (sorted; :func:`nodes`), in their order (1 per tie)."""
    ids = np.asarray(node_ids, np.int64)
    rows = np.searchsorted(ids, np.concatenate([t.src, t.dst]))
    cols = np.searchsorted(ids, np.concatenate([t.dst, t.src]))
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(ids.size, ids.size))
