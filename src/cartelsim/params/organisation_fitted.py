"""Fitted defaults of the organisation layer's adaptation.

Written by ``data-raw/fit_organisation_adaptation.py``; do not edit by hand.
``FITTED[name]`` is ``(value, fitted)``; ``FIT`` records what was fitted to what (targets, the model's
values at the fit, the objective).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIT", "FITTED", "SOURCE"]

SOURCE = "data-raw/fit_organisation_adaptation.py (fitted 2026-11-26; see cartelsim.params.organisation_fitted.FIT)"

FITTED: dict[str, tuple[float, bool]] = {
    "fission_probability_1000_members": (0.1125, True),
    "fission_probability_20000_members": (0.2625, True),
    "removal_violence_leader_factor": (1.606, True),
    "removal_violence_weeks": (52.0, True),
    "faction_alliance_share": (1.0, True),
}

#: What was fitted to what.
FIT: dict[str, Any] = {
    "script": "data-raw/fit_organisation_adaptation.py",
    "date": "2026-11-26",
    "quick": False,
    "settings": {
        "organisation_scale": 0.5,
        "replicates_local": 40,
        "replicates_dickenson": 80,
        "replicates_backcast": 12,
        "seed": 20070101,
    },
    "removal_violence_leader_factor": {
        "fitted_to": "Calderon et al. 2015 Table 2 (+36.5% months 0-6, 95% CI "
        "+7% to +75%) and Lindo & Padilla-Romo 2015 (about +80%, "
        "0-12 months): the paired single removal's rise in the "
        "removed leader's places; weighted least squares on log(1 + "
        "rise), SE 0.126 each",
        "first_pass": {
            "value": 1.491,
            "targets": {"0-6m": 0.365, "0-12m": 0.8},
            "model": {"0-6m": 0.5638206151210032, "0-12m": 0.5659306237549131},
            "loss": 2.4060944306560366,
            "evaluations": 9,
        },
        "final": {
            "value": 1.606,
            "targets": {"0-6m": 0.365, "0-12m": 0.8},
            "model": {"0-6m": 0.5745843419720367, "0-12m": 0.5762109083716433},
            "loss": 2.4144885462017296,
            "evaluations": 9,
        },
    },
    "removal_violence_weeks": {
        "fitted_to": "Lindo & Padilla-Romo 2015 'at least 12 months' (lower bound 52 "
        "weeks); longer only adds to the four-year total, already above "
        "Dickenson 2014",
        "dickenson_at_104_weeks": {
            "extra_victims": 137.16705910345493,
            "se": 49.20376126781024,
            "loss": 9.101400274730498,
        },
    },
    "fission_and_alliance_share": {
        "fitted_to": "backcast groups (about 80 in 2011, 148-150 in 2018-2020), "
        "backcast homicides 2008-2020 (INEGI, Trends2012_2021), "
        "Dickenson 2014 (16.6 extra deaths per removal over 4 years); "
        "squared log gaps over standard errors (0.5, 0.2, 0.7; "
        "assumptions) averaged per series, one weight per series; grid "
        "over a factor on the spec's anchors (0.15, 0.35; larger capped "
        "at 0.95) and faction_alliance_share",
        "standard_errors_log": {"groups": 0.5, "homicides": 0.2, "dickenson": 0.7},
        "grid": [
            {
                "factor": 0.25,
                "faction_alliance_share": 0.5,
                "loss": 45.96106296695949,
                "groups_loss": 27.083989950487776,
                "homicides_loss": 3.1996614575197317,
                "dickenson_loss": 15.677411558951977,
                "groups": {"2011": 6.0, "2018": 11.0, "2019": 11.0, "2020": 11.0},
                "extra_victims_per_removal": 265.3454282896922,
            },
            {
                "factor": 0.25,
                "faction_alliance_share": 0.75,
                "loss": 39.760900706543424,
                "groups_loss": 27.083989950487776,
                "homicides_loss": 4.883093495112086,
                "dickenson_loss": 7.79381726094356,
                "groups": {"2011": 6.0, "2018": 11.0, "2019": 11.0, "2020": 11.0},
                "extra_victims_per_removal": 117.16946742979356,
            },
            {
                "factor": 0.25,
                "faction_alliance_share": 1.0,
                "loss": 34.927651110074805,
                "groups_loss": 27.083989950487776,
                "homicides_loss": 6.809830434339337,
                "dickenson_loss": 1.0338307252476866,
                "groups": {"2011": 6.0, "2018": 11.0, "2019": 11.0, "2020": 11.0},
                "extra_victims_per_removal": 33.823132533505735,
            },
            {
                "factor": 0.5,
                "faction_alliance_share": 0.5,
                "loss": 48.8121844228262,
                "groups_loss": 21.163715788458653,
                "homicides_loss": 1.9391452032014629,
                "dickenson_loss": 25.709323431166084,
                "groups": {"2011": 7.0, "2018": 15.0, "2019": 16.0, "2020": 16.0},
                "extra_victims_per_removal": 577.4997718304415,
            },
            {
                "factor": 0.5,
                "faction_alliance_share": 0.75,
                "loss": 39.373956594332405,
                "groups_loss": 20.337783381528297,
                "homicides_loss": 2.7840008703050407,
                "dickenson_loss": 16.25217234249907,
                "groups": {"2011": 7.0, "2018": 16.0, "2019": 17.0, "2020": 17.0},
                "extra_victims_per_removal": 279.0473590490142,
            },
            {
                "factor": 0.5,
                "faction_alliance_share": 1.0,
                "loss": 33.46801394444476,
                "groups_loss": 21.0142269079438,
                "homicides_loss": 4.749168352186631,
                "dickenson_loss": 7.704618684314335,
                "groups": {"2011": 7.0, "2018": 15.5, "2019": 16.0, "2020": 16.0},
                "extra_victims_per_removal": 115.86275429540858,
            },
            {
                "factor": 0.75,
                "faction_alliance_share": 0.5,
                "loss": 45.20899903642619,
                "groups_loss": 17.305864301919932,
                "homicides_loss": 2.1938113033401776,
                "dickenson_loss": 25.709323431166084,
                "groups": {"2011": 8.0, "2018": 19.5, "2019": 20.5, "2020": 20.5},
                "extra_victims_per_removal": 577.4997718304415,
            },
            {
                "factor": 0.75,
                "faction_alliance_share": 0.75,
                "loss": 35.93970088699248,
                "groups_loss": 17.412182985154374,
                "homicides_loss": 2.275345559339044,
                "dickenson_loss": 16.25217234249907,
                "groups": {"2011": 8.0, "2018": 19.0, "2019": 20.5, "2020": 20.5},
                "extra_victims_per_removal": 279.0473590490142,
            },
            {
                "factor": 0.75,
                "faction_alliance_share": 1.0,
                "loss": 29.16054422573879,
                "groups_loss": 17.4006689101604,
                "homicides_loss": 4.055256631264051,
                "dickenson_loss": 7.704618684314335,
                "groups": {"2011": 8.0, "2018": 20.0, "2019": 20.0, "2020": 20.0},
                "extra_victims_per_removal": 115.86275429540858,
            },
            {
                "factor": 1.0,
                "faction_alliance_share": 0.5,
                "loss": 49.41182520837634,
                "groups_loss": 15.231129781314952,
                "homicides_loss": 2.2258050477379334,
                "dickenson_loss": 31.954890379323462,
                "groups": {"2011": 8.0, "2018": 23.5, "2019": 24.5, "2020": 24.5},
                "extra_victims_per_removal": 868.1883379444262,
            },
            {
                "factor": 1.0,
                "faction_alliance_share": 0.75,
                "loss": 38.21281753036585,
                "groups_loss": 14.323650450523793,
                "homicides_loss": 1.8252548031496922,
                "dickenson_loss": 22.06391227669236,
                "groups": {"2011": 8.0, "2018": 25.0, "2019": 27.0, "2020": 27.0},
                "extra_victims_per_removal": 444.72646983731266,
            },
            {
                "factor": 1.0,
                "faction_alliance_share": 1.0,
                "loss": 32.20731771585396,
                "groups_loss": 15.231129781314952,
                "homicides_loss": 3.533136981714593,
                "dickenson_loss": 13.443050952824414,
                "groups": {"2011": 8.0, "2018": 23.5, "2019": 24.5, "2020": 24.5},
                "extra_victims_per_removal": 216.14216089165285,
            },
            {
                "factor": 1.5,
                "faction_alliance_share": 0.5,
                "loss": 50.54282426946103,
                "groups_loss": 10.669387987896748,
                "homicides_loss": 3.7970912326476576,
                "dickenson_loss": 36.07634504891662,
                "groups": {"2011": 11.0, "2018": 32.0, "2019": 34.0, "2020": 34.0},
                "extra_victims_per_removal": 1111.931417435499,
            },
            {
                "factor": 1.5,
                "faction_alliance_share": 0.75,
                "loss": 38.09236582742236,
                "groups_loss": 10.669387987896748,
                "homicides_loss": 1.6937059799697671,
                "dickenson_loss": 25.729271859555848,
                "groups": {"2011": 11.0, "2018": 32.0, "2019": 34.0, "2020": 34.0},
                "extra_victims_per_removal": 578.2953777204591,
            },
            {
                "factor": 1.5,
                "faction_alliance_share": 1.0,
                "loss": 29.620376924143027,
                "groups_loss": 10.669387987896748,
                "homicides_loss": 2.1547319489445904,
                "dickenson_loss": 16.79625698730169,
                "groups": {"2011": 11.0, "2018": 32.0, "2019": 34.0, "2020": 34.0},
                "extra_victims_per_removal": 292.4311550065034,
            },
            {
                "factor": 2.0,
                "faction_alliance_share": 0.5,
                "loss": 54.41718208210106,
                "groups_loss": 8.428532222225341,
                "homicides_loss": 5.226460540873575,
                "dickenson_loss": 40.76218931900214,
                "groups": {"2011": 13.0, "2018": 39.0, "2019": 41.0, "2020": 41.0},
                "extra_victims_per_removal": 1448.917248606675,
            },
            {
                "factor": 2.0,
                "faction_alliance_share": 0.75,
                "loss": 39.493661284971104,
                "groups_loss": 8.153248947713815,
                "homicides_loss": 1.8939737486707988,
                "dickenson_loss": 29.446438588586492,
                "groups": {"2011": 13.0, "2018": 39.5, "2019": 43.0, "2020": 43.0},
                "extra_victims_per_removal": 740.9423261967665,
            },
            {
                "factor": 2.0,
                "faction_alliance_share": 1.0,
                "loss": 29.17714584071586,
                "groups_loss": 8.238083955580452,
                "homicides_loss": 1.5471059981274324,
                "dickenson_loss": 19.391955887007974,
                "groups": {"2011": 13.0, "2018": 40.0, "2019": 42.0, "2020": 42.0},
                "extra_victims_per_removal": 362.1083921523515,
            },
            {
                "factor": 2.7142857142857144,
                "faction_alliance_share": 0.5,
                "loss": 60.21500284366866,
                "groups_loss": 6.191363902416839,
                "homicides_loss": 6.577832322301452,
                "dickenson_loss": 47.445806618950364,
                "groups": {"2011": 16.0, "2018": 48.5, "2019": 50.5, "2020": 50.5},
                "extra_victims_per_removal": 2061.24789449364,
            },
            {
                "factor": 2.7142857142857144,
                "faction_alliance_share": 0.75,
                "loss": 43.64813957911269,
                "groups_loss": 6.026286368543076,
                "homicides_loss": 2.1613947825584945,
                "dickenson_loss": 35.460458428011115,
                "groups": {"2011": 16.0, "2018": 48.5, "2019": 52.5, "2020": 52.5},
                "extra_victims_per_removal": 1072.567537047054,
            },
            {
                "factor": 2.7142857142857144,
                "faction_alliance_share": 1.0,
                "loss": 32.31337991464189,
                "groups_loss": 6.148918364145416,
                "homicides_loss": 1.257444475323221,
                "dickenson_loss": 24.907017075173258,
                "groups": {"2011": 16.0, "2018": 48.5, "2019": 51.0, "2020": 51.0},
                "extra_victims_per_removal": 546.1468126653551,
            },
        ],
        "best": {"factor": 0.75, "faction_alliance_share": 1.0, "loss": 29.16054422573879},
    },
    "at_fit": {
        "backcast": {
            "groups": {"2011": 8.0, "2018": 20.0, "2019": 21.0, "2020": 21.0},
            "homicides": {
                "2008": 11605.943084975243,
                "2009": 12002.609353760989,
                "2010": 13156.854033403288,
                "2011": 13878.163379077632,
                "2012": 16929.075103356983,
                "2013": 14715.733055892331,
                "2014": 14996.447554468043,
                "2015": 18489.48079085893,
                "2016": 20537.043233040706,
                "2017": 23296.07071253008,
                "2018": 26555.32788338056,
                "2019": 25834.344751127945,
                "2020": 27568.566049936817,
            },
            "groups_loss": 17.01350550108881,
            "homicides_loss": 4.070649241408599,
        },
        "dickenson": {"extra_victims": 120.01253344787196, "se": 49.125670326770354, "loss": 7.9862234152063},
    },
    "wall_time_s": 926.1,
}
