"""Bundled geography datasets: counts, codes, shares, provenance."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cartelsim import places
from cartelsim.data import data_path, datapackage

MEXICO_POP_2020 = 126_014_024  # INEGI, Censo de Poblacion y Vivienda 2020


def test_municipalities():
    m = places.municipalities()
    assert len(m) == 2469 and m["code"].is_unique
    assert m["code"].map(len).eq(5).all() and m["code"].str.isdigit().all()
    assert m["state_code"].map(len).eq(2).all()
    assert (m["code"] == m["state_code"] + m["municipality_code"]).all()
    assert m["code"].tolist() == sorted(m["code"])
    assert m.loc[0, "code"] == "01001"  # leading zeros kept
    assert m.loc[m["code"] == "08037", "name"].item() == "Juárez"
    assert m.loc[m["code"] == "28027", "name"].item() == "Nuevo Laredo"
    assert m["pop_2020"].sum() == MEXICO_POP_2020
    assert m["lon"].between(-118.5, -86.5).all() and m["lat"].between(14.4, 32.8).all()


def test_states():
    s = places.states()
    assert len(s) == 32 and s["state_code"].tolist() == [f"{i:02d}" for i in range(1, 33)]
    assert s["pop_2020"].sum() == MEXICO_POP_2020
    m = places.municipalities()
    assert set(m["state_code"]) == set(s["state_code"])


def test_ports():
    p = places.ports()
    m = places.municipalities()
    assert len(p) == 27 and p["port_code"].is_unique and p["port_code"].map(len).eq(4).all()
    assert set(p["twin_code"]) <= set(m["code"])
    assert p["twin_code"].nunique() == 22  # Tijuana and Mexicali have 3 ports, Juárez 2
    assert p["truck_share"].sum() == pytest.approx(1.0, abs=1e-5)
    assert p["personal_vehicle_share"].sum() == pytest.approx(1.0, abs=1e-5)
    share = p.set_index("port_code")
    # the spec's table (models/routes-dell-2015.md §2.4), to its printed precision
    for code, value in {"2304": 0.367, "2506": 0.153, "2402": 0.128, "2305": 0.103, "2604": 0.053}.items():
        assert share.loc[code, "truck_share"] == pytest.approx(value, abs=6e-4), code
    assert share.loc["2304", "twin_code"] == "28027"
    assert share.loc["2304", "trucks_2018"] == 2_313_967
    assert (p["capacity_share"] >= 0.002 - 1e-9).all()
    low = p["truck_share"] < 0.002
    np.testing.assert_allclose(
        p.loc[low, "capacity_share"], np.maximum(0.002, p.loc[low, "personal_vehicle_share"]), atol=1e-6
    )
    np.testing.assert_allclose(p.loc[~low, "capacity_share"], p.loc[~low, "truck_share"], atol=1e-6)


def test_producing_regions_have_sources():
    r = places.producing_regions()
    m = places.municipalities().set_index("code")
    assert len(r) == 16 and r["code"].is_unique and set(r["code"]) <= set(m.index)
    assert (m.loc[r["code"], "name"].to_numpy() == r["name"].to_numpy()).all()
    assert r["source"].str.len().gt(20).all() and r["source_url"].str.startswith("http").all()
    assert set(r["evidence"]) == {"municipality named in source", "region named in source"}
    assert {"25003", "12054", "06007", "16052", "25006"} <= set(r["code"])


def test_adjacency_graph_connected():
    a = places.municipal_adjacency()
    assert a.shape == (7112, 2) and np.all(a[:, 0] < a[:, 1])
    assert np.unique(a, axis=0).shape[0] == 7112
    g = sp.coo_matrix((np.ones(len(a)), (a[:, 0], a[:, 1])), shape=(2469, 2469))
    n, _ = connected_components(g, directed=False)
    assert n == 1
    deg = np.bincount(a.ravel(), minlength=2469)
    assert deg.min() >= 1 and deg.mean() == pytest.approx(5.76, abs=0.01)  # SOURCE.md: mean degree 5.8


def test_loaders_return_copies():
    m = places.municipalities()
    m.loc[0, "name"] = "changed"
    assert places.municipalities().loc[0, "name"] == "Aguascalientes"
    a = places.municipal_adjacency()
    a[0, 0] = -1
    assert places.municipal_adjacency()[0, 0] >= 0


@pytest.mark.parametrize("name", places.GEOGRAPHY_DATASETS)
def test_datapackages(name):
    pkg = datapackage(name)
    assert pkg["name"] == name and pkg["licenses"] and pkg["sources"]
    for src in pkg["sources"]:
        assert src["path"] and src["accessed"] == "2026-11-26"
    assert data_path(name, "README.md").read_text(encoding="utf-8").strip()
    for res in pkg["resources"]:
        path = data_path(name, res["path"])
        fields = res["schema"]["fields"]
        assert all(f.get("description") for f in fields)
        if res["format"] == "csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            assert list(df.columns) == [f["name"] for f in fields]
            for f in fields:
                if f["type"] == "number":
                    assert "unit" in f, (name, f["name"])
                    pd.to_numeric(df[f["name"]])
    if name == "producing_regions":
        assert pkg["status"] == "assumption"
