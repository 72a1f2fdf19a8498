"""One parametrised test loads every bundled dataset against its datapackage.json."""

import pandas as pd
import pytest

from cartelsim.data import data_path, datapackage, dataset_names

TYPES = {"string": "object", "integer": "int64", "number": "float64"}


def test_expected_datasets_present():
    assert {"bacrim2020", "national_trends"} <= set(dataset_names())


@pytest.mark.parametrize("name", dataset_names())
def test_dataset_loads_as_declared(name):
    pkg = datapackage(name)
    assert pkg["name"] == name and pkg["title"] and pkg["licenses"] and pkg["sources"]
    for src in pkg["sources"]:
        assert src.get("title") and src.get("path")
    assert data_path(name, "README.md").read_text(encoding="utf-8").strip()
    for res in pkg["resources"]:
        path = data_path(name, res["path"])
        fields = res.get("schema", {}).get("fields")
        if res.get("format") == "csv" and fields:
            df = pd.read_csv(
                path, dtype={f["name"]: str for f in fields if f["type"] == "string"}, keep_default_na=False
            )
            assert list(df.columns) == [f["name"] for f in fields]
            assert len(df) > 0
            for f in fields:
                if f["type"] in ("integer", "number"):
                    assert pd.api.types.is_numeric_dtype(df[f["name"]]), (name, f["name"])


def test_bacrim_network_consistent():
    nodes = pd.read_csv(data_path("bacrim2020", "nodes.csv"))
    assert len(nodes) == 150 and nodes["node"].is_unique
    for f in ("rivals.csv", "alliances.csv"):
        e = pd.read_csv(data_path("bacrim2020", f))
        assert set(e["node"]) | set(e["other"]) <= set(nodes["node"])
    trends = pd.read_csv(data_path("national_trends", "trends.csv"))
    assert trends["year"].tolist() == list(range(2012, 2022))
    assert trends.loc[trends["year"] == 2012, "homicides"].item() == 25967


# labels the source gave after a person's alias, a family nickname or a leader's initials (DESIGN: no names)
OLD_LABELS = {
    "N10010": "Tequileros",
    "N10084": "Ardillos",
    "N10122": "Rusos",
    "N10127": "Talibanes",
    "N10129": "Tequileros",
    "N10133": "Viagras",
    "N10138": "MZ",
}


def test_alias_labels_replaced_by_neutral_ones():
    nodes = pd.read_csv(data_path("bacrim2020", "nodes.csv"), dtype=str, keep_default_na=False).set_index("node")
    for node, old in OLD_LABELS.items():
        label = nodes.loc[node, "label"]
        assert old.lower() not in label.lower(), (node, label)
        assert label.startswith(f"Group {node[1:]} ("), (node, label)
    assert nodes["label"].str.match(r"^Group \d{5} \(").sum() == 60
