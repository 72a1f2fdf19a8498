"""Helpers for the organisation layer's tests: small scenarios and a hand-driven weekly loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from cartelsim.ecosystem import EcosystemModel
from cartelsim.network import load_network
from cartelsim.organisation.layer import OrganisationLayer
from cartelsim.organisation.members import RANK_AND_FILE, Members, fenwick
from cartelsim.params import defaults
from cartelsim.simulation import run_weeks

CAMPAIGN = """
[[policy]]
name = "strikes"
  [[policy.intervention]]
  type = "strike_campaign"
  start = {start}
  target = "{target}"
  sorties_per_week = {sorties}
  strikes_per_week = {strikes}
"""


def org_text(
    policies: str = "",
    start: str = "2012-01-01",
    end: str = "2013-01-01",
    replicates: int = 1,
    scale: float = 0.05,
    record: str = "{ national = 1, groups = 52 }",
    extra: str = "",
) -> str:
    """A small scenario with the organisation layer on."""
    return f"""
[scenario]
name = "org-test"
start = {start}
end = {end}
seed = 11
replicates = {replicates}
layers = ["ecosystem", "organisation"]
record = {record}
[parameters]
organisation_scale = {scale}
{extra}
{policies}
"""


def check_members(m: Members, first: np.ndarray | None = None) -> None:
    """Internal consistency of the slots, bucket index and counts (with ``first``, the cells' offsets, also
    that every cartel's rank and file lie in its own cells)."""
    n_e = m.cartel.shape[0]
    for e in range(n_e):
        act = np.flatnonzero(m.active[e])
        assert not np.isin(m.role[e, act], RANK_AND_FILE).any()  # gunmen and lookouts are counts
        b = m.cartel[e, act].astype(np.int64) * 7 + m.role[e, act]
        assert (m.b_idx[e, m.pos[e, act]] == act).all()
        assert (m.b_start[e, b] <= m.pos[e, act]).all()
        assert (m.pos[e, act] < m.b_start[e, b] + m.b_count[e, b]).all()
        np.testing.assert_array_equal(np.bincount(b, minlength=m.b_count.shape[1]), m.b_count[e])
        cr = np.zeros_like(m.cell_role[e])
        np.add.at(cr, (m.cell[e, act], m.role[e, act]), 1)
        slotted = [r for r in range(7) if r not in RANK_AND_FILE]
        np.testing.assert_array_equal(cr[:, slotted], m.cell_role[e][:, slotted])
        assert (m.cell_role[e] >= 0).all() and (m.rank[e] >= 0).all()
        np.testing.assert_array_equal(m.rank[e].sum(0), m.cell_role[e][:, list(RANK_AND_FILE)].sum(0))
        for q in range(2):  # the Fenwick trees agree with the counts
            np.testing.assert_array_equal(m.fen[e, q], fenwick(m.cell_role[e, :, RANK_AND_FILE[q]]))
        if first is not None:
            cum = np.concatenate([np.zeros((1, 2), np.int64), np.cumsum(m.cell_role[e][:, list(RANK_AND_FILE)], 0)])
            per = cum[first[e, 1:]] - cum[first[e, :-1]]
            np.testing.assert_array_equal(per, m.rank[e][: per.shape[0]])
        free = m.free[e, : m.n_free[e]]
        assert not m.active[e, free].any()
        assert len(set(free.tolist())) == free.size


def drive(
    weeks: int,
    params: Sequence[dict[str, float]] | None = None,
    interventions: Sequence[Sequence[object]] | None = None,
    seeds: Sequence[int] = (1,),
    each_week: Callable[[int, np.ndarray, OrganisationLayer], None] | None = None,
    start_members: float = 115000.0,
) -> tuple[np.ndarray, OrganisationLayer]:
    """Run the ecosystem plus the layer for ``weeks`` from 2012, calling ``each_week(t, state, layer)`` after
    each week's write-back; return the final state and the layer."""
    n_e = len(seeds)
    params = list(params or [defaults() for _ in range(n_e)])
    ivs = list(interventions or [[] for _ in range(n_e)])
    state = EcosystemModel(load_network()).initial_state(np.full(n_e, start_members))
    end = None if each_week is None else (lambda t, s, layer, _flows: each_week(t, s, layer))
    out = run_weeks(state, params, list(seeds), weeks, interventions=ivs, end=end)  # type: ignore[arg-type]
    return out.state, out.layer


@pytest.fixture(scope="module")
def network():
    return load_network()
