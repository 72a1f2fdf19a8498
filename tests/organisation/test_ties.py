import numpy as np

from cartelsim.organisation.generate import generate
from cartelsim.organisation.roles import FINANCE, GUNMAN, LEADER, LOGISTICS, LOOKOUT, PLAZA_BOSS, PRODUCTION
from cartelsim.organisation.ties import HIERARCHY, RANK_BASE, VALUE_CHAIN, nodes, rank_id, ties, to_sparse
from cartelsim.params import defaults


def test_hierarchy_and_value_chain_ties():
    m, cells, _ = generate(np.array([[4500.0, 70.0]]), [defaults()], [4], week=0)
    t = ties(m, 0)
    ids = np.sort(nodes(m, 0))
    assert ids.size == m.counts()[0].sum()  # every member is a node: slots, then gunmen and lookouts
    # each node's role, cell and cartel, from its slot or (gunmen and lookouts) from its id
    slots = ids[ids < RANK_BASE]
    rank = ids[ids >= RANK_BASE]
    code = (rank - RANK_BASE) // (1 << 24)
    rank_cell = code // 2
    assert (rank_id(rank_cell, GUNMAN + code % 2, (rank - RANK_BASE) % (1 << 24)) == rank).all()
    cell_cartel = np.searchsorted(cells.first[0], np.arange(cells.first[0, -1]), side="right") - 1
    role = np.concatenate([m.role[0, slots], GUNMAN + code % 2])
    cell = np.concatenate([m.cell[0, slots], rank_cell])
    cartel = np.concatenate([m.cartel[0, slots], cell_cartel[rank_cell]])
    assert set(role[slots.size :].tolist()) <= {GUNMAN, LOOKOUT} and m.active[0, slots].all()
    src, dst = np.searchsorted(ids, t.src), np.searchsorted(ids, t.dst)
    assert (ids[src] == t.src).all() and (ids[dst] == t.dst).all()  # ties join current members only
    h = t.kind == HIERARCHY
    assert set(np.unique(role[src[h]]).tolist()) <= {LEADER, PLAZA_BOSS}
    lb = h & (role[src] == LEADER)
    assert (role[dst[lb]] == PLAZA_BOSS).all() and (cartel[src[lb]] == cartel[dst[lb]]).all()
    bm = h & (role[src] == PLAZA_BOSS)
    assert (cell[src[bm]] == cell[dst[bm]]).all()
    # every non-leader non-boss member of a cell with a boss is tied to it
    with_boss = m.cell_role[0, :, PLAZA_BOSS] > 0
    under = (role != LEADER) & (role != PLAZA_BOSS) & with_boss[cell]
    assert bm.sum() == under.sum() and under[slots.size :].sum() > 0
    v = t.kind == VALUE_CHAIN
    assert (cell[src[v]] == cell[dst[v]]).all()
    chain = {LOGISTICS, PRODUCTION, FINANCE}
    assert set(np.unique(role[src[v]]).tolist()) <= chain and set(np.unique(role[dst[v]]).tolist()) <= chain
    assert (role[src[v]] != role[dst[v]]).all()
    a = to_sparse(t, ids)
    assert (a != a.T).nnz == 0 and a.nnz == 2 * t.src.size
