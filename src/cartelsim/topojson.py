"""A small TopoJSON decoder: arcs, polygon rings and shared-arc adjacency.

Only what cartelsim needs from the TopoJSON specification
(https://github.com/topojson/topojson-specification, version 1.0):

- quantized arcs (``transform`` with ``scale`` and ``translate``) are delta-decoded to absolute
  positions; arcs of an unquantized topology are used as they are;
- ``Polygon`` and ``MultiPolygon`` geometries are stitched from their arcs into rings of
  ``(lon, lat)`` points (arc index ``~i``, i.e. ``-i - 1``, means arc ``i`` reversed);
- two features are adjacent when they reference the same arc (in either direction), which is how
  the municipal route graph gets its edges (``models/routes-dell-2015.md`` §2.3).

Other geometry types (points, lines) are not decoded: the bundled maps hold polygons only.

Examples
--------
>>> topo = {
...     "type": "Topology",
...     "transform": {"scale": [1.0, 1.0], "translate": [0.0, 0.0]},
...     "arcs": [[[1, 1], [-1, 0], [0, -1], [1, 0]], [[1, 0], [0, 1]], [[1, 0], [1, 0], [0, 1], [-1, 0]]],
...     "objects": {"cells": {"type": "GeometryCollection", "geometries": [
...         {"type": "Polygon", "arcs": [[0, 1]], "properties": {"id": "a"}},
...         {"type": "Polygon", "arcs": [[2, -2]], "properties": {"id": "b"}},
...     ]}},
... }
>>> ids, pairs = shared_arc_adjacency(topo)
>>> ids.tolist(), pairs.tolist()
(['a', 'b'], [[0, 1]])
>>> decode_features(topo)[0].polygons[0][0].tolist()
[[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]

"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Feature",
    "arc_indices",
    "decode_arcs",
    "decode_features",
    "load_topology",
    "shared_arc_adjacency",
]

Topology = Mapping[str, Any]


@dataclass(frozen=True)
class Feature:
    """One decoded polygon feature.

    Attributes
    ----------
    id : str
        The feature's identifier (the ``id`` property, or the geometry's own ``id``).
    type : str
        ``"Polygon"`` or ``"MultiPolygon"``.
    polygons : list of list of numpy.ndarray
        One entry per polygon (a ``Polygon`` has one); each polygon is a list of rings, the exterior
        ring first and holes after it; each ring is a float64 array of shape ``(k, 2)`` holding
        ``(lon, lat)`` in degrees, closed (its first point repeated at the end).
    properties : dict
        The geometry's properties, unchanged.

    """

    id: str
    type: str
    polygons: list[list[npt.NDArray[np.float64]]]
    properties: dict[str, Any]


def load_topology(source: str | Path | bytes) -> dict[str, Any]:
    """Parse a TopoJSON document.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A path to a ``.topojson`` file, or the document's text or bytes (a string that starts
        with ``{`` is read as text).

    Returns
    -------
    dict
        The parsed topology.

    Raises
    ------
    ValueError
        If the document is not a TopoJSON ``Topology``.

    """
    if isinstance(source, bytes):
        topo = json.loads(source.decode("utf-8"))
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        topo = json.loads(source)
    else:
        topo = json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(topo, dict) or topo.get("type") != "Topology":
        raise ValueError("not a TopoJSON Topology (expected an object with type = 'Topology')")
    return topo


def decode_arcs(topology: Topology) -> list[npt.NDArray[np.float64]]:
    """Decode every arc to absolute ``(lon, lat)`` positions.

    Parameters
    ----------
    topology : mapping
        A parsed TopoJSON topology.

    Returns
    -------
    list of numpy.ndarray
        One float64 array of shape ``(k, 2)`` per arc. For a quantized topology, positions are
        the cumulative sums of the integer deltas, times ``scale``, plus ``translate``.

    """
    transform = topology.get("transform")
    arcs = topology["arcs"]
    out: list[npt.NDArray[np.float64]] = []
    if transform is None:
        for arc in arcs:
            out.append(np.asarray(arc, dtype=np.float64)[:, :2].reshape(-1, 2))
        return out
    scale = np.asarray(transform["scale"], dtype=np.float64)
    translate = np.asarray(transform["translate"], dtype=np.float64)
    for arc in arcs:
        # integer deltas: cumulative sums are exact in int64, then one scaling step
        q = np.asarray(arc, dtype=np.int64)[:, :2].reshape(-1, 2)
        out.append(np.cumsum(q, axis=0) * scale + translate)
    return out


def arc_indices(arc_refs: Sequence[Any]) -> list[int]:
    """Flatten a geometry's nested arc references to plain arc indices.

    Parameters
    ----------
    arc_refs : sequence
        The ``arcs`` member of a Polygon (list of rings) or MultiPolygon (list of polygons).

    Returns
    -------
    list of int
        Every referenced arc, with reversed references ``~i`` mapped back to ``i``.

    """
    out: list[int] = []
    stack: list[Any] = [arc_refs]
    while stack:
        item = stack.pop()
        if isinstance(item, int):
            out.append(item if item >= 0 else ~item)
        else:
            stack.extend(item)
    return out


def _ring(arcs: list[npt.NDArray[np.float64]], refs: Sequence[int]) -> npt.NDArray[np.float64]:
    parts: list[npt.NDArray[np.float64]] = []
    for k, ref in enumerate(refs):
        pts = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
        # consecutive arcs share their junction point: keep it once
        parts.append(pts if k == 0 else pts[1:])
    return np.concatenate(parts, axis=0) if parts else np.empty((0, 2), dtype=np.float64)


def _object(topology: Topology, object_name: str | None) -> Mapping[str, Any]:
    objects = topology["objects"]
    if object_name is None:
        if len(objects) != 1:
            raise ValueError(f"topology has objects {sorted(objects)}: name the one to decode")
        object_name = next(iter(objects))
    if object_name not in objects:
        raise KeyError(f"no object {object_name!r} in topology (has {sorted(objects)})")
    obj: Mapping[str, Any] = objects[object_name]
    return obj


def _geometries(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if obj.get("type") == "GeometryCollection":
        return list(obj.get("geometries", []))
    return [obj]


def _feature_id(geom: Mapping[str, Any], id_property: str) -> str:
    props = geom.get("properties") or {}
    if id_property in props:
        return str(props[id_property])
    if "id" in geom:
        return str(geom["id"])
    raise KeyError(f"geometry without property {id_property!r} or id")


def decode_features(topology: Topology, object_name: str | None = None, id_property: str = "id") -> list[Feature]:
    """Decode the polygon features of one object into rings of ``(lon, lat)`` points.

    Parameters
    ----------
    topology : mapping
        A parsed TopoJSON topology.
    object_name : str, optional
        The object to decode; may be omitted when the topology has exactly one.
    id_property : str, default "id"
        The property that identifies a feature (falls back to the geometry's ``id``).

    Returns
    -------
    list of Feature
        Polygon and MultiPolygon features, in file order. Geometries of other types, and null
        geometries, are skipped.

    """
    arcs = decode_arcs(topology)
    features: list[Feature] = []
    for geom in _geometries(_object(topology, object_name)):
        gtype = geom.get("type")
        if gtype == "Polygon":
            polys_refs = [geom["arcs"]]
        elif gtype == "MultiPolygon":
            polys_refs = geom["arcs"]
        else:
            continue
        polygons = [[_ring(arcs, ring) for ring in poly] for poly in polys_refs]
        features.append(
            Feature(
                id=_feature_id(geom, id_property),
                type=str(gtype),
                polygons=polygons,
                properties=dict(geom.get("properties") or {}),
            )
        )
    return features


def shared_arc_adjacency(
    topology: Topology, object_name: str | None = None, id_property: str = "id"
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Pairs of features that share at least one arc.

    Parameters
    ----------
    topology : mapping
        A parsed TopoJSON topology.
    object_name : str, optional
        The object to use; may be omitted when the topology has exactly one.
    id_property : str, default "id"
        The property that identifies a feature.

    Returns
    -------
    ids : numpy.ndarray of str
        Feature ids in file order (polygon features only).
    pairs : numpy.ndarray of int64, shape (k, 2)
        Unique undirected pairs ``(i, j)`` with ``i < j`` (indices into ``ids``), sorted
        lexicographically. Features touching only at a point share no arc and are not adjacent.

    """
    ids: list[str] = []
    arc_owner: list[npt.NDArray[np.int64]] = []
    arc_ref: list[npt.NDArray[np.int64]] = []
    for geom in _geometries(_object(topology, object_name)):
        if geom.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        refs = np.unique(np.asarray(arc_indices(geom["arcs"]), dtype=np.int64))
        arc_ref.append(refs)
        arc_owner.append(np.full(refs.size, len(ids), dtype=np.int64))
        ids.append(_feature_id(geom, id_property))
    id_arr = np.asarray(ids, dtype=str)
    if not ids:
        return id_arr, np.empty((0, 2), dtype=np.int64)
    arc = np.concatenate(arc_ref)
    owner = np.concatenate(arc_owner)
    order = np.lexsort((owner, arc))
    arc, owner = arc[order], owner[order]
    # owners of one arc are contiguous after sorting: pair each owner with the next ones
    pairs: list[npt.NDArray[np.int64]] = []
    shift = 1
    while shift < arc.size:
        same = arc[shift:] == arc[:-shift]
        if not same.any():
            break
        pairs.append(np.stack([owner[:-shift][same], owner[shift:][same]], axis=1))
        shift += 1
    if not pairs:
        return id_arr, np.empty((0, 2), dtype=np.int64)
    p = np.concatenate(pairs)
    p = p[p[:, 0] != p[:, 1]]
    p = np.sort(p, axis=1)
    p = np.unique(p, axis=0)
    return id_arr, p.astype(np.int64)
