"""Rebuild the packaged violence datasets (homicide counts, UCDP conflict events) from data-raw/.

Run from the repository root: ``python data-raw/build_violence_data.py``.

Reads ``data-raw/mexico-homicide-rates/``, ``data-raw/ucdp-ged-mexico/`` and ``data-raw/mxmaps/`` (each has
a SOURCE.md) and writes, under ``src/cartelsim/data/``:

- ``mx_homicides/state_year.csv``: INEGI homicides (death certificates, place of occurrence) by state and
  year, 2000-2022, summed from the state-month file of Gargiulo et al.;
- ``mx_homicides/municipality_year.csv``: the same by municipality and year, 2000-2021 (the derived
  municipality-year sums of the municipal monthly file);
- ``ucdp_ged_mexico/events.csv``: UCDP GED cartel-vs-cartel events 2012-2019 with their BACRIM sides,
  state code and, where the UCDP municipality name matches an mxmaps 2020 name within the state, the
  5-digit INEGI code;

plus each dataset's ``datapackage.json`` (the READMEs are written by hand).

Counts only: the source's ``pop_est`` and ``homicide_rate`` columns are wrong (population interpolation bug,
see data-raw/mexico-homicide-rates/SOURCE.md) and are never copied. UCDP free text, coordinates and side
labels are not copied; no person's name is. Checks (totals, codes, match coverage) fail loudly.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data-raw"
OUT = ROOT / "src" / "cartelsim" / "data"
ACCESSED = "2026-11-26"

GARGIULO_SOURCE = {
    "title": "Gargiulo, M., Aburto, J.M., Floridi, G., Monthly municipal-level homicide rates in Mexico (INEGI "
    "death certificates, homicides by place of occurrence); counts only",
    "path": "https://github.com/thegargiulian/mexico-homicide-rates (municipal file @ "
    "4ac920ac8416cebc1b0c0398efe0c264490af64c, state file @ 6869d42f7e4e0d7ad790bc46bd3b4704ce8b31dc); "
    "OSF mirror doi:10.17605/OSF.IO/U8DC3",
    "accessed": ACCESSED,
}
INEGI_SOURCE = {
    "title": "INEGI, Estadisticas de Defunciones Registradas (mortality microdata), underlying cause = assault",
    "path": "https://www.inegi.org.mx/programas/edr/",
    "accessed": ACCESSED,
}
UCDP_SOURCE = {
    "title": "UCDP Georeferenced Event Dataset (Sundberg & Melander 2013; Davies et al.), Mexico subset of "
    "non-state (cartel-vs-cartel) events 2012-2019, as shipped in D. Colby's replication data",
    "path": "https://github.com/dscolby/chaos-from-order (commit 1a6f3449e7b6b99d64ad19716c3724d3907bcf3a, "
    "replication_data.zip -> Mexican Drug Cartel Rivalries/data/UCDP.csv); UCDP: https://ucdp.uu.se/downloads/",
    "accessed": ACCESSED,
}
MXMAPS_SOURCE = {
    "title": "mxmaps R package (D. Valle-Jones), INEGI municipality and state names (AGEEML 2020), used to match "
    "UCDP place names to INEGI codes",
    "path": "https://github.com/diegovalle/mxmaps (commit 798708f6770a24ce86d54128b0f10433cdaaf09c)",
    "accessed": ACCESSED,
}
CC_BY = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}

#: UCDP municipality names that differ from the mxmaps 2020 name beyond accents, case and a misspelt
#: "municipality" suffix: (state code, normalised UCDP name) -> INEGI code. Checked by hand against mxmaps.
ALIASES: dict[tuple[str, str], str] = {
    ("07", "metapa de dominguez"): "07055",  # Metapa
    ("08", "batopilas"): "08008",  # Batopilas de Manuel Gomez Morin
    ("08", "charichi"): "08012",  # Carichi
    ("08", "temosachi"): "08063",  # Temosachic
    ("08", "villa lopez"): "08039",  # Lopez
    ("06", "ciudad de villa de alvarez"): "06010",  # Villa de Alvarez
    ("11", "purisma del rincon"): "11025",  # Purisima del Rincon
    ("11", "silao"): "11037",  # Silao de la Victoria
    ("16", "ecuanuredo"): "16030",  # Ecuandureo
    ("15", "san francisco coacalco"): "15020",  # Coacalco de Berriozabal
    ("20", "heroica ciudad de juchitan de zaragoza"): "20043",  # Juchitan de Zaragoza
    ("28", "abasalo"): "28001",  # Abasolo
    ("30", "papantla de olarte"): "30124",  # Papantla
}
# Left unmatched on purpose: "Rio Bravo" recorded in Veracruz (no such municipality there; not guessed).


def norm(text: str) -> str:
    """Lower case, no accents, no 'state'/'municipality' suffix (misspellings included), single spaces."""
    s = unicodedata.normalize("NFKD", text)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower().strip()
    s = re.sub(r"\s+(mun\w*|state)$", "", s)
    s = re.sub(r"[^a-z0-9 ]", " ", s)
    return " ".join(s.split())


def field(name: str, ftype: str, description: str, unit: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {"name": name, "type": ftype, "description": description}
    if unit is not None:
        f["unit"] = unit
    return f


def csv_resource(name: str, path: str, fields: list[dict[str, Any]], key: str | list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields, "primaryKey": key},
    }


def write_package(dataset: str, pkg: dict[str, Any]) -> None:
    path = OUT / dataset / "datapackage.json"
    path.write_text(json.dumps({"name": dataset, **pkg}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(df: pd.DataFrame, dataset: str, filename: str) -> None:
    (OUT / dataset).mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / dataset / filename, index=False, lineterminator="\n")


def homicides() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = RAW / "mexico-homicide-rates"
    st = pd.read_csv(
        raw / "mexico-state-month-homicide-rates-2000-2022.csv",
        sep="|",
        dtype={"cve_ent": str},
        usecols=["cve_ent", "year", "month", "homicides"],  # never pop_est / homicide_rate (bug)
    )
    assert st.groupby(["cve_ent", "year"]).size().eq(12).all()
    state = (
        st.groupby(["cve_ent", "year"], as_index=False)["homicides"]
        .sum()
        .rename(columns={"cve_ent": "state_code"})
        .sort_values(["state_code", "year"], ignore_index=True)
    )
    assert len(state) == 32 * 23 and state["state_code"].nunique() == 32
    mun = pd.read_csv(raw / "DERIVED_muni-year-homicide-counts-2000-2021.csv", dtype={"ent_mun": str})
    mun = mun.rename(columns={"ent_mun": "code"}).sort_values(["code", "year"], ignore_index=True)
    assert mun["code"].str.fullmatch(r"\d{5}").all() and mun["code"].nunique() == 2467
    assert mun["year"].min() == 2000 and mun["year"].max() == 2021 and mun.groupby("code").size().eq(22).all()
    # SOURCE.md's national sums
    nat = mun.groupby("year")["homicides"].sum()
    for year, total in {2006: 10393, 2007: 8837, 2008: 14229, 2010: 26045, 2011: 27330, 2018: 34404}.items():
        assert nat[year] == total, (year, nat[year])
    return state, mun[["code", "year", "homicides"]]


def ucdp_events() -> tuple[pd.DataFrame, dict[str, Any]]:
    u = pd.read_csv(RAW / "ucdp-ged-mexico" / "UCDP-events.csv", dtype=str, keep_default_na=False)
    assert len(u) == 2676 and u["id"].is_unique
    mx = pd.read_csv(RAW / "mxmaps" / "df_mxmunicipio_2020.csv", dtype=str, keep_default_na=False)
    state_of = {norm(n): c for n, c in zip(mx["state_name"], mx["state_code"], strict=True)}
    by_name: dict[tuple[str, str], list[str]] = {}
    for c, n, r in zip(mx["state_code"], mx["municipio_name"], mx["region"], strict=True):
        by_name.setdefault((c, norm(n)), []).append(r)
    # two pairs of Oaxaca municipalities share a name (San Juan Mixtepec, San Pedro Mixtepec): never matched
    ambiguous = {k for k, v in by_name.items() if len(v) > 1}
    assert len(ambiguous) == 2
    state_codes, mun_codes, how = [], [], []
    for adm1, adm2 in zip(u["adm_1"], u["adm_2"], strict=True):
        sc = state_of.get(norm(adm1), "") if adm1 else ""
        assert adm1 == "" or sc, f"unknown state {adm1!r}"
        key = (sc, norm(adm2))
        if not adm2 or not sc:
            code, m = "", "no municipality recorded" if sc else "no state recorded"
        elif key in ambiguous:
            code, m = "", "name ambiguous"
        elif key in by_name:
            code, m = by_name[key][0], "name"
        elif key in ALIASES:
            code, m = ALIASES[key], "alias"
        else:
            code, m = "", "name not found"
        state_codes.append(sc)
        mun_codes.append(code)
        how.append(m)
    valid = set(mx["region"])
    assert all(c in valid for c in mun_codes if c)
    assert all(c == "" or c[:2] == s for c, s in zip(mun_codes, state_codes, strict=True))

    def other(node: pd.Series, label: pd.Series) -> list[str]:
        out = []
        for n, lab in zip(node, label, strict=True):
            if n:
                out.append("")
            elif "prison gang" in lab:
                out.append("prison gang (not in BACRIM)")
            elif "self-defence" in lab:
                out.append("self-defence militias (not a cartel)")
            else:
                raise AssertionError(f"unmatched side {lab!r}")
        return out

    df = pd.DataFrame(
        {
            "event_id": u["id"].astype("int64"),
            "year": u["year"].astype("int64"),
            "state_code": state_codes,
            "municipality_code": mun_codes,
            "municipality_match": how,
            "where_prec": u["where_prec"].astype("int64"),
            "side_a_node": u["side_a_node"],
            "side_a_is_faction": u["side_a_is_faction"].astype("int64"),
            "side_b_node": u["side_b_node"],
            "side_b_is_faction": u["side_b_is_faction"].astype("int64"),
            "non_bacrim_side": [
                a or b
                for a, b in zip(
                    other(u["side_a_node"], u["side_a_label"]), other(u["side_b_node"], u["side_b_label"]), strict=True
                )
            ],
            "best": u["best"].astype("int64"),
        }
    ).sort_values(["year", "event_id"], ignore_index=True)
    assert df["best"].sum() == 28625
    counts = df.groupby("year").size().to_dict()
    assert counts == {2012: 191, 2013: 178, 2014: 168, 2015: 251, 2016: 185, 2017: 329, 2018: 591, 2019: 783}
    coverage: dict[str, Any] = {}
    for label, part in (("2012-2016", df[df["year"] <= 2016]), ("2012-2019", df)):
        coverage[label] = {
            "events": len(part),
            "with_state": int((part["state_code"] != "").sum()),
            "with_municipality": int((part["municipality_code"] != "").sum()),
            "by_name": int((part["municipality_match"] == "name").sum()),
            "by_alias": int((part["municipality_match"] == "alias").sum()),
            "name_not_found": int((part["municipality_match"] == "name not found").sum()),
            "no_municipality_recorded": int((part["municipality_match"] == "no municipality recorded").sum()),
            "best_with_municipality_share": round(
                float(part.loc[part["municipality_code"] != "", "best"].sum() / part["best"].sum()), 4
            ),
        }
    return df, coverage


def main() -> None:
    state, mun = homicides()
    write_csv(state, "mx_homicides", "state_year.csv")
    write_csv(mun, "mx_homicides", "municipality_year.csv")
    write_package(
        "mx_homicides",
        {
            "title": "Homicides in Mexico by state-year (2000-2022) and municipality-year (2000-2021), INEGI counts",
            "description": "All homicides (INEGI death certificates whose underlying cause is assault) by place of "
            "occurrence, summed to years from the monthly files of Gargiulo, Aburto & Floridi. Counts only: the "
            "source's pop_est and homicide_rate are wrong (population interpolation bug) and are not shipped; "
            "divide by census populations (mx_municipalities, mx_states) for rates. Municipality set: the "
            "source's 2,467 codes (02007 is not in mxmaps 2020; 04012, 07125 and 17036 have no row). State "
            "sums of the municipal file fall short of the state file by records without a municipality (e.g. "
            "2021: 33,626 vs 34,346). Used for validation and for fitting the allocation's mixing parameters "
            "on 2012-2016 only; never for the allocation's presence weights.",
            "licenses": [CC_BY],
            "sources": [GARGIULO_SOURCE, INEGI_SOURCE],
            "resources": [
                csv_resource(
                    "state_year",
                    "state_year.csv",
                    [
                        field("state_code", "string", "2-digit INEGI state code (cve_ent), leading zero kept"),
                        field("year", "integer", "calendar year of occurrence, 2000-2022", "year"),
                        field("homicides", "integer", "homicides that occurred in the state that year", "persons"),
                    ],
                    ["state_code", "year"],
                ),
                csv_resource(
                    "municipality_year",
                    "municipality_year.csv",
                    [
                        field("code", "string", "5-digit INEGI municipality code (ent_mun), leading zeros kept"),
                        field("year", "integer", "calendar year of occurrence, 2000-2021", "year"),
                        field(
                            "homicides", "integer", "homicides that occurred in the municipality that year", "persons"
                        ),
                    ],
                    ["code", "year"],
                ),
            ],
        },
    )

    ev, coverage = ucdp_events()
    write_csv(ev, "ucdp_ged_mexico", "events.csv")
    write_package(
        "ucdp_ged_mexico",
        {
            "title": "UCDP GED cartel-vs-cartel events in Mexico, 2012-2019, with BACRIM sides and INEGI codes",
            "description": "2,676 non-state conflict events (UCDP type 2) with their sides matched to BACRIM 2020 "
            "node ids, the 2-digit state code and, where UCDP's municipality name matches an mxmaps 2020 name "
            "within the state (after removing accents, case and the 'municipality' suffix, plus 13 hand-checked "
            "aliases), the 5-digit INEGI municipality code. Only ids, years, codes, precision and best "
            "fatality estimates are kept: no UCDP free text, coordinates, side names or person names. The "
            "allocation of conflict deaths uses events of 2012-2016 only.",
            "match_coverage": coverage,
            "licenses": [
                {**CC_BY, "title": "UCDP GED data: CC BY 4.0 (cite Sundberg & Melander 2013; Davies et al.)"},
                {
                    "name": "MIT",
                    "title": "D. Colby's replication repository (side matching to BACRIM made for cartelsim)",
                    "path": "https://github.com/dscolby/chaos-from-order/blob/main/LICENSE",
                },
            ],
            "sources": [UCDP_SOURCE, MXMAPS_SOURCE],
            "resources": [
                csv_resource(
                    "events",
                    "events.csv",
                    [
                        field("event_id", "integer", "UCDP GED event id"),
                        field("year", "integer", "UCDP year of the event, 2012-2019", "year"),
                        field("state_code", "string", "2-digit INEGI state code; empty where UCDP gives no state"),
                        field(
                            "municipality_code",
                            "string",
                            "5-digit INEGI municipality code matched from UCDP's municipality name within the "
                            "state; empty where none is recorded or the name is not found",
                        ),
                        field(
                            "municipality_match",
                            "string",
                            "how the code was found: name, alias, or why not (no municipality recorded, name "
                            "not found, name ambiguous, no state recorded)",
                        ),
                        field(
                            "where_prec",
                            "integer",
                            "UCDP location precision (1 exact place ... 4 first-order region, 6 country)",
                        ),
                        field("side_a_node", "string", "BACRIM 2020 node id of side A; empty if not in BACRIM"),
                        field("side_a_is_faction", "integer", "1 where UCDP records a faction of that node"),
                        field("side_b_node", "string", "BACRIM 2020 node id of side B; empty if not in BACRIM"),
                        field("side_b_is_faction", "integer", "1 where UCDP records a faction of that node"),
                        field("non_bacrim_side", "string", "kind of a side with no BACRIM node, else empty"),
                        field("best", "integer", "UCDP best estimate of fatalities", "deaths"),
                    ],
                    "event_id",
                ),
            ],
        },
    )
    print(json.dumps(coverage, indent=1))


if __name__ == "__main__":
    main()
