"""Fit the mixing parameters of the violence allocation on 2012-2016 only; write the violence_fit dataset.

Run from the repository root: ``python data-raw/fit_violence_weights.py`` (about 10 s).

What is fitted to what:

- the model's per-cartel conflict deaths per year, 2012-2016, from the reference run (the ecosystem with
  the spec's default parameters, ``cartelsim.run``, recorded every 52 weeks), are allocated with
  :func:`cartelsim.geography.violence.presence_weights` (UCDP events of 2012-2016 only);
- **stage 1** (state level): ``violence_fatality_weight_share``, ``violence_background_share`` and
  ``violence_listed_state_share`` minimise the mean over 2012-2016 of the total-variation distance
  (half the L1 distance) between the model's state shares and the shares of INEGI homicides by state
  (``mx_homicides/state_year.csv``), on a grid; ``violence_state_spread_share`` moves deaths within a
  state only, so it cannot change state shares (asserted) and is fitted next;
- **stage 2** (municipality level): ``violence_state_spread_share`` minimises the same distance between
  municipality shares (INEGI ``mx_homicides/municipality_year.csv``, the municipalities both sets hold),
  the stage-1 values held fixed.

Shares make the fit independent of ``victim_share_cartel`` (victims are deaths / share in every state).
The reported range of each parameter is the span of grid values whose best loss (others free) is within
5% of the minimum. Nothing from 2017 on is used: homicides are cut to 2012-2016 here, and the
presence weights cut events to 2012-2016 themselves.

Writes ``src/cartelsim/data/violence_fit/`` (fitted_parameters.csv, grid_state.csv, grid_municipality.csv,
datapackage.json); copy the fitted values into ``src/cartelsim/params/violence.py`` (a test
checks that they agree).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

import cartelsim
from cartelsim import places
from cartelsim.geography.violence import (
    STATE_CODES,
    homicides_by_municipality,
    homicides_by_state,
    presence_parts,
    state_totals,
)
from cartelsim.network import load_network

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "cartelsim" / "data" / "violence_fit"
YEARS = list(range(2012, 2017))
LAM = [0.0, 0.25, 0.5, 0.75, 1.0]
SHARES = [round(x, 2) for x in np.arange(0.0, 0.501, 0.05)]
SPREAD = [round(x, 2) for x in np.arange(0.0, 1.001, 0.05)]
WITHIN = 0.05  # range: grid values within 5% of the minimum loss (assumption)
SCRIPT = "data-raw/fit_violence_weights.py"

SCENARIO = """
[scenario]
name = "violence-fit"
start = 2012-01-01
end = 2017-01-01
record = { national = 52, groups = 52 }
"""


def model_deaths(ids: list[str]) -> np.ndarray:
    """Per-cartel conflict deaths per calendar year 2012-2016, shape (5, N), from the reference run."""
    res = cartelsim.run(cartelsim.Scenario.from_text(SCENARIO), progress=False)
    o = res.outcomes
    c = o[(o["level"] == "cartel") & (o["variable"] == "new_conflict_deaths")]
    wide = c.pivot_table(index="group", columns="week", values="value", observed=True).reindex(ids)
    assert list(wide.columns) == [52 * k for k in range(5)] and not wide.isna().any().any()
    return wide.to_numpy().T


def tv(model: np.ndarray, target: np.ndarray) -> float:
    """Mean over rows of the total-variation distance between row-normalised arrays."""
    a = model / model.sum(axis=1, keepdims=True)
    b = target / target.sum(axis=1, keepdims=True)
    return float((0.5 * np.abs(a - b).sum(axis=1)).mean())


def span(grid: pd.DataFrame, col: str) -> tuple[float, float]:
    best = grid.groupby(col)["loss"].min()
    ok = best[best <= best.min() * (1 + WITHIN)].index
    return float(ok.min()), float(ok.max())


def main() -> None:
    ids = load_network().ids
    deaths = model_deaths(ids)
    parts = presence_parts(ids)  # UCDP events of 2012-2016 only
    hs = homicides_by_state()
    hs = hs[hs["year"].isin(YEARS)].pivot(index="year", columns="state_code", values="homicides")
    h_state = hs.reindex(index=YEARS, columns=list(STATE_CODES)).to_numpy(dtype=float)
    codes = places.municipalities()["code"].to_numpy(dtype=str)
    hm = homicides_by_municipality()
    hm = hm[hm["year"].isin(YEARS)].pivot(index="year", columns="code", values="homicides")
    common = np.isin(codes, hm.columns.to_numpy(dtype=str))
    h_muni = hm.reindex(index=YEARS, columns=codes[common]).to_numpy(dtype=float)

    rows = []
    for lam, b, f in itertools.product(LAM, SHARES, SHARES):
        w = parts.weights(lam, b, f, 0.0)
        rows.append((lam, b, f, tv(state_totals(deaths @ w), h_state)))
    g1 = pd.DataFrame(rows, columns=["fatality_weight_share", "background_share", "listed_state_share", "loss"])
    lam, b, f, loss1 = g1.loc[g1["loss"].idxmin()].tolist()
    for s in (0.5, 1.0):  # the state-spread share cannot move deaths between states
        other = tv(state_totals(deaths @ parts.weights(lam, b, f, s)), h_state)
        assert abs(other - loss1) < 1e-12, (s, other, loss1)
    null1 = tv(state_totals(deaths @ parts.weights(0.0, 1.0, 0.0, 0.0)), h_state)

    g2 = pd.DataFrame(
        [(s, tv((deaths @ parts.weights(lam, b, f, s))[:, common], h_muni)) for s in SPREAD],
        columns=["state_spread_share", "loss"],
    )
    s, loss2 = g2.loc[g2["loss"].idxmin()].tolist()
    null2 = tv((deaths @ parts.weights(0.0, 1.0, 0.0, 0.0))[:, common], h_muni)

    state_obj = "mean over 2012-2016 of the total-variation distance between model and INEGI state shares of homicides"
    muni_obj = (
        "mean over 2012-2016 of the total-variation distance between model and INEGI municipality shares "
        "(stage-1 values fixed)"
    )
    fitted = pd.DataFrame(
        [
            (
                "violence_fatality_weight_share",
                lam,
                *span(g1, "fatality_weight_share"),
                "state",
                state_obj,
                loss1,
                null1,
            ),
            ("violence_background_share", b, *span(g1, "background_share"), "state", state_obj, loss1, null1),
            ("violence_listed_state_share", f, *span(g1, "listed_state_share"), "state", state_obj, loss1, null1),
            ("violence_state_spread_share", s, *span(g2, "state_spread_share"), "municipality", muni_obj, loss2, null2),
        ],
        columns=["name", "value", "range_low", "range_high", "level", "objective", "loss", "population_only_loss"],
    )
    fitted["fitted_to"] = (
        "INEGI homicides (mx_homicides) 2012-2016 vs the reference run's per-cartel conflict deaths 2012-2016 "
        "allocated by UCDP events of 2012-2016 (ucdp_ged_mexico)"
    )
    fitted["period"] = "2012-2016"
    fitted["source"] = SCRIPT
    OUT.mkdir(parents=True, exist_ok=True)
    fitted.to_csv(OUT / "fitted_parameters.csv", index=False, lineterminator="\n", float_format="%.6g")
    g1.to_csv(OUT / "grid_state.csv", index=False, lineterminator="\n", float_format="%.6g")
    g2.to_csv(OUT / "grid_municipality.csv", index=False, lineterminator="\n", float_format="%.6g")
    write_package()
    print(fitted[["name", "value", "range_low", "range_high", "loss", "population_only_loss"]].to_string(index=False))


def write_package() -> None:
    def f(name: str, ftype: str, description: str, unit: str | None = None) -> dict[str, str]:
        d = {"name": name, "type": ftype, "description": description}
        return d | ({"unit": unit} if unit else {})

    share = "share"
    pkg = {
        "name": "violence_fit",
        "title": "Fitted mixing parameters of the allocation of conflict deaths in space (fitted on 2012-2016 only)",
        "description": "Output of data-raw/fit_violence_weights.py: the four violence_* mixing parameters of "
        "cartelsim.geography.violence, fitted by grid search so that the reference run's per-cartel conflict "
        "deaths of 2012-2016, allocated by UCDP events of 2012-2016, match INEGI homicide shares by state "
        "(stage 1) and by municipality (stage 2) of 2012-2016. Years 2017-2021 are held out for validation. "
        "The loss grids are kept so that the fit can be inspected.",
        "licenses": [
            {
                "name": "MIT",
                "title": "cartelsim (fitted values computed from CC BY 4.0 data: INEGI via Gargiulo et al.; UCDP GED)",
                "path": "https://opensource.org/license/mit",
            }
        ],
        "sources": [
            {"title": "cartelsim fitting script", "path": SCRIPT, "accessed": "2026-11-26"},
            {"title": "bundled dataset mx_homicides (INEGI via Gargiulo et al.)", "path": "mx_homicides"},
            {"title": "bundled dataset ucdp_ged_mexico (UCDP GED)", "path": "ucdp_ged_mexico"},
        ],
        "resources": [
            {
                "name": "fitted_parameters",
                "path": "fitted_parameters.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        f("name", "string", "parameter name (cartelsim.params.violence)"),
                        f("value", "number", "fitted value", share),
                        f("range_low", "number", "lowest grid value with best loss within 5% of the minimum", share),
                        f("range_high", "number", "highest grid value with best loss within 5% of the minimum", share),
                        f("level", "string", "level of the fit: state or municipality"),
                        f("objective", "string", "what was minimised"),
                        f("loss", "number", "objective at the fitted values", share),
                        f(
                            "population_only_loss",
                            "number",
                            "objective when every death is spread by population (the null)",
                            share,
                        ),
                        f("fitted_to", "string", "data the parameter was fitted to"),
                        f("period", "string", "years used"),
                        f("source", "string", "script that wrote this row"),
                    ],
                    "primaryKey": "name",
                },
            },
            {
                "name": "grid_state",
                "path": "grid_state.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        f("fatality_weight_share", "number", "violence_fatality_weight_share", share),
                        f("background_share", "number", "violence_background_share", share),
                        f("listed_state_share", "number", "violence_listed_state_share", share),
                        f("loss", "number", "stage-1 objective (state shares, 2012-2016)", share),
                    ]
                },
            },
            {
                "name": "grid_municipality",
                "path": "grid_municipality.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        f("state_spread_share", "number", "violence_state_spread_share", share),
                        f("loss", "number", "stage-2 objective (municipality shares, 2012-2016)", share),
                    ]
                },
            },
        ],
    }
    (OUT / "datapackage.json").write_text(json.dumps(pkg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
