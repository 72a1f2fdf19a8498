import numpy as np
import pytest

from cartelsim.ecosystem import EcosystemModel
from cartelsim.network import load_network

P = dict(rho=2.527474e-3, eta=110.0, theta=1.549231e-8, omega=4e-8)


def arrays(e, **kw):
    p = {**P, **kw}
    return [np.full(e, p[k]) for k in ("rho", "eta", "theta", "omega")]


def test_network_matches_spec():
    net = load_network()
    assert net.n == 150
    assert net.ids[:3] == ["N10025", "N10013", "N10076"]  # CJNG, Sinaloa, NFM lead the strength order
    assert net.rivalry.nnz // 2 == 92 and net.alliance.nnz // 2 == 91
    k = net.kernel_dense()
    assert k.min(where=k > 0, initial=9) == pytest.approx(0.018, abs=5e-4) and k.max() == 5.0
    assert not np.allclose(k, k.T)  # K is not symmetric
    assert int(net.is_cartel.sum()) == 148


def test_zipf_initial_shares():
    c = load_network().zipf_initial(115000.0)
    assert c.sum() == pytest.approx(115000.0)
    np.testing.assert_allclose(c[:5] / c.sum(), [0.179, 0.089, 0.060, 0.045, 0.036], atol=6e-4)


def test_flows_match_dense_equations():
    net = load_network()
    m = EcosystemModel(net)
    rng = np.random.default_rng(3)
    c = rng.uniform(10, 3000, size=(3, net.n))
    f = m.flows(c, *arrays(3))
    k = net.kernel_dense()
    tot = c.sum(1, keepdims=True)
    np.testing.assert_allclose(f.recruits, P["rho"] * c)
    np.testing.assert_allclose(f.incapacitated, P["eta"] * c / tot)
    np.testing.assert_allclose(f.deaths, P["theta"] * c * (c @ k.T), rtol=1e-10)
    np.testing.assert_allclose(f.exits, P["omega"] * c**2)
    np.testing.assert_allclose(f.incapacitated.sum(1), P["eta"])


def test_fused_step_equals_flows_then_apply():
    m = EcosystemModel(load_network())
    c = m.initial_state(np.array([115000.0, 120000.0]))
    c2 = c.copy()
    nxt = np.empty_like(c)
    nat = np.empty((2, 6))
    acc = np.zeros((2, 4, m.n))
    for _ in range(30):
        m.step(c, nxt, *arrays(2), nat, acc)
        f = m.flows(c2, *arrays(2))
        f.apply(c2)
        c, nxt = nxt, c
    np.testing.assert_allclose(c, c2, rtol=1e-12)
    np.testing.assert_allclose(nat[:, 3], f.deaths.sum(1), rtol=1e-12)


def test_outflows_never_exceed_members():
    m = EcosystemModel(load_network())
    c = m.initial_state(np.array([200.0]))  # tiny cartels, huge arrests
    f = m.flows(c, *arrays(1, eta=5000.0))
    assert (f.incapacitated + f.deaths + f.exits <= c + f.recruits + 1e-9).all()
    nxt = np.empty_like(c)
    m.step(c, nxt, *arrays(1, eta=5000.0), np.empty((1, 6)))
    assert (nxt >= 0).all()


def test_deaths_matrix_sums_to_deaths():
    m = EcosystemModel(load_network())
    c = m.initial_state(np.array([115000.0]))
    f = m.flows(c, *arrays(1))
    assert m.deaths_matrix(c[0], P["theta"]).sum() == pytest.approx(f.deaths.sum(), rel=1e-10)
