"""Rebuild the packaged ecosystem datasets from the raw copies in data-raw/prieto-curiel-2023/.

Run from the repository root: ``python data-raw/build_ecosystem_data.py``.
Writes src/cartelsim/data/bacrim2020/ and src/cartelsim/data/national_trends/ (CSV files only;
datapackage.json and README.md there are written by hand and checked by the tests).
Only ids, neutral labels, kinds, listed states and edge weights are kept: no person's name is copied.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data-raw" / "prieto-curiel-2023"
OUT = ROOT / "src" / "cartelsim" / "data"


def read(name: str) -> list[dict[str, str]]:
    with open(RAW / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    labels = {r["Node"]: r for r in read("GROUP_LABELS.csv")}
    nodes = read("BACRIM2020_Nodes.csv")
    # file order matters: the model's stable sort keeps ties in this order
    write(
        OUT / "bacrim2020" / "nodes.csv",
        ["node", "label", "kind", "listed_state"],
        [[n["Node"], labels[n["Node"]]["label"], labels[n["Node"]]["kind"], n["State"]] for n in nodes],
    )
    for name, out in (("BACRIM2020_Rivals.csv", "rivals.csv"), ("BACRIM2020_Alliances.csv", "alliances.csv")):
        write(
            OUT / "bacrim2020" / out,
            ["node", "other", "weight"],
            [[r["Node"], r["RNode"], int(r["weight"])] for r in read(name)],
        )
    write(
        OUT / "national_trends" / "trends.csv",
        ["year", "homicides", "missing_persons", "incarcerations"],
        [
            [int(r["YEAR"]), int(r["homicide"]), int(r["missings"]), int(r["arrests"])]
            for r in read("Trends2012_2021.csv")
        ],
    )


if __name__ == "__main__":
    main()
