"""Rebuild the packaged geography datasets from the raw copies in data-raw/.

Run from the repository root: ``python data-raw/build_geography.py``.

Reads ``data-raw/mxmaps/``, ``data-raw/bts-border-crossings-2018/``, ``data-raw/us_mx_ports/`` and
``data-raw/producing_regions/`` (each has a SOURCE.md) and writes, under ``src/cartelsim/data/``:

- ``mx_municipalities/municipalities.csv``: 2,469 municipalities (INEGI code, names, seat, 2020 population);
- ``mx_states/states.csv``: 32 states (code, name, abbreviation, 2020 population);
- ``mx_polygons/``: the two TopoJSON files, copied unchanged;
- ``us_mx_ports/ports.csv``: the 27 land ports, twin municipalities, 2018 inbound traffic and capacity;
- ``producing_regions/producing_regions.csv``: default origins with a source per entry (an assumption);

plus each dataset's ``datapackage.json`` (the READMEs are written by hand). Place names only: no
person's name is copied. Checks (counts, codes, shares) fail loudly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data-raw"
OUT = ROOT / "src" / "cartelsim" / "data"
ACCESSED = "2026-11-26"
CAPACITY_FLOOR_SHARE = 0.002  # assumption (models/routes-dell-2015.md, "Ports in our graph")

MXMAPS_SOURCE = {
    "title": "mxmaps R package (D. Valle-Jones), data from INEGI: Censo 2020, Marco Geoestadistico, AGEEML",
    "path": "https://github.com/diegovalle/mxmaps (commit 798708f6770a24ce86d54128b0f10433cdaaf09c)",
    "accessed": ACCESSED,
}
MXMAPS_LICENSE = {
    "name": "BSD-3-Clause",
    "title": "mxmaps (BSD-3-Clause, (c) 2016 Diego Valle-Jones); underlying data INEGI, Terminos de Libre Uso "
    "de la Informacion (free use with attribution). Attribute as: Source: INEGI; compiled by D. Valle-Jones, "
    "mxmaps (BSD-3).",
    "path": "https://github.com/diegovalle/mxmaps/blob/master/LICENSE",
}
BTS_SOURCE = {
    "title": "U.S. Bureau of Transportation Statistics, Border Crossing Entry Data (from U.S. Customs and Border "
    "Protection), calendar 2018, dataset keg4-3bc2",
    "path": "https://data.bts.gov/Research-and-Statistics/Border-Crossing-Entry-Data/keg4-3bc2 (2018 extract "
    "copied from https://github.com/Nateczhou/DATS-6103-Individual-Project-3-Chao-Zhou, commit "
    "60ff1a27462da07f2e1df82b1d3d4629cb78d091)",
    "accessed": ACCESSED,
}
SPEC_SOURCE = {
    "title": "cartelsim spec models/routes-dell-2015.md, section 2.4 (crosswalk compiled for the project)",
    "path": "data-raw/us_mx_ports/port_crosswalk.csv",
    "accessed": ACCESSED,
}


def field(name: str, ftype: str, description: str, unit: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {"name": name, "type": ftype, "description": description}
    if unit is not None:
        f["unit"] = unit
    return f


def write_package(
    dataset: str,
    title: str,
    description: str,
    sources: list[dict[str, str]],
    licenses: list[dict[str, str]],
    resources: list[dict[str, Any]],
    **extra: Any,
) -> None:
    pkg: dict[str, Any] = {"name": dataset, "title": title, "description": description}
    pkg.update(extra)
    pkg["licenses"] = licenses
    pkg["sources"] = sources
    pkg["resources"] = resources
    path = OUT / dataset / "datapackage.json"
    path.write_text(json.dumps(pkg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def csv_resource(name: str, path: str, fields: list[dict[str, Any]], key: str | list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields, "primaryKey": key},
    }


def write_csv(df: pd.DataFrame, dataset: str, filename: str) -> None:
    (OUT / dataset).mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / dataset / filename, index=False, lineterminator="\n", float_format="%.6f")


def municipalities() -> pd.DataFrame:
    raw = pd.read_csv(RAW / "mxmaps" / "df_mxmunicipio_2020.csv", dtype=str, keep_default_na=False)
    df = pd.DataFrame(
        {
            "code": raw["region"],
            "state_code": raw["state_code"],
            "municipality_code": raw["municipio_code"],
            "name": raw["municipio_name"],
            "state_name": raw["state_name"],
            "state_abbr": raw["state_abbr"],
            "lon": raw["long"].astype(float),
            "lat": raw["lat"].astype(float),
            "pop_2020": raw["pop"].astype("int64"),
        }
    ).sort_values("code", ignore_index=True)
    assert len(df) == 2469 and df["code"].is_unique
    assert (df["code"].str.len() == 5).all() and (df["code"] == df["state_code"] + df["municipality_code"]).all()
    assert df["lon"].between(-118.5, -86.5).all() and df["lat"].between(14.4, 32.8).all()
    return df


def states() -> pd.DataFrame:
    raw = pd.read_csv(RAW / "mxmaps" / "df_mxstate_2020.csv", dtype=str, keep_default_na=False)
    df = pd.DataFrame(
        {
            "state_code": raw["region"],
            "name": raw["state_name"],
            "abbr": raw["state_abbr"],
            "pop_2020": raw["pop"].astype("int64"),
        }
    ).sort_values("state_code", ignore_index=True)
    assert len(df) == 32 and (df["state_code"].str.len() == 2).all()
    return df


def ports(muni: pd.DataFrame) -> pd.DataFrame:
    bts = pd.read_csv(RAW / "bts-border-crossings-2018" / "Border_Crossing_Entry_Data.csv", dtype={"Port Code": str})
    mx = bts[bts["Border"] == "US-Mexico Border"]
    assert mx["Date"].str[6:10].eq("2018").all()
    wide = mx.pivot_table(index="Port Code", columns="Measure", values="Value", aggfunc="sum").fillna(0.0)
    names = mx.groupby("Port Code")["Port Name"].first()
    cw = pd.read_csv(RAW / "us_mx_ports" / "port_crosswalk.csv", dtype=str)
    assert len(cw) == 27 and set(cw["port_code"]) == set(wide.index), "crosswalk and BTS ports differ"
    seats = muni.set_index("code")
    trucks = wide["Trucks"].reindex(cw["port_code"]).to_numpy()
    pv = wide["Personal Vehicles"].reindex(cw["port_code"]).to_numpy()
    ped = wide["Pedestrians"].reindex(cw["port_code"]).to_numpy()
    truck_share = trucks / trucks.sum()
    pv_share = pv / pv.sum()
    # ports with (almost) no trucks, i.e. below the floor, get max(floor, personal-vehicle share)
    capacity = truck_share.copy()
    low = truck_share < CAPACITY_FLOOR_SHARE
    capacity[low] = pd.Series(pv_share[low]).clip(lower=CAPACITY_FLOOR_SHARE).to_numpy()
    twin = seats.loc[cw["twin_code"]]
    df = pd.DataFrame(
        {
            "port_code": cw["port_code"].to_numpy(),
            "port_name": names.reindex(cw["port_code"]).to_numpy(),
            "us_state": cw["us_state"].to_numpy(),
            "twin_code": cw["twin_code"].to_numpy(),
            "twin_name": twin["name"].to_numpy(),
            "twin_state_code": twin["state_code"].to_numpy(),
            "lon": twin["lon"].to_numpy(),
            "lat": twin["lat"].to_numpy(),
            "trucks_2018": trucks.astype("int64"),
            "personal_vehicles_2018": pv.astype("int64"),
            "pedestrians_2018": ped.astype("int64"),
            "truck_share": truck_share,
            "personal_vehicle_share": pv_share,
            "capacity_share": capacity,
        }
    ).sort_values("port_code", ignore_index=True)
    # the spec's §2.4 table: Laredo 36.7% of trucks, Otay Mesa 15.3%
    shares = df.set_index("port_code")["truck_share"]
    assert abs(shares["2304"] - 0.367) < 0.001 and abs(shares["2506"] - 0.153) < 0.001
    return df


def producing_regions(muni: pd.DataFrame) -> pd.DataFrame:
    raw = pd.read_csv(RAW / "producing_regions" / "producing_regions_compiled.csv", dtype=str)
    keyed = muni.set_index(["state_name", "name"])
    codes = []
    for state, name in zip(raw["state_name"], raw["municipality_name"], strict=True):
        hit = keyed.loc[[(state, name)]] if (state, name) in keyed.index else None
        assert hit is not None and len(hit) == 1, f"{name}, {state} not found once in mxmaps"
        codes.append(hit["code"].iloc[0])
    df = pd.DataFrame(
        {
            "code": codes,
            "name": raw["municipality_name"],
            "state_name": raw["state_name"],
            "region": raw["region"],
            "product": raw["product"],
            "evidence": raw["evidence"],
            "source": raw["source"],
            "source_url": raw["source_url"],
        }
    )
    assert df["code"].is_unique
    return df


def main() -> None:
    muni = municipalities()
    write_csv(muni, "mx_municipalities", "municipalities.csv")
    write_package(
        "mx_municipalities",
        "Mexican municipalities 2020: INEGI codes, names, municipal seats and population",
        "The 2,469 municipalities of the 2020 census geography, keyed by 5-digit INEGI code "
        "(state + municipality), with the longitude and latitude of the municipal seat (cabecera) "
        "and the 2020 census population. The route graph's nodes.",
        [MXMAPS_SOURCE],
        [MXMAPS_LICENSE],
        [
            csv_resource(
                "municipalities",
                "municipalities.csv",
                [
                    field(
                        "code",
                        "string",
                        "5-digit INEGI municipality code (CVE_ENT + CVE_MUN), leading zeros kept",
                    ),
                    field("state_code", "string", "2-digit INEGI state code"),
                    field("municipality_code", "string", "3-digit municipality code within the state"),
                    field("name", "string", "municipality name"),
                    field("state_name", "string", "state name"),
                    field("state_abbr", "string", "state abbreviation"),
                    field("lon", "number", "longitude of the municipal seat (WGS84)", "degree"),
                    field("lat", "number", "latitude of the municipal seat (WGS84)", "degree"),
                    field("pop_2020", "integer", "population, Censo de Poblacion y Vivienda 2020", "persons"),
                ],
                "code",
            )
        ],
    )

    st = states()
    write_csv(st, "mx_states", "states.csv")
    write_package(
        "mx_states",
        "Mexican states 2020: INEGI codes, names and population",
        "The 32 federal entities keyed by 2-digit INEGI code, with the 2020 census population.",
        [MXMAPS_SOURCE],
        [MXMAPS_LICENSE],
        [
            csv_resource(
                "states",
                "states.csv",
                [
                    field("state_code", "string", "2-digit INEGI state code, leading zero kept"),
                    field("name", "string", "state name"),
                    field("abbr", "string", "state abbreviation"),
                    field("pop_2020", "integer", "population, Censo de Poblacion y Vivienda 2020", "persons"),
                ],
                "state_code",
            )
        ],
    )

    (OUT / "mx_polygons").mkdir(parents=True, exist_ok=True)
    for name in ("mxmunicipio.topojson", "mxstate.topojson"):
        shutil.copyfile(RAW / "mxmaps" / name, OUT / "mx_polygons" / name)
    topo_fields = [
        field("id", "string", "INEGI code: 5 digits (municipalities) or 2 digits (states)"),
        field("geometry", "object", "Polygon or MultiPolygon; quantized arcs, WGS84 lon/lat", "degree"),
    ]
    write_package(
        "mx_polygons",
        "Simplified polygons of Mexican municipalities and states (TopoJSON)",
        "Display-quality TopoJSON topologies: object 'municipios' (2,469 polygons, property id = 5-digit "
        "INEGI code) and object 'state' (32 polygons, id = 2-digit code). Shared arcs define the "
        "municipal adjacency of the route graph (7,112 undirected edges). Simplified: fine for "
        "adjacency and maps, not for precise areas.",
        [MXMAPS_SOURCE],
        [MXMAPS_LICENSE],
        [
            {
                "name": "municipalities",
                "path": "mxmunicipio.topojson",
                "format": "topojson",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "object": "municipios",
                "schema": {"fields": topo_fields},
            },
            {
                "name": "states",
                "path": "mxstate.topojson",
                "format": "topojson",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "object": "state",
                "schema": {"fields": topo_fields},
            },
        ],
    )

    pt = ports(muni)
    write_csv(pt, "us_mx_ports", "ports.csv")
    write_package(
        "us_mx_ports",
        "US-Mexico land ports of entry: Mexican twin municipalities, 2018 inbound traffic and capacity shares",
        "The 27 US-Mexico land ports in the BTS 2018 Border Crossing Entry Data, each joined to its Mexican "
        "twin municipality (crosswalk of models/routes-dell-2015.md §2.4), with 2018 inbound trucks, "
        "personal vehicles and pedestrians, shares of the 27 ports' totals, and the crossing capacity share "
        "the route model uses. Coordinates are the twin municipality's seat (an approximation).",
        [BTS_SOURCE, SPEC_SOURCE, MXMAPS_SOURCE],
        [
            {
                "name": "public-domain",
                "title": "BTS/CBP data: work of the U.S. federal government (public domain); crosswalk CC0 1.0",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
            },
            MXMAPS_LICENSE,
        ],
        [
            csv_resource(
                "ports",
                "ports.csv",
                [
                    field("port_code", "string", "4-digit BTS/CBP port code"),
                    field("port_name", "string", "US port name (BTS)"),
                    field("us_state", "string", "US state, 2-letter code"),
                    field("twin_code", "string", "5-digit INEGI code of the Mexican twin municipality"),
                    field("twin_name", "string", "twin municipality name"),
                    field("twin_state_code", "string", "2-digit INEGI state code of the twin"),
                    field(
                        "lon",
                        "number",
                        "longitude of the twin municipality's seat (approximates the port)",
                        "degree",
                    ),
                    field(
                        "lat",
                        "number",
                        "latitude of the twin municipality's seat (approximates the port)",
                        "degree",
                    ),
                    field("trucks_2018", "integer", "inbound trucks, calendar 2018", "trucks per year"),
                    field(
                        "personal_vehicles_2018",
                        "integer",
                        "inbound personal vehicles, calendar 2018",
                        "vehicles per year",
                    ),
                    field(
                        "pedestrians_2018",
                        "integer",
                        "inbound pedestrians, calendar 2018",
                        "persons per year",
                    ),
                    field("truck_share", "number", "share of the 27 ports' 2018 inbound trucks", "share"),
                    field(
                        "personal_vehicle_share",
                        "number",
                        "share of the 27 ports' 2018 inbound personal vehicles",
                        "share",
                    ),
                    field(
                        "capacity_share",
                        "number",
                        "crossing capacity used by the route model: truck_share, or for ports whose truck share "
                        f"is below the floor ({CAPACITY_FLOOR_SHARE}, assumption) max(floor, "
                        "personal_vehicle_share); not renormalised (sums to more than 1)",
                        "share",
                    ),
                ],
                "port_code",
            )
        ],
    )

    pr = producing_regions(muni)
    write_csv(pr, "producing_regions", "producing_regions.csv")
    write_package(
        "producing_regions",
        "Default trafficking origins: producing municipalities (assumption, with a public source per entry)",
        "Municipalities used as default origins of the route model. Dell (2015) used confidential "
        "eradication records; this list is the project's assumption, compiled from public reports: "
        "opium-poppy and marijuana areas of the Golden Triangle and the Guerrero highlands, synthetic-drug "
        "lab regions (Sinaloa, Jalisco, Michoacán) and the Pacific ports receiving precursor chemicals. "
        "Each row cites a public source and says whether the source names the municipality or only its "
        "region. Replaceable by any list of INEGI codes.",
        [
            {
                "title": "Compiled for the project from the public reports cited per row (column source)",
                "path": "data-raw/producing_regions/producing_regions_compiled.csv",
                "accessed": ACCESSED,
            },
            {
                "title": "UNODC and Government of Mexico, Mexico: Monitoreo de Cultivos de Amapola 2017-2018 (MEXK54)",
                "path": "https://copolad.eu/es/page-2216",
                "accessed": ACCESSED,
            },
            MXMAPS_SOURCE,
        ],
        [
            {
                "name": "CC0-1.0",
                "title": "compilation: CC0 1.0",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
            }
        ],
        [
            csv_resource(
                "producing_regions",
                "producing_regions.csv",
                [
                    field("code", "string", "5-digit INEGI municipality code"),
                    field("name", "string", "municipality name"),
                    field("state_name", "string", "state name"),
                    field("region", "string", "producing region (golden_triangle, guerrero_highlands, ...)"),
                    field("product", "string", "what the source places there"),
                    field(
                        "evidence",
                        "string",
                        "'municipality named in source' or 'region named in source' "
                        "(municipality chosen by the project)",
                    ),
                    field("source", "string", "public report placing production or precursor imports there"),
                    field("source_url", "string", "address of the source"),
                ],
                "code",
            )
        ],
        status="assumption",
    )
    print(f"wrote {len(muni)} municipalities, {len(st)} states, {len(pt)} ports, {len(pr)} origins to {OUT}")


if __name__ == "__main__":
    main()
