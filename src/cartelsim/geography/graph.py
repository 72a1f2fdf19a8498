"""The route graph: municipalities, land ports and a super-sink (``models/routes-dell-2015.md`` §2.3).

Nodes ``0 .. n_municipalities - 1`` are municipalities (their seats), the next ``n_ports`` nodes are
the land ports and the last node is the super-sink. Edges:

- municipality - municipality, both directions, for every pair sharing a TopoJSON arc; length is the
  haversine distance between the seats, in km;
- twin municipality -> port (access, length 0 km: ports are placed at their twin's seat);
- port -> sink (the crossing edge, where congestion, interdiction and capacity act).

Every port is its own node, so ports sharing a twin municipality (Tijuana, Mexicali, Juárez) keep
separate edges. The graph is stored as columnar edge arrays plus a fixed CSR pattern of the
**reversed** graph (edges pointing away from the sink), so that one Dijkstra from the sink gives every
node's least cost to the border; a solve only rewrites the CSR data array, never sums duplicates.

Examples
--------
>>> import numpy as np
>>> g = make_route_graph(
...     codes=["00001", "00002", "00003"], state_codes=["00", "00", "00"],
...     edge_u=[0, 1], edge_v=[1, 2], edge_km=[10.0, 5.0],
...     port_codes=["9001", "9002"], port_twin=[2, 2], capacity_share=[0.5, 0.5])
>>> g.n_nodes, g.sink, int(g.csr_indices.size)
(6, 5, 8)

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from cartelsim import places
from cartelsim.params.geography import defaults

__all__ = [
    "EARTH_RADIUS_KM",
    "RouteGraph",
    "haversine_km",
    "load_route_graph",
    "make_route_graph",
    "port_capacity_share",
]

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), km

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_km(lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in km between points given in degrees.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        Longitudes and latitudes in degrees (broadcast together).

    Returns
    -------
    numpy.ndarray
        Distances in km on a sphere of radius :data:`EARTH_RADIUS_KM`.

    Examples
    --------
    >>> round(float(haversine_km(0.0, 0.0, 1.0, 0.0)), 3)
    111.195

    """
    lo1, la1, lo2, la2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lon1, lat1, lon2, lat2))
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


def port_capacity_share(
    truck_share: npt.ArrayLike, personal_vehicle_share: npt.ArrayLike, floor_share: float
) -> FloatArray:
    """Crossing capacity of each port, as a share of inbound trucks, with the spec's floor.

    Ports with (almost) no trucks, i.e. a truck share below ``floor_share``, get
    ``max(floor_share, personal_vehicle_share)`` so that their congestion cost stays finite; the
    others keep their truck share. Shares are not renormalised.

    Parameters
    ----------
    truck_share, personal_vehicle_share : array_like
        The ports' shares of 2018 inbound trucks and personal vehicles (BTS).
    floor_share : float
        The floor (``port_capacity_floor_share``, assumption 0.002).

    Returns
    -------
    numpy.ndarray
        Capacity shares, all at least ``floor_share``.

    Examples
    --------
    >>> port_capacity_share([0.3, 0.0, 0.001], [0.1, 0.05, 0.0], 0.002).tolist()
    [0.3, 0.05, 0.002]

    """
    t = np.asarray(truck_share, dtype=np.float64)
    pv = np.asarray(personal_vehicle_share, dtype=np.float64)
    if floor_share <= 0:
        raise ValueError(f"floor_share must be positive (got {floor_share!r})")
    return np.where(t < floor_share, np.maximum(floor_share, pv), t)


@dataclass(frozen=True, eq=False)
class RouteGraph:
    """Municipal route graph with port nodes and a super-sink.

    Build it with :func:`load_route_graph` (bundled data) or :func:`make_route_graph` (any graph).

    Attributes
    ----------
    codes, state_codes : numpy.ndarray of str
        INEGI codes of the municipality nodes (5 and 2 digits).
    lon, lat : numpy.ndarray
        Seat coordinates in degrees (NaN where unknown).
    edge_u, edge_v : numpy.ndarray of int64
        Undirected municipal edges, ``edge_u < edge_v``.
    edge_km : numpy.ndarray
        Their lengths in km.
    port_codes : numpy.ndarray of str
        BTS codes of the port nodes.
    port_twin : numpy.ndarray of int64
        Municipality index of each port's twin.
    capacity_share : numpy.ndarray
        Capacity ``C`` of each port's crossing edge (share of trucks, with the floor).
    csr_indptr, csr_indices : numpy.ndarray
        Fixed sparsity pattern of the reversed graph.
    csr_order : numpy.ndarray of int64
        Directed-edge id stored at each CSR position; directed edges are numbered
        ``[u->v (E), v->u (E), twin->port access (P), port->sink crossing (P)]`` (original orientation).
    csr_position : numpy.ndarray of int64
        The inverse: CSR position of each directed edge id.

    """

    codes: npt.NDArray[np.str_]
    state_codes: npt.NDArray[np.str_]
    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_km: FloatArray
    port_codes: npt.NDArray[np.str_]
    port_twin: IntArray
    capacity_share: FloatArray
    csr_indptr: npt.NDArray[np.int32]
    csr_indices: npt.NDArray[np.int32]
    csr_order: IntArray
    csr_position: IntArray

    @property
    def n_municipalities(self) -> int:
        """Number of municipality nodes."""
        return int(self.codes.size)

    @property
    def n_ports(self) -> int:
        """Number of port nodes."""
        return int(self.port_codes.size)

    @property
    def n_edges(self) -> int:
        """Number of undirected municipal edges."""
        return int(self.edge_u.size)

    @property
    def n_nodes(self) -> int:
        """Municipalities + ports + the sink."""
        return self.n_municipalities + self.n_ports + 1

    @property
    def sink(self) -> int:
        """Index of the super-sink node."""
        return self.n_nodes - 1

    @property
    def port_nodes(self) -> IntArray:
        """Node indices of the ports."""
        return np.arange(self.n_municipalities, self.n_municipalities + self.n_ports, dtype=np.int64)

    def municipality_index(self, codes: Sequence[str] | npt.ArrayLike) -> IntArray:
        """Return node indices of municipalities given by INEGI code.

        Raises
        ------
        KeyError
            If a code is not a municipality of the graph.

        """
        want = np.atleast_1d(np.asarray(codes, dtype=str))
        order = np.argsort(self.codes)
        pos = np.searchsorted(self.codes, want, sorter=order)
        pos = np.minimum(pos, self.codes.size - 1)
        idx = order[pos]
        bad = self.codes[idx] != want
        if bad.any():
            raise KeyError(f"unknown municipality codes: {', '.join(sorted(set(want[bad].tolist())))}")
        return idx.astype(np.int64)

    def port_index(self, codes: Sequence[str] | npt.ArrayLike) -> IntArray:
        """Return port positions (0 .. n_ports - 1) given BTS codes.

        Raises
        ------
        KeyError
            If a code is not a port of the graph.

        """
        want = np.atleast_1d(np.asarray(codes, dtype=str))
        lookup = {c: i for i, c in enumerate(self.port_codes.tolist())}
        missing = sorted({c for c in want.tolist() if c not in lookup})
        if missing:
            raise KeyError(f"unknown port codes: {', '.join(missing)}")
        return np.asarray([lookup[c] for c in want.tolist()], dtype=np.int64)

    def reversed_matrix(self, weights: FloatArray) -> sp.csr_matrix:
        """Return the reversed graph as a CSR matrix holding ``weights``.

        Parameters
        ----------
        weights : numpy.ndarray
            One cost per directed edge, in directed-edge id order (see ``csr_order``); ``inf``
            closes an edge.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``n_nodes x n_nodes``; entry ``(a, b)`` is the cost of moving from ``b`` to ``a`` in the
            original orientation. Explicit zeros are kept: scipy.sparse.csgraph treats them as
            zero-cost edges (the access edges).

        """
        w = np.asarray(weights, dtype=np.float64)
        return sp.csr_matrix((w[self.csr_order], self.csr_indices, self.csr_indptr), shape=(self.n_nodes, self.n_nodes))

    def base_weights(self, access_km: float = 0.0, crossing_km: FloatArray | float = 0.0) -> FloatArray:
        """Return free-flow directed-edge costs: edge lengths, access and crossing costs.

        Parameters
        ----------
        access_km : float, default 0
            Cost of the twin -> port access edges.
        crossing_km : float or numpy.ndarray, default 0
            Cost of each port -> sink crossing edge.

        Returns
        -------
        numpy.ndarray
            ``2 * n_edges + 2 * n_ports`` costs in directed-edge id order.

        """
        return np.concatenate(
            [
                self.edge_km,
                self.edge_km,
                np.full(self.n_ports, float(access_km)),
                np.broadcast_to(np.asarray(crossing_km, dtype=np.float64), (self.n_ports,)),
            ]
        )


def make_route_graph(
    codes: Sequence[str] | npt.ArrayLike,
    state_codes: Sequence[str] | npt.ArrayLike,
    edge_u: npt.ArrayLike,
    edge_v: npt.ArrayLike,
    edge_km: npt.ArrayLike,
    port_codes: Sequence[str] | npt.ArrayLike,
    port_twin: npt.ArrayLike,
    capacity_share: npt.ArrayLike,
    lon: npt.ArrayLike | None = None,
    lat: npt.ArrayLike | None = None,
) -> RouteGraph:
    """Build a route graph from plain arrays.

    Parameters
    ----------
    codes, state_codes : sequence of str
        Municipality codes (unique) and their state codes, one per municipality node.
    edge_u, edge_v : array_like of int
        Undirected municipal edges (node indices); each pair at most once, no self-loops.
    edge_km : array_like of float
        Edge lengths in km (positive, finite).
    port_codes : sequence of str
        Port codes (unique).
    port_twin : array_like of int
        Municipality index each port is joined to.
    capacity_share : array_like of float
        Positive capacity of each port's crossing edge.
    lon, lat : array_like, optional
        Seat coordinates in degrees.

    Returns
    -------
    RouteGraph

    Raises
    ------
    ValueError
        On duplicate codes or edges, self-loops, bad indices, non-positive lengths or capacities.

    """
    codes_a = np.array(codes, dtype=str)
    n = codes_a.size
    states_a = np.array(state_codes, dtype=str)
    u = np.array(edge_u, dtype=np.int64)
    v = np.array(edge_v, dtype=np.int64)
    km = np.array(edge_km, dtype=np.float64)
    pcodes = np.array(port_codes, dtype=str)
    twin = np.array(port_twin, dtype=np.int64)
    cap = np.array(capacity_share, dtype=np.float64)
    p = pcodes.size
    if np.unique(codes_a).size != n or states_a.size != n:
        raise ValueError("municipality codes must be unique, with one state code each")
    if not (u.shape == v.shape == km.shape) or u.ndim != 1:
        raise ValueError("edge_u, edge_v and edge_km must be 1-d arrays of the same length")
    if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError("edge endpoints must be municipality indices")
    if np.any(u == v):
        raise ValueError("self-loops are not allowed")
    if not np.all(np.isfinite(km) & (km > 0)):
        raise ValueError("edge lengths must be positive and finite")
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    if np.unique(lo * n + hi).size != lo.size:
        raise ValueError("duplicate municipal edges")
    if np.unique(pcodes).size != p or twin.shape != (p,) or cap.shape != (p,):
        raise ValueError("port codes must be unique, with one twin and one capacity each")
    if p and (twin.min() < 0 or twin.max() >= n):
        raise ValueError("port twins must be municipality indices")
    if not np.all(np.isfinite(cap) & (cap > 0)):
        raise ValueError("port capacities must be positive and finite")
    n_nodes = n + p + 1
    sink = n_nodes - 1
    port_nodes = np.arange(n, n + p, dtype=np.int64)
    # reversed orientation: an original edge a->b is stored as row b, column a
    rows = np.concatenate([hi, lo, port_nodes, np.full(p, sink, dtype=np.int64)])
    cols = np.concatenate([lo, hi, twin, port_nodes])
    ids = np.arange(rows.size, dtype=np.float64) + 1.0  # +1: no zero entry may vanish here
    m = sp.coo_matrix((ids, (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
    m.sort_indices()
    if m.nnz != rows.size:
        raise ValueError("duplicate directed edges")  # would be summed by COO: refuse instead
    order = (m.data - 1.0).astype(np.int64)
    nan = np.full(n, np.nan)
    graph = RouteGraph(
        codes=codes_a,
        state_codes=states_a,
        lon=nan if lon is None else np.array(lon, dtype=np.float64),
        lat=nan.copy() if lat is None else np.array(lat, dtype=np.float64),
        edge_u=lo,
        edge_v=hi,
        edge_km=km,
        port_codes=pcodes,
        port_twin=twin,
        capacity_share=cap,
        csr_indptr=m.indptr.astype(np.int32),
        csr_indices=m.indices.astype(np.int32),
        csr_order=order,
        csr_position=np.argsort(order).astype(np.int64),
    )
    for arr in vars(graph).values():  # graphs are shared (cached): freeze their arrays
        arr.setflags(write=False)
    return graph


@lru_cache(maxsize=8)
def load_route_graph(capacity_floor_share: float | None = None) -> RouteGraph:
    """Build (once per floor value) the route graph of the bundled data.

    Parameters
    ----------
    capacity_floor_share : float, optional
        Port capacity floor; default the ``port_capacity_floor_share`` parameter (0.002).

    Returns
    -------
    RouteGraph
        2,469 municipalities, 7,112 undirected edges, 27 ports and the sink.

    Examples
    --------
    >>> g = load_route_graph()
    >>> g.n_municipalities, g.n_edges, g.n_ports
    (2469, 7112, 27)

    """
    floor = defaults()["port_capacity_floor_share"] if capacity_floor_share is None else capacity_floor_share
    muni = places.municipalities()
    pairs = places.municipal_adjacency()
    ports = places.ports()
    lon = muni["lon"].to_numpy(dtype=np.float64)
    lat = muni["lat"].to_numpy(dtype=np.float64)
    u, v = pairs[:, 0], pairs[:, 1]
    codes = muni["code"].to_numpy(dtype=str)
    twin = np.searchsorted(codes, ports["twin_code"].to_numpy(dtype=str))
    return make_route_graph(
        codes=codes,
        state_codes=muni["state_code"].to_numpy(dtype=str),
        edge_u=u,
        edge_v=v,
        edge_km=haversine_km(lon[u], lat[u], lon[v], lat[v]),
        port_codes=ports["port_code"].to_numpy(dtype=str),
        port_twin=twin,
        capacity_share=port_capacity_share(
            ports["truck_share"].to_numpy(dtype=np.float64),
            ports["personal_vehicle_share"].to_numpy(dtype=np.float64),
            float(floor),
        ),
        lon=lon,
        lat=lat,
    )
