"""Route graph construction: nodes, edges, ports kept apart, CSR bookkeeping, validation."""

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components, dijkstra

from cartelsim import places
from cartelsim.geography.graph import (
    haversine_km,
    load_route_graph,
    make_route_graph,
    port_capacity_share,
)


@pytest.fixture(scope="module")
def graph():
    return load_route_graph()


def test_counts_and_connectivity(graph):
    assert graph.n_municipalities == 2469 and graph.n_edges == 7112 and graph.n_ports == 27
    assert graph.n_nodes == 2469 + 27 + 1 and graph.sink == 2496
    m = graph.reversed_matrix(graph.base_weights())
    assert m.nnz == 2 * 7112 + 2 * 27  # nothing merged, zero-length access edges kept
    n, _ = connected_components(m, directed=True, connection="weak")
    assert n == 1
    # every node reaches the border: one Dijkstra from the sink of the reversed graph
    dist = dijkstra(m, directed=True, indices=graph.sink)
    assert np.isfinite(dist).all()


def test_edge_lengths_are_haversine_between_seats(graph):
    lon, lat = graph.lon, graph.lat
    np.testing.assert_allclose(
        graph.edge_km, haversine_km(lon[graph.edge_u], lat[graph.edge_u], lon[graph.edge_v], lat[graph.edge_v])
    )
    assert graph.edge_km.min() > 0.1 and graph.edge_km.max() < 600
    assert graph.edge_km.mean() == pytest.approx(26.06, abs=0.01)


def test_ports_sharing_a_municipality_keep_their_own_edges(graph):
    m = graph.reversed_matrix(graph.base_weights(crossing_km=np.arange(27.0) + 1.0)).tocsr()
    tijuana = graph.municipality_index(["02004"])[0]
    ports = graph.port_index(["2504", "2506", "2582"])
    for p in ports:
        row = m.getrow(graph.port_nodes[p])
        assert row.indices.tolist() == [tijuana]  # reversed: port -> twin only
        assert m[graph.sink, graph.port_nodes[p]] == p + 1.0  # its own crossing cost
    assert np.array_equal(np.sort(m.getrow(graph.sink).indices), graph.port_nodes)


def test_csr_order_and_position_are_inverse(graph):
    k = graph.csr_order.size
    np.testing.assert_array_equal(graph.csr_order[graph.csr_position], np.arange(k))
    rng = np.random.default_rng(3)
    w = rng.uniform(1, 2, k)
    m = graph.reversed_matrix(w)
    e = 17  # undirected edge 17: u -> v is directed id 17, stored reversed at (v, u)
    u, v = graph.edge_u[e], graph.edge_v[e]
    assert m[v, u] == w[e] and m[u, v] == w[graph.n_edges + e]


def test_lookup_errors(graph):
    with pytest.raises(KeyError, match="99999"):
        graph.municipality_index(["01001", "99999"])
    with pytest.raises(KeyError, match="1234"):
        graph.port_index(["1234"])
    np.testing.assert_array_equal(graph.municipality_index(["01001", "32058"]), [0, 2468])


def test_haversine_known_values():
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=1e-3)
    assert haversine_km(-99.13, 19.43, -99.13, 19.43) == 0
    # Tijuana to Matamoros seats: about 2,000 km along the border
    m = places.municipalities().set_index("code")
    t, mt = m.loc["02004"], m.loc["28022"]
    assert haversine_km(t.lon, t.lat, mt.lon, mt.lat) == pytest.approx(2000, rel=0.05)


def test_capacity_floor():
    cap = port_capacity_share([0.3, 0.0, 0.001, 0.0015], [0.1, 0.05, 0.0, 0.01], 0.002)
    np.testing.assert_allclose(cap, [0.3, 0.05, 0.002, 0.01])
    with pytest.raises(ValueError):
        port_capacity_share([0.1], [0.1], 0.0)
    g = load_route_graph(0.01)
    assert g.capacity_share.min() >= 0.01 - 1e-12
    assert load_route_graph(0.01) is g  # cached per floor


def small_args(**over):
    args = {
        "codes": ["a", "b", "c"],
        "state_codes": ["s", "s", "t"],
        "edge_u": [0, 1],
        "edge_v": [1, 2],
        "edge_km": [1.0, 2.0],
        "port_codes": ["p1", "p2"],
        "port_twin": [2, 2],
        "capacity_share": [0.5, 0.5],
    }
    args.update(over)
    return args


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"edge_u": [1, 2], "edge_v": [2, 1]}, "duplicate"),  # (1, 2) given twice, once reversed
        ({"edge_u": [0, 1], "edge_v": [0, 2]}, "self-loops"),
        ({"edge_km": [1.0, 0.0]}, "positive"),
        ({"edge_km": [1.0, np.inf]}, "positive"),
        ({"port_codes": ["p1", "p1"]}, "unique"),
        ({"capacity_share": [0.5, 0.0]}, "capacities"),
        ({"port_twin": [2, 3]}, "twins"),
        ({"edge_v": [1, 5]}, "endpoints"),
        ({"codes": ["a", "a", "c"]}, "unique"),
    ],
)
def test_make_route_graph_validates(over, match):
    with pytest.raises(ValueError, match=match):
        make_route_graph(**small_args(**over))


def test_small_graph_costs():
    g = make_route_graph(**small_args())
    w = g.base_weights(crossing_km=np.array([5.0, 3.0]))
    dist = dijkstra(g.reversed_matrix(w), directed=True, indices=g.sink)
    np.testing.assert_allclose(dist[:3], [6.0, 5.0, 3.0])  # via the cheaper port p2
