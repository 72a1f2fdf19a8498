"""TopoJSON decoding: quantized arcs, rings, shared-arc adjacency; checked on toy and bundled maps."""

import itertools
import json

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from cartelsim import places
from cartelsim.topojson import (
    arc_indices,
    decode_arcs,
    decode_features,
    load_topology,
    shared_arc_adjacency,
)


def two_squares(transform: bool = True) -> dict:
    """Unit squares a = [0,1]x[0,1] and b = [1,2]x[0,1] sharing the arc x = 1, plus c touching b at a corner."""
    arcs_abs = [
        [[1, 1], [0, 1], [0, 0], [1, 0]],  # 0: a's outer part
        [[1, 0], [1, 1]],  # 1: shared by a and b
        [[1, 0], [2, 0], [2, 1], [1, 1]],  # 2: b's outer part
        [[2, 1], [3, 1], [3, 2], [2, 2], [2, 1]],  # 3: c, touches b only at (2, 1)
    ]
    if transform:
        arcs = [[a[0]] + [[q[0] - p[0], q[1] - p[1]] for p, q in itertools.pairwise(a)] for a in arcs_abs]
    else:
        arcs = arcs_abs
    topo = {
        "type": "Topology",
        "arcs": arcs,
        "objects": {
            "cells": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"id": "a"}},
                    {"type": "Polygon", "arcs": [[2, ~1]], "properties": {"id": "b"}},
                    {"type": "MultiPolygon", "arcs": [[[3]]], "properties": {"id": "c"}},
                    {"type": "Point", "coordinates": [0, 0], "properties": {"id": "p"}},
                ],
            }
        },
    }
    if transform:
        topo["transform"] = {"scale": [0.5, 0.25], "translate": [-100.0, 20.0]}
    return topo


def test_quantized_arcs_are_delta_decoded_and_scaled():
    arcs = decode_arcs(two_squares())
    # arc 2 goes (1,0) (2,0) (2,1) (1,1) in quantized units
    assert arcs[2].dtype == np.float64
    np.testing.assert_allclose(arcs[2], [[-99.5, 20.0], [-99.0, 20.0], [-99.0, 20.25], [-99.5, 20.25]])


def test_unquantized_arcs_are_used_as_given():
    arcs = decode_arcs(two_squares(transform=False))
    np.testing.assert_array_equal(arcs[2], [[1, 0], [2, 0], [2, 1], [1, 1]])


def test_rings_are_stitched_closed_and_reversed_arcs_flip():
    feats = decode_features(two_squares(transform=False))
    assert [f.id for f in feats] == ["a", "b", "c"]  # the point is skipped
    a, b, c = feats
    np.testing.assert_array_equal(a.polygons[0][0], [[1, 1], [0, 1], [0, 0], [1, 0], [1, 1]])
    # b = arc 2 then arc 1 reversed: (1,1) -> (1,0); the junction point appears once
    np.testing.assert_array_equal(b.polygons[0][0], [[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]])
    assert c.type == "MultiPolygon" and len(c.polygons) == 1
    for f in feats:
        ring = f.polygons[0][0]
        np.testing.assert_array_equal(ring[0], ring[-1])


def test_shared_arc_adjacency_ignores_point_contacts():
    ids, pairs = shared_arc_adjacency(two_squares())
    assert ids.tolist() == ["a", "b", "c"]
    assert pairs.tolist() == [[0, 1]]  # b and c touch at a corner only: no shared arc


def test_arc_indices_unreverse():
    assert sorted(arc_indices([[[0, ~3]], [[~0, 5]]])) == [0, 0, 3, 5]


def test_load_topology_rejects_other_documents(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"type": "FeatureCollection"}), encoding="utf-8")
    with pytest.raises(ValueError, match="Topology"):
        load_topology(p)
    assert load_topology(json.dumps(two_squares()))["type"] == "Topology"
    assert load_topology(json.dumps(two_squares()).encode())["type"] == "Topology"


def test_object_must_be_named_when_several():
    topo = two_squares()
    topo["objects"]["more"] = topo["objects"]["cells"]
    with pytest.raises(ValueError, match="name the one"):
        shared_arc_adjacency(topo)
    with pytest.raises(KeyError):
        decode_features(topo, "missing")
    assert len(decode_features(topo, "more")) == 3


def test_bundled_municipal_polygons():
    topo = places.municipal_topology()
    feats = decode_features(topo, "municipios")
    muni = places.municipalities()
    assert len(feats) == 2469
    assert sorted(f.id for f in feats) == muni["code"].tolist()
    assert sum(f.type == "MultiPolygon" for f in feats) == 54  # SOURCE.md: 2,415 Polygon + 54 MultiPolygon
    xmin, ymin, xmax, ymax = topo["bbox"]
    allpts = np.concatenate([r for f in feats for poly in f.polygons for r in poly])
    tol = 1e-9
    assert allpts[:, 0].min() >= xmin - tol and allpts[:, 0].max() <= xmax + tol
    assert allpts[:, 1].min() >= ymin - tol and allpts[:, 1].max() <= ymax + tol
    # seats fall inside their own polygon (SOURCE.md: 2,466 of 2,469 with a 0.01 degree buffer)
    seat = muni.set_index("code")[["lon", "lat"]]
    inside = 0
    for f in feats:
        pt = seat.loc[f.id].to_numpy()
        # matplotlib's radius buffers one orientation only: try both (0.01 degree, about 1 km)
        inside += any(
            MplPath(ring).contains_point(pt, radius=0.01) for poly in f.polygons for ring in (poly[0], poly[0][::-1])
        )
    assert inside >= 2460


def test_bundled_adjacency_counts():
    ids, pairs = shared_arc_adjacency(places.municipal_topology())
    assert ids.size == 2469 and pairs.shape == (7112, 2)
    assert np.all(pairs[:, 0] < pairs[:, 1])
    sids, spairs = shared_arc_adjacency(places.state_topology())
    assert sids.size == 32 and len(spairs) > 0
