import numpy as np

from cartelsim.organisation.members import Members, add_member, remove_member
from cartelsim.organisation.roles import GUNMAN, LEADER, LOOKOUT

from .conftest import check_members


def small() -> Members:
    return Members.from_arrays(
        cartel=[np.array([0, 0, 0, 1]), np.array([1, 1])],
        cell=[np.array([0, 0, 1, 2]), np.array([2, 2])],
        role=[np.array([LEADER, GUNMAN, LOOKOUT, LEADER]), np.array([GUNMAN, GUNMAN])],
        n_cartels=2,
        n_cells=3,
    )


def test_from_arrays_pads_and_counts():
    m = small()
    assert m.cartel.shape[0] == 2 and m.capacity >= 4
    assert m.counts().tolist() == [[3, 1], [0, 2]]
    assert m.role_counts()[1, 1, GUNMAN] == 2
    assert m.joined[0, 0] == -1
    check_members(m)


def test_remove_then_add_reuses_the_slot():
    m = small()
    r = remove_member(m.arrays(), 0, 1)
    assert r == GUNMAN and not m.active[0, 1]
    assert m.counts()[0].tolist() == [2, 1]
    j = add_member(m.arrays(), 0, 1, 2, LOOKOUT, 7)
    assert j == 1 and m.active[0, 1] and m.joined[0, 1] == 7 and m.cartel[0, 1] == 1
    check_members(m)


def test_ensure_room_grows_everything_consistently():
    m = small()
    before = m.capacity
    m.ensure_room(np.array([5000, 0]))
    assert m.capacity > before + 5000
    for _ in range(5000):
        add_member(m.arrays(), 0, 0, 0, GUNMAN, 1)
    assert m.counts()[0, 0] == 5003
    check_members(m)
