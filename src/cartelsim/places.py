"""Loaders for the bundled geography datasets (read from the installed package, cached).

Datasets (each in ``cartelsim/data/<name>/`` with a ``datapackage.json`` and a README; rebuilt by
``data-raw/build_geography.py``):

- ``mx_municipalities``: the 2,469 municipalities of 2020, keyed by 5-digit INEGI code;
- ``mx_states``: the 32 states, keyed by 2-digit code;
- ``mx_polygons``: TopoJSON polygons of municipalities and states;
- ``us_mx_ports``: the 27 US-Mexico land ports, their Mexican twin municipalities and 2018 traffic;
- ``producing_regions``: default trafficking origins (an assumption, a public source per entry).

INEGI and BTS codes are strings with their leading zeros. Every loader caches the parsed file once
per process and returns a fresh copy, so callers may modify what they get. Nothing here touches the
network.

Examples
--------
>>> from cartelsim import places
>>> muni = places.municipalities()
>>> len(muni), muni.loc[muni["code"] == "08037", "name"].item()
(2469, 'Juárez')
>>> places.municipal_adjacency().shape
(7112, 2)

"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartelsim.topojson import shared_arc_adjacency

__all__ = [
    "GEOGRAPHY_DATASETS",
    "municipal_adjacency",
    "municipal_topology",
    "municipalities",
    "ports",
    "producing_regions",
    "state_topology",
    "states",
]

GEOGRAPHY_DATASETS: tuple[str, ...] = (
    "mx_municipalities",
    "mx_states",
    "mx_polygons",
    "us_mx_ports",
    "producing_regions",
)


def _read_text(dataset: str, filename: str) -> str:
    return (resources.files("cartelsim") / "data" / dataset / filename).read_text(encoding="utf-8")


def _read_csv(dataset: str, filename: str, str_columns: tuple[str, ...]) -> pd.DataFrame:
    with (resources.files("cartelsim") / "data" / dataset / filename).open("rb") as fh:
        df = pd.read_csv(fh, dtype=dict.fromkeys(str_columns, str), keep_default_na=False, encoding="utf-8")
    return df


@lru_cache(maxsize=1)
def _municipalities() -> pd.DataFrame:
    return _read_csv(
        "mx_municipalities",
        "municipalities.csv",
        ("code", "state_code", "municipality_code", "name", "state_name", "state_abbr"),
    )


def municipalities() -> pd.DataFrame:
    """Return the 2,469 municipalities, sorted by INEGI code.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (5-digit INEGI code, str), ``state_code`` (2-digit, str),
        ``municipality_code`` (3-digit, str), ``name``, ``state_name``, ``state_abbr``, ``lon`` and
        ``lat`` (municipal seat, degrees WGS84, float64), ``pop_2020`` (persons, int64). Row ``i`` is
        node ``i`` of the route graph.

    """
    return _municipalities().copy()


@lru_cache(maxsize=1)
def _states() -> pd.DataFrame:
    return _read_csv("mx_states", "states.csv", ("state_code", "name", "abbr"))


def states() -> pd.DataFrame:
    """Return the 32 states, sorted by code.

    Returns
    -------
    pandas.DataFrame
        Columns ``state_code`` (2-digit, str), ``name``, ``abbr``, ``pop_2020`` (persons, int64).

    """
    return _states().copy()


@lru_cache(maxsize=1)
def _ports() -> pd.DataFrame:
    return _read_csv(
        "us_mx_ports",
        "ports.csv",
        ("port_code", "port_name", "us_state", "twin_code", "twin_name", "twin_state_code"),
    )


def ports() -> pd.DataFrame:
    """Return the 27 US-Mexico land ports, sorted by BTS code.

    Returns
    -------
    pandas.DataFrame
        Columns ``port_code`` (4-digit BTS code, str), ``port_name``, ``us_state``, ``twin_code``
        (INEGI code of the Mexican twin municipality), ``twin_name``, ``twin_state_code``, ``lon``,
        ``lat`` (the twin's seat, degrees), ``trucks_2018``, ``personal_vehicles_2018``,
        ``pedestrians_2018`` (inbound counts, calendar 2018), ``truck_share``,
        ``personal_vehicle_share`` (shares of the 27 ports' totals) and ``capacity_share`` (the
        route model's capacity with the default floor; see
        :func:`cartelsim.geography.graph.port_capacity_share`).

    """
    return _ports().copy()


@lru_cache(maxsize=1)
def _producing_regions() -> pd.DataFrame:
    return _read_csv(
        "producing_regions",
        "producing_regions.csv",
        ("code", "name", "state_name", "region", "product", "evidence", "source", "source_url"),
    )


def producing_regions() -> pd.DataFrame:
    """Return the default trafficking origins (an assumption; a public source per row).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (INEGI code), ``name``, ``state_name``, ``region``, ``product``,
        ``evidence`` (whether the source names the municipality or only its region), ``source`` and
        ``source_url``.

    """
    return _producing_regions().copy()


@lru_cache(maxsize=1)
def _municipal_topology_text() -> str:
    return _read_text("mx_polygons", "mxmunicipio.topojson")


@lru_cache(maxsize=1)
def _state_topology_text() -> str:
    return _read_text("mx_polygons", "mxstate.topojson")


def municipal_topology() -> dict[str, Any]:
    """Return the municipal TopoJSON topology (object ``municipios``, property ``id``).

    Returns
    -------
    dict
        A freshly parsed topology (2,469 Polygon and MultiPolygon geometries).

    """
    topo: dict[str, Any] = json.loads(_municipal_topology_text())
    return topo


def state_topology() -> dict[str, Any]:
    """Return the state TopoJSON topology (object ``state``, property ``id``).

    Returns
    -------
    dict
        A freshly parsed topology (32 geometries).

    """
    topo: dict[str, Any] = json.loads(_state_topology_text())
    return topo


@lru_cache(maxsize=1)
def _municipal_adjacency() -> npt.NDArray[np.int64]:
    ids, pairs = shared_arc_adjacency(municipal_topology(), "municipios")
    codes = _municipalities()["code"].to_numpy(dtype=str)
    order = np.argsort(codes)
    pos = order[np.searchsorted(codes, ids, sorter=order)]
    if not np.array_equal(codes[pos], ids):
        raise ValueError("polygon ids and municipality codes differ")
    out = np.sort(pos[pairs], axis=1)
    out = out[np.lexsort((out[:, 1], out[:, 0]))]
    out.setflags(write=False)
    return out


def municipal_adjacency() -> npt.NDArray[np.int64]:
    """Return the pairs of municipalities that share a border arc.

    Returns
    -------
    numpy.ndarray of int64, shape (7112, 2)
        Undirected pairs ``(i, j)``, ``i < j``, of row indices into :func:`municipalities`, sorted.

    """
    return _municipal_adjacency().copy()
