import numpy as np
import pytest

from cartelsim.organisation.generate import generate
from cartelsim.organisation.roles import LAB, LEADER, PLAZA_BOSS, SAFE_HOUSE, VEHICLE, WAREHOUSE, role_shares
from cartelsim.params import defaults

from .conftest import check_members


@pytest.fixture(scope="module")
def world(network):
    from cartelsim.ecosystem import EcosystemModel

    state = EcosystemModel(network).initial_state(np.array([115000.0, 60000.0]))
    m, cells, a = generate(state, [defaults(), defaults({"cell_size_mean_members": 30.0})], [1, 2], week=0)
    return state, m, cells, a


def test_members_follow_the_ecosystem_at_start(world):
    state, m, _cells, _a = world
    np.testing.assert_array_equal(m.counts(), np.rint(state))
    check_members(m)


def test_cells_one_per_plaza_and_at_least_one_per_cartel(world):
    state, _m, cells, _a = world
    n_cells = np.diff(cells.first, axis=1)
    assert (n_cells >= 1).all()
    np.testing.assert_array_equal(n_cells[0], np.maximum(1, np.rint(np.rint(state[0]) / 60)))
    assert n_cells[1].sum() > n_cells[0].sum()  # smaller cells, more of them
    assert (np.diff(cells.cum, axis=1)[cells.cartel[:, 1:] == cells.cartel[:, :-1]] >= 0).all()


def test_roles(world, network):
    state, m, _cells, _a = world
    rc = m.role_counts()[0]
    lead = np.minimum(5, 1 + np.floor(state[0] / 2000))
    np.testing.assert_array_equal(rc[:, LEADER], np.minimum(lead, np.rint(state[0])))
    occupied = (m.cell_role[0] > 0).any(1)
    np.testing.assert_array_equal(
        m.cell_role[0, :, PLAZA_BOSS], occupied.astype(int) * (m.cell_role[0, :, PLAZA_BOSS] > 0)
    )
    assert (m.cell_role[0, :, PLAZA_BOSS] <= 1).all()
    rest = rc[:, 2:].sum(0) / rc[:, 2:].sum()
    np.testing.assert_allclose(rest, role_shares(defaults())[2:], atol=0.01)


def test_assets_per_cell(world):
    state, _m, cells, a = world
    n_cells = int(cells.n_cells[0])
    kinds = a.cell_kind[0, :n_cells]
    assert (kinds[:, WAREHOUSE] == 1).all() and (kinds[:, VEHICLE] == 6).all() and (kinds[:, SAFE_HOUSE] == 2).all()
    assert (kinds[:, LAB] == 0).all()  # labs only with geography
    _, _, a2 = generate(state[:1], [defaults()], [1], week=0, labs=True)
    assert a2.cell_kind[0, :n_cells, LAB].mean() == pytest.approx(0.5, abs=0.05)


def test_scale_below_one_and_reproducible(network):
    state = np.array([[20000.0, 900.0, 0.2]])
    m, cells, _a = generate(state, [defaults({"organisation_scale": 0.1})], [5], week=3)
    assert m.counts().tolist() == [[2000, 90, 0]]
    assert np.diff(cells.first[0]).tolist() == [33, 2, 1]
    m2, _, _ = generate(state, [defaults({"organisation_scale": 0.1})], [5], week=3)
    np.testing.assert_array_equal(m.role, m2.role)
    np.testing.assert_array_equal(m.cell, m2.cell)
