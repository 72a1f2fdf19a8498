"""Route model properties (models/routes-dell-2015.md §1.8) on small graphs and on the bundled graph."""

import itertools

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from cartelsim import places
from cartelsim.geography.equilibrium import port_costs
from cartelsim.geography.graph import load_route_graph, make_route_graph
from cartelsim.geography.routes import (
    diverted_onto,
    least_costs,
    reroute,
    route_counts,
    shortest_routes,
    solve_routes,
)
from cartelsim.geography.shocks import Shocks, crackdown, edge_weights, interdiction


@pytest.fixture(scope="module")
def graph():
    return load_route_graph()


@pytest.fixture(scope="module")
def origins(graph):
    return graph.municipality_index(places.producing_regions()["code"])


@pytest.fixture(scope="module")
def base(graph, origins):
    return solve_routes(graph, origins)


def random_graph(seed: int, n: int = 40, n_ports: int = 4):
    """Random planar-ish graph: k nearest neighbours plus a chain so that it is connected."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    pairs = {(i, i + 1) for i in range(n - 1)}
    for i in range(n):
        for j in np.argsort(d[i])[1:4]:
            pairs.add((min(i, int(j)), max(i, int(j))))
    u, v = np.array(sorted(pairs)).T
    twins = rng.choice(n, n_ports, replace=False)
    return make_route_graph(
        codes=[f"{i:05d}" for i in range(n)],
        state_codes=[f"{i % 3:02d}" for i in range(n)],
        edge_u=u,
        edge_v=v,
        edge_km=d[u, v],
        port_codes=[f"{9000 + k}" for k in range(n_ports)],
        port_twin=twins,
        capacity_share=rng.uniform(0.05, 0.5, n_ports),
    )


def forward_costs(graph, w, origins):
    """Per-origin Dijkstra in the original orientation (what Dell's code does)."""
    fwd = graph.reversed_matrix(w).T.tocsr()
    return dijkstra(fwd, directed=True, indices=origins)[:, graph.sink]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_dijkstra_from_sink_equals_per_origin_dijkstra_small(seed):
    g = random_graph(seed)
    rng = np.random.default_rng(seed)
    w = g.base_weights(crossing_km=rng.uniform(0, 100, g.n_ports))
    dist, pred = least_costs(g, w)
    allo = np.arange(g.n_municipalities)
    np.testing.assert_allclose(dist[allo], forward_costs(g, w, allo), rtol=1e-12)
    # following the predecessors adds up to the same cost
    m = g.reversed_matrix(w).tocsr()
    for o in allo[:10]:
        cost, node = 0.0, o
        while node != g.sink:
            nxt = pred[node]
            cost += m[nxt, node]
            node = nxt
        assert cost == pytest.approx(dist[o], rel=1e-12)


def test_single_dijkstra_equals_per_origin_and_networkx_on_real_graph(graph):
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(11)
    w = edge_weights(graph, interdiction(graph, ports=["2304"], added_cost=150.0))
    sample = rng.choice(graph.n_municipalities, 40, replace=False)
    dist, _ = least_costs(graph, w)
    np.testing.assert_allclose(dist[sample], forward_costs(graph, w, sample), rtol=1e-12)
    fwd = graph.reversed_matrix(w).T.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(fwd.row.tolist(), fwd.col.tolist(), fwd.data.tolist(), strict=True))
    to_sink = nx.single_source_dijkstra_path_length(g.reverse(copy=False), graph.sink)
    np.testing.assert_allclose(dist[sample], [to_sink[int(o)] for o in sample], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 4])
def test_removing_an_edge_never_lowers_any_cost(seed):
    g = random_graph(seed)
    w = g.base_weights()
    dist, _ = least_costs(g, w)
    rng = np.random.default_rng(seed)
    for e in rng.choice(g.n_edges, 15, replace=False):
        s = Shocks.none(g)
        factor = s.edge_factor.copy()
        factor[e] = np.inf
        after, _ = least_costs(
            g, edge_weights(g, Shocks(factor, s.access_factor, s.crossing_added_km, s.seizure_probability))
        )
        assert np.all(after >= dist - 1e-9)


def test_removing_edges_on_used_paths_never_lowers_costs_real(graph, origins):
    w = edge_weights(graph)
    dist, _pred = least_costs(graph, w)
    raised = 0
    for code in ["25006", "08037", "28027", "10005", "19039"]:  # Culiacán, Juárez, Nuevo Laredo, ...
        after, _ = least_costs(graph, edge_weights(graph, crackdown(graph, municipalities=[code], cost_factor=np.inf)))
        open_ = np.isfinite(after)
        assert np.all(after[open_] >= dist[open_] - 1e-9)
        raised += int(np.sum(after[origins] > dist[origins] + 1e-9))
    assert raised > 0  # the test can see a change


def test_route_counts_match_explicit_paths(graph, origins):
    w = edge_weights(graph)
    _dist, pred = least_costs(graph, w)
    counts = route_counts(graph, pred, origins)
    expected = np.zeros(graph.n_municipalities, dtype=int)
    for o in origins:
        node = o
        while node < graph.n_municipalities:
            expected[node] += 1
            node = pred[node]
    np.testing.assert_array_equal(counts, expected)
    assert np.all(counts[origins] >= 1)  # an origin counts itself
    np.testing.assert_array_equal(reroute(graph, w, origins), counts)


def test_phi_zero_equals_shortest_paths(graph, origins):
    sp = shortest_routes(graph, origins)
    zero = solve_routes(graph, origins, congestion_km=0.0)
    np.testing.assert_array_equal(sp.n_routes, zero.n_routes)
    assert zero.iterations == 0 and zero.converged
    w = edge_weights(graph)
    np.testing.assert_allclose(zero.origin_cost_km, forward_costs(graph, w, origins), rtol=1e-12)
    np.testing.assert_array_equal(zero.n_routes, reroute(graph, w, origins))
    # with no congestion each origin's supply goes whole to its nearest port
    np.testing.assert_allclose(zero.origin_port_flow.max(axis=1), zero.supply)


def test_port_cost_matrix_gives_the_sink_dijkstra_costs(graph, origins, base):
    d = port_costs(graph, edge_weights(graph), origins)
    np.testing.assert_allclose((d + base.crossing_cost_km).min(axis=1), base.origin_cost_km, rtol=1e-12)


def test_frank_wolfe_converges_with_falling_gap(base):
    assert base.converged and base.relative_gap <= 1e-3
    h = base.gap_history[np.isfinite(base.gap_history)]
    assert h.size > 40
    quarters = [np.median(q) for q in np.array_split(h, 4)]
    assert all(a >= b for a, b in itertools.pairwise(quarters)), quarters
    assert quarters[-1] < quarters[0] / 3


def test_used_paths_of_an_origin_cost_the_same(graph, origins, base):
    total = port_costs(graph, edge_weights(graph), origins) + base.crossing_cost_km
    best = total.min(axis=1, keepdims=True)
    used = base.origin_port_flow / base.supply[:, None] > 0.05
    assert used.sum() > origins.size  # some origins split their supply
    # at relative gap 1e-3, every port carrying more than 5% of an origin costs within 1% of its best
    assert np.max(((total - best) / best)[used]) < 0.01
    np.testing.assert_allclose(base.origin_port_flow.sum(axis=1), base.supply)
    np.testing.assert_allclose(base.origin_port_flow.sum(axis=0), base.port_flow, atol=1e-9)


def test_methods_and_warm_start_agree(graph, origins, base):
    conj = solve_routes(graph, origins, method="conjugate")
    assert conj.converged
    np.testing.assert_allclose(conj.flow_share, base.flow_share, atol=0.01)
    warm = solve_routes(graph, origins, warm_start=base)
    assert warm.converged and warm.iterations < base.iterations / 5
    np.testing.assert_allclose(warm.flow_share, base.flow_share, atol=0.01)


def test_raising_a_crossing_capacity_pulls_flow_to_it(graph, origins, base):
    from dataclasses import replace

    for code in ["2604", "2301"]:  # Nogales, Brownsville
        k = graph.port_index([code])[0]
        cap = graph.capacity_share.copy()
        cap[k] *= 3
        bigger = solve_routes(replace(graph, capacity_share=cap), origins)
        assert bigger.port_flow[k] > base.port_flow[k] * 1.2, code
        assert bigger.flow_share[k] > base.flow_share[k]


def test_flow_share_sums_to_one_and_flow_reaches_border(base, origins):
    assert base.flow_share.sum() == pytest.approx(1.0, abs=1e-12)
    assert base.flow_to_border == pytest.approx(origins.size)  # 1 unit per origin, no seizure
    assert base.n_municipalities_on_routes == np.count_nonzero(base.n_routes)
    assert base.n_routes.shape == (2469,) and base.n_routes.dtype == np.int64


def test_crackdown_closing_a_municipality(graph, origins, base):
    nl = graph.municipality_index(["28027"])[0]  # Nuevo Laredo, twin of Laredo (2304)
    assert base.n_routes[nl] > 0
    closed = solve_routes(graph, origins, crackdown(graph, municipalities=["28027"], cost_factor=np.inf))
    assert closed.n_routes[nl] == 0
    assert closed.flow_share[graph.port_index(["2304"])[0]] == 0
    assert closed.flow_share.sum() == pytest.approx(1.0)
    assert closed.flow_to_border == pytest.approx(origins.size)  # everyone still gets across


def test_crackdown_on_a_municipality_diverts_to_neighbours(graph, origins, base):
    # the busiest non-origin, non-border municipality on the routes
    twins = set(graph.port_twin.tolist())
    order = np.argsort(-base.n_routes)
    target = next(i for i in order if i not in set(origins.tolist()) and i not in twins)
    code = graph.codes[target]
    after = solve_routes(graph, origins, crackdown(graph, municipalities=[code], cost_factor=1e3))
    assert after.n_routes[target] == 0
    nb = np.concatenate([graph.edge_v[graph.edge_u == target], graph.edge_u[graph.edge_v == target]])
    assert np.any(after.n_routes[nb] > base.n_routes[nb])  # neighbours take routes
    div = diverted_onto(after.n_routes, base.n_routes)
    np.testing.assert_array_equal(div, (after.n_routes > 0) & (base.n_routes == 0))
    assert div.sum() > 0 and not div[target]


def test_crackdown_on_an_origin_keeps_its_count(graph, origins, base):
    o = origins[0]
    finite = solve_routes(graph, origins, crackdown(graph, municipalities=[graph.codes[o]], cost_factor=50.0))
    assert finite.n_routes[o] >= 1  # still an origin: its route starts there
    closed = solve_routes(graph, origins, crackdown(graph, municipalities=[graph.codes[o]], cost_factor=np.inf))
    assert closed.origin_port[0] == -1 and closed.n_routes[o] == 0  # cut off: no route at all
    assert closed.flow_to_border == pytest.approx(origins.size - 1)
    assert np.isnan(closed.origin_length_km[0]) and closed.path(0).size == 0


def test_crackdown_by_state(graph, origins):
    s = crackdown(graph, states=["28"], cost_factor=2.0)
    tam = graph.state_codes == "28"
    touched = tam[graph.edge_u] | tam[graph.edge_v]
    np.testing.assert_array_equal(s.edge_factor, np.where(touched, 2.0, 1.0))
    twice = crackdown(graph, s, states=["28"], cost_factor=3.0)
    assert twice.edge_factor.max() == 6.0  # factors multiply
    with pytest.raises(KeyError):
        crackdown(graph, states=["99"])
    with pytest.raises(ValueError):
        crackdown(graph, municipalities=["28027"], cost_factor=0.0)


def test_interdiction(graph, origins, base):
    k = graph.port_index(["2304"])[0]
    pushed = solve_routes(graph, origins, interdiction(graph, ports=["2304"], added_cost=1000.0, seizure_probability=0))
    assert pushed.flow_share[k] < base.flow_share[k] / 1.5
    assert pushed.flow_to_border == pytest.approx(origins.size)
    seized = solve_routes(graph, origins, interdiction(graph, ports="all", added_cost=0.0, seizure_probability=0.25))
    assert seized.flow_to_border == pytest.approx(0.75 * origins.size)
    np.testing.assert_allclose(seized.flow_share, base.flow_share, atol=1e-12)  # same routes, same shares
    shut = solve_routes(graph, origins, interdiction(graph, ports=["2304"], added_cost=np.inf))
    assert shut.port_flow[k] == 0 and shut.crossing_cost_km[k] == np.inf
    s = interdiction(graph, ports=["2304"], seizure_probability=0.5)
    s = interdiction(graph, s, ports=["2304"], added_cost=0.0, seizure_probability=0.5)
    assert s.seizure_probability[k] == pytest.approx(0.75)  # independent chances
    with pytest.raises(ValueError):
        interdiction(graph, ports=["2304"], seizure_probability=1.5)
    with pytest.raises(KeyError):
        interdiction(graph, ports=["0000"])


def test_supply_is_the_seam(graph, origins, base):
    double = solve_routes(graph, origins, supply=np.full(origins.size, 2.0))
    np.testing.assert_allclose(double.flow_share, base.flow_share, atol=1e-9)  # scale-free by default
    assert double.flow_to_border == pytest.approx(2 * origins.size)
    # against a fixed reference, more supply congests more: the biggest port's share falls
    k = int(np.argmax(base.flow_share))
    crowded = solve_routes(graph, origins, supply=np.full(origins.size, 3.0), reference_supply=origins.size)
    assert crowded.flow_share[k] < base.flow_share[k]
    zero = np.ones(origins.size)
    zero[3] = 0.0
    some = solve_routes(graph, origins, supply=zero)
    assert some.origin_port[3] == -1 and some.n_routes.sum() < base.n_routes.sum()


def test_paths_and_lengths(graph, origins, base):
    for k in range(origins.size):
        path = base.path(k)
        assert path[0] == origins[k]
        assert path[-1] == graph.port_twin[base.origin_port[k]]
        steps = np.sort(np.stack([path[:-1], path[1:]], axis=1), axis=1)
        keys = set(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True))
        assert all((a, b) in keys for a, b in steps.tolist())
        km = np.sum(graph.edge_km[[np.flatnonzero((graph.edge_u == a) & (graph.edge_v == b))[0] for a, b in steps]])
        assert base.origin_length_km[k] == pytest.approx(km, rel=1e-12)
    assert 300 < np.nanmin(base.origin_length_km) and np.nanmax(base.origin_length_km) < 2500


def test_input_validation(graph, origins):
    with pytest.raises(ValueError, match="unique"):
        solve_routes(graph, [origins[0], origins[0]])
    with pytest.raises(ValueError, match="supply"):
        solve_routes(graph, origins, supply=-np.ones(origins.size))
    with pytest.raises(ValueError, match="gamma"):
        solve_routes(graph, origins, gamma=5.0)
    with pytest.raises(ValueError, match="method"):
        solve_routes(graph, origins, method="newton")


def test_closing_every_port_stops_all_flow(graph, origins):
    shut = solve_routes(graph, origins, interdiction(graph, ports="all", added_cost=np.inf))
    assert shut.flow_to_border == 0 and shut.flow_share.sum() == 0 and shut.n_routes.sum() == 0
    assert np.all(shut.origin_port == -1) and shut.n_municipalities_on_routes == 0


def test_tables(graph, origins, base):
    from cartelsim.geography.tables import municipality_table, origin_table, port_table

    o = origin_table(graph, base)
    assert len(o) == origins.size and o["code"].tolist() == graph.codes[origins].tolist()
    assert o.loc[o["code"] == "25003", "name"].item() == "Badiraguato"
    assert set(o["port_code"]) <= set(graph.port_codes.tolist())
    assert o["port_split"].between(0, 1).all() and (o["n_steps"] >= 1).all()
    p = port_table(graph, base)
    assert len(p) == 27 and p["flow_share"].sum() == pytest.approx(1.0)
    m = municipality_table(graph, base)
    assert len(m) == 2469 and (m["n_routes"] > 0).sum() == base.n_municipalities_on_routes
    assert m["flow"].max() <= origins.size + 1e-9
