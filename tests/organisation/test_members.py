import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartelsim.organisation.members import Members, add_member, add_rank, move_member, pick_rank, remove_member
from cartelsim.organisation.roles import GUNMAN, LEADER, LOGISTICS, LOOKOUT

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
    assert m.cartel.shape[0] == 2 and m.capacity >= 2
    assert m.counts().tolist() == [[3, 1], [0, 2]]
    assert m.role_counts()[1, 1, GUNMAN] == 2 and m.role_counts()[0, 0, LOOKOUT] == 1
    assert m.n_used.tolist() == [2, 0]  # slots for the two leaders only; gunmen and lookouts are counts
    assert m.cell_role[0, 1, LOOKOUT] == 1 and m.rank[1, 1].tolist() == [2, 0]
    assert m.joined[0, 0] == -1
    check_members(m, np.array([[0, 2, 3], [0, 2, 3]]))


def test_remove_then_add_reuses_the_slot():
    m = small()
    r = remove_member(m.arrays(), 0, 1)
    assert r == LEADER and not m.active[0, 1]
    assert m.counts()[0].tolist() == [3, 0]
    j = add_member(m.arrays(), 0, 1, 2, LOGISTICS, 7)
    assert j == 1 and m.active[0, 1] and m.joined[0, 1] == 7 and m.cartel[0, 1] == 1
    assert m.counts()[0].tolist() == [3, 1]
    check_members(m)


def test_a_slot_moved_to_the_rank_and_file_becomes_a_count():
    m = small()
    move_member(m.arrays(), 0, 1, 1, 2, GUNMAN)  # the second leader (cartel 1, cell 2) becomes a gunman there
    assert not m.active[0, 1] and m.n_free[0] == 1
    assert m.role_counts()[0, 1, LEADER] == 0 and m.role_counts()[0, 1, GUNMAN] == 1 and m.counts()[0, 1] == 1
    check_members(m, np.array([[0, 2, 3], [0, 2, 3]]))


def test_rank_and_file_are_added_as_counts():
    m = small()
    assert add_member(m.arrays(), 0, 1, 2, GUNMAN, 7) == -1
    assert m.n_used[0] == 2 and m.counts()[0].tolist() == [3, 2] and m.cell_role[0, 2, GUNMAN] == 1
    check_members(m, np.array([[0, 2, 3], [0, 2, 3]]))


def test_ensure_room_grows_everything_consistently_and_a_full_row_is_refused():
    m = small()
    before = m.capacity
    m.ensure_room(np.array([5000, 0]))
    assert m.capacity > before + 5000
    for _ in range(5000):
        add_member(m.arrays(), 0, 0, 0, LOGISTICS, 1)
    assert m.counts()[0, 0] == 5003
    check_members(m)
    with pytest.raises(ValueError, match="no free member slot"):
        for _ in range(m.capacity + 1):
            add_member(m.arrays(), 1, 0, 0, LOGISTICS, 1)


@numba.njit
def _picks(fen, first, c, r, n):
    out = np.empty(n, np.int64)
    for x in range(n):
        out[x] = pick_rank(fen, first, 0, c, r, x)
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.data())
def test_pick_rank_counts_the_members_cell_by_cell(counts, data):
    """The x-th member of a cartel's gunmen lies in the cell where the running count first exceeds x."""
    n_cells = len(counts)
    cuts = sorted(data.draw(st.lists(st.integers(0, n_cells), max_size=4)))
    first = np.array([[0, *cuts, n_cells]])
    cell_cartel = np.searchsorted(first[0, 1:], np.arange(n_cells), side="right")
    cell = np.repeat(np.arange(n_cells), counts)
    m = Members.from_arrays(cartel=[cell_cartel[cell]], cell=[cell], role=[np.full(cell.size, GUNMAN)],
                            n_cartels=first.shape[1] - 1, n_cells=n_cells)  # fmt: skip
    for c in range(first.shape[1] - 1):
        lo, hi = first[0, c], first[0, c + 1]
        want = np.repeat(np.arange(lo, hi), counts[lo:hi])
        np.testing.assert_array_equal(_picks(m.fen, first, c, GUNMAN, want.size), want)
    k = int(np.argmax(counts))
    if counts[k] == 0:
        return
    m.n_watch[:] = 0
    m.watched[:] = False
    add_rank(m.arrays(), 0, int(cell_cartel[k]), k, GUNMAN, -1)  # a removal keeps the tree in step with the counts
    check_members(m, first)
    assert m.watch[0, : m.n_watch[0]].tolist() == [k]  # and puts its cell on the watch list
