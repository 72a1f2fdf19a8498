"""Factions: a cartel that splits becomes two new cartels of the ecosystem, per experiment.

A fission (``models/organisation.md``, "Succession and fission"; DESIGN.md, the write-back) turns a
parent cartel into two factions with ids ``<parent>.1`` and ``<parent>.2`` (``N10025.1``; a faction's own
factions are ``N10025.1.1`` ...) and neutral labels ``Faction of <label> <suffix>``, where ``<label>`` is
the network group's neutral label and ``<suffix>`` the id's part after it (``Faction of CJNG 1``,
``Faction of CJNG 1.2``). A faction inherits its parent's kind. The parent keeps its id and is left
with no member (its column stays, at zero).

The batch's ecosystem state grows by columns: the network's 150 groups first, then faction columns,
allocated per experiment in the order the fissions happen (column 150 + 2k and 151 + 2k hold the k-th
fission's factions of that experiment; other experiments may hold other factions in the same columns,
or none). This module keeps, per experiment, what the ecosystem kernel needs beyond the network
(:class:`cartelsim.ecosystem.Extension`):

- extra rivalry weights: between the two factions (``faction_rivalry_weight``), and each faction gets
  ``faction_rivalry_share`` of every rivalry weight of its parent (1 by default: the weight is an
  intensity per member pair, so the factions' fights with the parent's rivals add up to the parent's);
- alliance strengths a_i: each faction gets ``faction_alliance_share`` of each alliance weight of its
  parent (0.5 by default: the allies' protection is divided); an ally's own strength is unchanged;
- which columns count as criminal groups (``n_cartels``) and each column's root network group (the
  geography layer places a faction's deaths where its root group operates).

A parent's old ties stay in the network's matrices but act on nothing: its C_i is 0 from the fission on,
and a split parent's ties are skipped when a faction's are enumerated.

Examples
--------
>>> from cartelsim.network import load_network
>>> net = load_network()
>>> reg = FactionRegistry(net, n_experiments=2)
>>> reg.grow(2)
>>> f1, f2 = reg.split(e=0, parent=0, rivalry_share=1.0, alliance_share=0.5, sibling_weight=3.0, week=10)
>>> reg.factions[0][f1].group, reg.factions[0][f2].label
('N10025.1', 'Faction of CJNG 2')
>>> reg.width, reg.factions[1]
(152, {})
>>> float(reg.alliance[0, f1]) == 0.5 * float(net.alliance_strength[0])
True

"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from cartelsim.ecosystem import Extension
from cartelsim.network import Network, faction_groups, faction_label, faction_parent
from cartelsim.organisation import buckets
from cartelsim.organisation.members import RANK_AND_FILE, add_rank, touch
from cartelsim.organisation.roles import GUNMAN, LOOKOUT
from cartelsim.recorder import row_total

__all__ = ["Faction", "FactionRegistry", "faction_groups", "faction_label", "faction_parent", "move_cartel"]


@dataclass(frozen=True)
class Faction:
    """One faction of one experiment.

    Attributes
    ----------
    column : int
        Its column in the batch's ecosystem state (>= the network's groups).
    group, parent, label, kind : str
        Id (``<parent>.<k>``), the parent's id, neutral label and kind (the parent's).
    week : int
        Recorded week of the fission (the faction has members from the start of the next week).

    """

    column: int
    group: str
    parent: str
    label: str
    kind: str
    week: int


class FactionRegistry:
    """Factions and the per-experiment network additions of a batch (see the module docstring).

    Parameters
    ----------
    network : Network
        The 150 groups in model order.
    n_experiments : int
        Experiments in the batch (E).

    """

    def __init__(self, network: Network, n_experiments: int) -> None:
        self.network = network
        self.n_base = network.n
        n_e = n_experiments
        self.n_e = n_e
        self.width = network.n
        self.ids = list(network.ids)
        self._labels = dict(zip(network.ids, network.labels, strict=True))
        self._kinds = dict(zip(network.ids, network.kinds, strict=True))
        self.factions: list[dict[int, Faction]] = [{} for _ in range(n_e)]
        self.used = np.zeros(n_e, np.int64)
        self.alliance = np.tile(network.alliance_strength, (n_e, 1))
        self.counted = np.tile(network.is_cartel, (n_e, 1))
        self.root = np.tile(np.arange(network.n), (n_e, 1))
        self.dead = np.zeros((n_e, network.n), bool)
        self._riv: list[dict[int, dict[int, float]]] = [{} for _ in range(n_e)]
        self._ali: list[dict[int, dict[int, float]]] = [{} for _ in range(n_e)]
        self._edges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        r, a = network.rivalry.tocsr(), network.alliance.tocsr()
        self._base_riv = [dict(zip(r.indices[r.indptr[i] : r.indptr[i + 1]].tolist(),
                                   r.data[r.indptr[i] : r.indptr[i + 1]].tolist(), strict=True))
                          for i in range(network.n)]  # fmt: skip
        self._base_ali = [dict(zip(a.indices[a.indptr[i] : a.indptr[i + 1]].tolist(),
                                   a.data[a.indptr[i] : a.indptr[i + 1]].tolist(), strict=True))
                          for i in range(network.n)]  # fmt: skip

    @property
    def any(self) -> bool:
        """True when some experiment has a faction."""
        return bool(self.used.any())

    def free(self, e: int) -> int:
        """Faction columns still free in experiment ``e``."""
        return int(self.width - self.n_base - self.used[e])

    def grow(self, k: int) -> None:
        """Add ``k`` faction columns to every experiment (empty until a fission uses them)."""
        n_e = self.n_e
        self.alliance = np.concatenate([self.alliance, np.zeros((n_e, k))], 1)
        self.counted = np.concatenate([self.counted, np.zeros((n_e, k), bool)], 1)
        self.root = np.concatenate([self.root, np.full((n_e, k), -1, self.root.dtype)], 1)
        self.dead = np.concatenate([self.dead, np.zeros((n_e, k), bool)], 1)
        self.ids += [f"#{self.width + i}" for i in range(k)]  # placeholders: a column's id is per experiment
        self.width += k

    def _ties(self, e: int, i: int, base: list[dict[int, float]], extra: list[dict[int, dict[int, float]]]) -> dict:
        out = dict(base[i]) if i < self.n_base else {}
        for j, w in extra[e].get(i, {}).items():
            out[j] = out.get(j, 0.0) + w
        return {j: w for j, w in out.items() if not self.dead[e, j]}

    def rivals(self, e: int, i: int) -> dict[int, float]:
        """Rivalry weights of column ``i`` in experiment ``e`` (split parents left out)."""
        return self._ties(e, i, self._base_riv, self._riv)

    def allies(self, e: int, i: int) -> dict[int, float]:
        """Alliance weights of column ``i`` in experiment ``e`` (split parents left out)."""
        return self._ties(e, i, self._base_ali, self._ali)

    def group_of(self, e: int, i: int) -> str:
        """Id of column ``i`` in experiment ``e``."""
        return self.ids[i] if i < self.n_base else self.factions[e][i].group

    def split(
        self, e: int, parent: int, rivalry_share: float, alliance_share: float, sibling_weight: float, week: int
    ) -> tuple[int, int]:
        """Register the fission of column ``parent`` of experiment ``e``; return the two factions' columns.

        Needs two free columns (:meth:`free`; :meth:`grow` first).
        """
        if self.free(e) < 2:
            raise RuntimeError("no free faction columns: grow the registry first")
        f1 = self.n_base + int(self.used[e])
        f2 = f1 + 1
        self.used[e] += 2
        pid = self.group_of(e, parent)
        root = int(self.root[e, parent])
        kind = self._kinds[self.ids[root]]
        rivals, allies = self.rivals(e, parent), self.allies(e, parent)
        for k, f in enumerate((f1, f2), start=1):
            gid = f"{pid}.{k}"
            self.factions[e][f] = Faction(f, gid, pid, faction_label(gid, self._labels), kind, week)
            self.root[e, f] = root
            self.counted[e, f] = kind == "criminal group"
            for j, w in rivals.items():
                self._add(self._riv, e, f, j, rivalry_share * w)
            for j, w in allies.items():
                self._add(self._ali, e, f, j, alliance_share * w)
            self.alliance[e, f] = alliance_share * self.alliance[e, parent]
        self._add(self._riv, e, f1, f2, sibling_weight)
        self.dead[e, parent] = True
        self.alliance[e, parent] = 0.0
        self._edges = None
        return f1, f2

    def _add(self, store: list[dict[int, dict[int, float]]], e: int, i: int, j: int, w: float) -> None:
        if w == 0.0:
            return
        for a, b in ((i, j), (j, i)):
            row = store[e].setdefault(a, {})
            row[b] = row.get(b, 0.0) + w

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Extra rivalry weights of every experiment as ``xptr, xrow, xcol, xw`` (see Extension)."""
        if self._edges is None:
            rows, cols, ws, ptr = [], [], [], [0]
            for e in range(self.n_e):
                for i, row in sorted(self._riv[e].items()):
                    for j, w in sorted(row.items()):
                        rows.append(i)
                        cols.append(j)
                        ws.append(w)
                ptr.append(len(rows))
            self._edges = (
                np.array(ptr, np.int64),
                np.array(rows, np.int64),
                np.array(cols, np.int64),
                np.array(ws, np.float64),
            )
        return self._edges

    def extension(self, mult: np.ndarray, any_mult: np.ndarray) -> Extension:
        """The ecosystem kernel's additions: these alliance strengths and rivalries, and ``mult``."""
        xptr, xrow, xcol, xw = self.edges()
        ncols = self.n_base + self.used
        return Extension(1.0 / (self.alliance + 1.0), xptr, xrow, xcol, xw, mult, any_mult, ncols)

    def total(self, x: np.ndarray) -> np.ndarray:
        """Sum a per-column quantity (E, width) over columns, the same whatever the batch's width: (E,).

        The network's groups are summed as one block of fixed width, then each faction column is added in
        column order: an experiment's faction columns are the same in any batch and the columns it does not
        use hold zeros, so the rounding never depends on how many columns the other experiments needed.
        """
        return row_total(x, self.n_base)

    def fold(self, x: np.ndarray) -> np.ndarray:
        """Sum a per-column quantity (E, width) onto the network's groups (E, 150): factions onto their root.

        ``x`` may be narrower than the registry: a quantity of the week (the flows) is as wide as the state
        it was computed from, and the write-back may have added columns since (their factions had no
        members yet, so nothing of theirs is left out).
        """
        if x.shape[1] == self.n_base:
            return x
        out = np.array(x[:, : self.n_base], dtype=np.float64)
        e_idx, col = np.nonzero(self.root[:, self.n_base : x.shape[1]] >= 0)
        col = col + self.n_base
        np.add.at(out, (e_idx, self.root[e_idx, col]), x[e_idx, col])
        return out


@numba.njit(cache=True, nogil=True)
def move_cartel(m, e, p, cell_map, col_map):  # pragma: no cover - jit
    """Move every member of column ``p`` (experiment ``e``) to cell ``cell_map[cell]`` of column ``col_map[cell]``.

    Members of a cell that ``cell_map`` leaves at -1 stay where they are. The rank and file move as counts.
    Slotted members leave their buckets first; the new buckets then get their room in one step
    (:func:`~cartelsim.organisation.buckets.reserve`) and each mover joins in O(1), in the order it had in
    its old bucket.
    """
    cartel, cell, role, pos, b_idx, b_start, b_count, b_cap = m[0], m[1], m[2], m[5], m[6], m[7], m[8], m[9]
    cell_role, tail = m[13], m[14]
    for k in range(cell_map.shape[0]):
        if cell_map[k] >= 0:
            for r in RANK_AND_FILE:
                d = cell_role[e, k, r]
                if d:
                    add_rank(m, e, p, k, r, -d)
                    add_rank(m, e, col_map[k], cell_map[k], r, d)
    extra = np.zeros(b_start.shape[1], np.int64)
    n_mv = 0
    for r in range(7):
        if r == GUNMAN or r == LOOKOUT:
            continue
        b = p * 7 + r
        for q in range(b_start[e, b], b_start[e, b] + b_count[e, b]):
            if cell_map[cell[e, b_idx[e, q]]] >= 0:
                n_mv += 1
    movers = np.empty(n_mv, np.int64)
    i = 0
    for r in range(7):
        if r == GUNMAN or r == LOOKOUT:
            continue
        b = p * 7 + r
        items = b_idx[e, b_start[e, b] : b_start[e, b] + b_count[e, b]].copy()
        for j in items:
            k = cell[e, j]
            if cell_map[k] < 0:
                continue
            movers[i] = j
            i += 1
            buckets.remove(b_idx[e], b_start[e], b_count[e], pos[e], j, b)
            cell_role[e, k, r] -= 1
            touch(m, e, k)
            cartel[e, j] = col_map[k]
            cell[e, j] = cell_map[k]
            cell_role[e, cell_map[k], r] += 1
            touch(m, e, cell_map[k])
            extra[col_map[k] * 7 + r] += 1
    buckets.reserve(b_idx[e], b_start[e], b_count[e], b_cap[e], pos[e], tail[e], extra)
    for j in movers:
        buckets.add(b_idx[e], b_start[e], b_count[e], b_cap[e], pos[e], tail[e], j, cartel[e, j] * 7 + role[e, j])
