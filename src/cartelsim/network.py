"""The BACRIM 2020 cartel network and the conflict kernel of Prieto-Curiel et al. (2023).

Groups are keyed by node id and displayed by neutral labels; the order used by the model is the
stable descending sort of total strength (rivalry + alliance), which also sets the Zipf ranks.

Examples
--------
>>> net = load_network()
>>> net.n, net.ids[:2]
(150, ['N10025', 'N10013'])
>>> round(float(net.kernel_dense().max()), 3)
5.0

"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from cartelsim.data import data_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Network", "faction_groups", "faction_label", "faction_parent", "load_network"]


@dataclass(frozen=True)
class Network:
    """Cartels in model order with their rivalry and alliance matrices.

    Parameters
    ----------
    ids : list of str
        Node ids in model order (descending total strength, ties in file order).
    labels, kinds, listed_states : list of str
        Neutral labels, kinds ("criminal group" or a non-cartel kind) and the states the source lists.
    rivalry, alliance : scipy.sparse.csr_matrix
        Symmetric weights (number of states), ``max(W, W.T)`` of the source's directed rows.

    """

    ids: list[str]
    labels: list[str]
    kinds: list[str]
    listed_states: list[str]
    rivalry: sp.csr_matrix
    alliance: sp.csr_matrix

    @property
    def n(self) -> int:
        """Number of groups."""
        return len(self.ids)

    @property
    def alliance_strength(self) -> np.ndarray:
        """a_i = sum_j A_ij (float64)."""
        return np.asarray(self.alliance.sum(axis=1)).ravel().astype(np.float64)

    @property
    def is_cartel(self) -> np.ndarray:
        """Boolean mask of groups of kind "criminal group" (148 of the bundled 150).

        ``n_cartels`` counts these (and their factions) while they have at least one member; the other
        kinds (an insurgent group, a community police) stay in the ecosystem but are never counted,
        targeted or arrested.
        """
        return np.array([k == "criminal group" for k in self.kinds])

    def kernel_dense(self) -> np.ndarray:
        """K_ij = (R_ij + 1) / (a_i + 1) for i != j, K_ii = 0 (not symmetric; Prieto-Curiel et al. 2023)."""
        k = (self.rivalry.toarray() + 1.0) / (self.alliance_strength[:, None] + 1.0)
        np.fill_diagonal(k, 0.0)
        return k

    def zipf_initial(self, total: float) -> np.ndarray:
        """C_i(0) = total * (1 / r_i) / H_n over the model-order rank r_i = 1..n (Prieto-Curiel et al. 2023)."""
        inv = 1.0 / np.arange(1, self.n + 1, dtype=np.float64)
        return total * inv / inv.sum()


def _matrix(name: str, index: dict[str, int]) -> np.ndarray:
    m = np.zeros((len(index), len(index)))
    with open(data_path("bacrim2020", name), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            m[index[r["node"]], index[r["other"]]] = float(r["weight"])
    return np.maximum(m, m.T)


@lru_cache(maxsize=1)
def load_network() -> Network:
    """Load the bundled BACRIM 2020 network in model order (cached; treat the result as read-only)."""
    with open(data_path("bacrim2020", "nodes.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    index = {r["node"]: i for i, r in enumerate(rows)}
    riv, ali = _matrix("rivals.csv", index), _matrix("alliances.csv", index)
    strength = riv.sum(1) + ali.sum(1)
    order = np.argsort(-strength, kind="stable")  # R's order(decreasing=TRUE) is stable
    return Network(
        ids=[rows[i]["node"] for i in order],
        labels=[rows[i]["label"] for i in order],
        kinds=[rows[i]["kind"] for i in order],
        listed_states=[rows[i]["listed_state"] for i in order],
        rivalry=sp.csr_matrix(riv[np.ix_(order, order)]),
        alliance=sp.csr_matrix(ali[np.ix_(order, order)]),
    )


def faction_parent(group: str) -> str:
    """The parent's id of a faction id (``N10025.1.2`` -> ``N10025.1``)."""
    return group.rsplit(".", 1)[0]


def faction_label(group: str, labels: dict[str, str]) -> str:
    """Neutral label of a faction id: ``Faction of <root group's label> <suffix>`` (``Faction of CJNG 1.2``)."""
    root, _, suffix = group.partition(".")
    return f"Faction of {labels[root]} {suffix}"


def faction_groups(pairs: list[tuple[int, str]], network: Network) -> pd.DataFrame:
    """Rows of ``groups.parquet`` for factions: ``experiment_id, group, label, kind, parent``.

    ``pairs`` lists (experiment_id, faction id); label, kind and parent follow from the id (a faction of
    ``N10025`` is ``N10025.1``, its own ``N10025.1.1``, ...), so they can be rebuilt from the outcome rows.
    """
    import pandas as pd  # pandas only where a groups table is made

    labels = dict(zip(network.ids, network.labels, strict=True))
    kinds = dict(zip(network.ids, network.kinds, strict=True))
    rows = sorted(set(pairs))
    return pd.DataFrame(
        {
            "experiment_id": pd.array([e for e, _ in rows], dtype="Int64"),
            "group": [g for _, g in rows],
            "label": [faction_label(g, labels) for _, g in rows],
            "kind": [kinds[g.partition(".")[0]] for _, g in rows],
            "parent": [faction_parent(g) for _, g in rows],
        }
    )
