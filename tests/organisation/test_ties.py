import numpy as np

from cartelsim.organisation.generate import generate
from cartelsim.organisation.roles import FINANCE, LEADER, LOGISTICS, PLAZA_BOSS, PRODUCTION
from cartelsim.organisation.ties import HIERARCHY, VALUE_CHAIN, ties, to_sparse
from cartelsim.params import defaults


def test_hierarchy_and_value_chain_ties():
    m, _cells, _ = generate(np.array([[4500.0, 70.0]]), [defaults()], [4], week=0)
    t = ties(m, 0)
    role, cell, cartel = m.role[0], m.cell[0], m.cartel[0]
    assert m.active[0, t.src].all() and m.active[0, t.dst].all()
    h = t.kind == HIERARCHY
    top = role[t.src[h]]
    assert set(np.unique(top).tolist()) <= {LEADER, PLAZA_BOSS}
    lb = h & (role[t.src] == LEADER)
    assert (role[t.dst[lb]] == PLAZA_BOSS).all() and (cartel[t.src[lb]] == cartel[t.dst[lb]]).all()
    bm = h & (role[t.src] == PLAZA_BOSS)
    assert (cell[t.src[bm]] == cell[t.dst[bm]]).all()
    # every non-leader non-boss member of a cell with a boss is tied to it
    members_under = ((role != LEADER) & (role != PLAZA_BOSS) & m.active[0]).sum()
    assert bm.sum() == members_under
    v = t.kind == VALUE_CHAIN
    assert (cell[t.src[v]] == cell[t.dst[v]]).all()
    chain = {LOGISTICS, PRODUCTION, FINANCE}
    assert set(np.unique(role[t.src[v]]).tolist()) <= chain and set(np.unique(role[t.dst[v]]).tolist()) <= chain
    assert (role[t.src[v]] != role[t.dst[v]]).all()
    a = to_sparse(t, m.capacity)
    assert (a != a.T).nnz == 0 and a.nnz == 2 * t.src.size
