"""The 2007-2020 backcast: a validation experiment with its own 2007 start state (``models/organisation.md``).

**Start state (2007-01-01).** The handful of major organisations of 2007, as groups of the 2020 network
whose neutral labels name them: Sinaloa, Golfo, Zetas, Juárez, and the Michoacán organisation's successor
node (NFMichoacana). The Tijuana organisation of the time has no neutrally labelled node in the network and
is left out (its members are shared among the five). Each gets a fifth of the members (assumption); the
other 145 groups start empty and every new group comes from a fission. The total is the one the ecosystem
implies: the 2007 total from which the ecosystem alone, with these five groups and the spec's parameters,
reaches ``initial_members`` (115,000, Prieto-Curiel et al. 2023) on 2012-01-01 (:func:`start_total`). The
rivalries and alliances among them are the 2020 network's (no older network exists; an anachronism).

**Removals (rates only, never a list).** Leaders removed per year, uniformly among the country's leaders,
from the spec's table (government lists via the press): 20 of the 37 most wanted by January 2011 (the list
was published in March 2009), 25 by November 2012, 33 by April 2015; 108 of the 122 priority targets by
the end of 2018 (the list of December 2012). Before the first list, Dickenson (2014) counts 25 removals in
2007-2010, of which the list's 20 came after March 2009: the other 5 are spread over 2007-2009. From 2013 the
122-target list's rate is used alone (the two lists overlap; assumption). None after 2018 (the table ends;
assumption). :data:`KILLING_SHARE` of the removals are killings (assumption), the rest captures.

**Compared** (:func:`backcast`), by year: the number of groups (``n_cartels``: factions with at least one
member), and the estimated homicides: the model's estimated victims (homicides plus missing persons,
conflict deaths / ``victim_share_cartel``) times the share of homicides in homicides plus missing persons
(``Trends2012_2021.csv`` for 2012-2020; its 2012-2021 mean before 2012, when the missing-persons register
barely existed; assumption). Also the "major" organisations (at least :data:`MAJOR_SHARE` of all members;
assumption) beside the Congressional Research Service's count of major cartels.

Examples
--------
>>> round(start_total() / 1000)  # thousand members on 2007-01-01
106
>>> [round(r, 1) for r in yearly_removals()[:5]]
[2.3, 2.3, 9.5, 10.8, 2.7]

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from cartelsim.draws import ECO
from cartelsim.ecosystem import EcosystemModel, Flows
from cartelsim.network import load_network
from cartelsim.organisation.layer import OrganisationLayer
from cartelsim.params import defaults
from cartelsim.rng import Streams, replicate_seeds
from cartelsim.simulation import run_weeks

__all__ = [
    "END",
    "GROUPS_2007",
    "KILLING_SHARE",
    "MAJOR_SHARE",
    "START",
    "Backcast",
    "backcast",
    "homicide_share",
    "homicides",
    "start_state",
    "start_total",
    "week_of",
    "weekly_removals",
    "yearly_removals",
]

START, END = dt.date(2007, 1, 1), dt.date(2021, 1, 1)
YEARS = tuple(range(START.year, END.year))
#: Node ids of the five organisations of 2007 (labels Sinaloa, Golfo, Zetas, Juárez, NFMichoacana).
GROUPS_2007: tuple[str, ...] = ("N10013", "N10017", "N10134", "N10005", "N10076")
#: Share of the removals that are killings (assumption: most removals of the period were arrests).
KILLING_SHARE = 0.15
#: A "major" organisation holds at least this share of all members (assumption, for the CRS comparison).
MAJOR_SHARE = 0.02

#: (from, to, removals): the spec's table as periods (PGR lists and government reports via the press;
#: Dickenson, J. Quant. Criminology 30(4), 2014, for 2007-2009).
PERIODS: tuple[tuple[dt.date, dt.date, float], ...] = (
    (dt.date(2007, 1, 1), dt.date(2009, 3, 1), 5.0),  # Dickenson's 25 in 2007-2010 less the list's 20
    (dt.date(2009, 3, 1), dt.date(2011, 1, 1), 20.0),  # 20 of the 37 most wanted by January 2011
    (dt.date(2011, 1, 1), dt.date(2012, 11, 1), 5.0),  # 25 by November 2012
    (dt.date(2012, 11, 1), dt.date(2013, 1, 1), 8.0 * 2 / 29),  # 33 by April 2015: 8 over 29 months
    (dt.date(2013, 1, 1), dt.date(2019, 1, 1), 108.0),  # 108 of 122 priority targets by end 2018
)

#: National homicides by year of registration (INEGI, via models/organisation.md), before Trends2012_2021.
INEGI_2006_2011 = {2006: 10_452, 2007: 8_867, 2008: 14_006, 2009: 19_803, 2010: 25_757, 2011: 27_213}
#: Homicides and missing persons 2012-2021 (Trends2012_2021.csv, Prieto-Curiel et al. 2023's data).
TRENDS = {
    2012: (25_967, 10_760),
    2013: (23_063, 17_614),
    2014: (20_013, 17_887),
    2015: (20_763, 13_442),
    2016: (24_560, 14_630),
    2017: (32_082, 17_335),
    2018: (36_687, 17_123),
    2019: (36_662, 23_272),
    2020: (36_773, 22_943),
    2021: (35_625, 22_470),
}


def week_of(d: dt.date) -> int:
    """The backcast's week of date ``d`` (week 0 = 2007-01-01; DESIGN.md's rule)."""
    return 52 * (d.year - START.year) + min(51, (d.timetuple().tm_yday - 1) // 7)


def weekly_removals() -> np.ndarray:
    """Leaders removed per week over 2007-2020 (the table's periods, spread evenly)."""
    out = np.zeros(week_of(END))
    for a, b, n in PERIODS:
        wa, wb = week_of(a), week_of(b)
        out[wa:wb] += n / (wb - wa)
    return out


def yearly_removals() -> list[float]:
    """Leaders removed per calendar year 2007-2020."""
    return weekly_removals().reshape(-1, 52).sum(1).tolist()


def homicide_share(year: int) -> float:
    """Share of homicides in homicides plus missing persons (Trends2012_2021; its mean before 2012)."""
    if year in TRENDS:
        h, m = TRENDS[year]
        return h / (h + m)
    return float(np.mean([h / (h + m) for h, m in TRENDS.values()]))


def homicides(year: int) -> float:
    """INEGI's national homicides of ``year`` (2006-2011 from the spec, then Trends2012_2021)."""
    return float(INEGI_2006_2011[year] if year in INEGI_2006_2011 else TRENDS[year][0])


def start_state(total: float) -> np.ndarray:
    """Members per network group on 2007-01-01: ``total`` shared equally by :data:`GROUPS_2007` (shape (150,))."""
    net = load_network()
    c = np.zeros(net.n)
    c[[net.ids.index(g) for g in GROUPS_2007]] = total / len(GROUPS_2007)
    return c


@lru_cache(maxsize=8)
def start_total(target: float | None = None) -> float:
    """The 2007 total from which the ecosystem alone reaches ``target`` (``initial_members``) on 2012-01-01."""
    p = defaults()
    goal = p["initial_members"] if target is None else target
    model = EcosystemModel(load_network())
    eco = [np.array([p[k]]) for k in ECO]

    def gap(total: float) -> float:
        c = start_state(total)[None, :]
        f: Flows | None = None
        for _ in range(week_of(dt.date(2012, 1, 1))):
            f = model.flows(c, eco[0], eco[1], eco[2], eco[3], out=f)
            f.apply(c)
        return float(c.sum() - goal)

    return float(brentq(gap, 0.2 * goal, goal, xtol=1.0))


@dataclass
class Backcast:
    """Yearly results of :func:`backcast` (arrays of shape (replicates, years), years 2007-2020).

    ``removals`` counts leaders removed by any cause (``new_leaders_removed``); ``targeted`` (shape
    (replicates, weeks)) the removals applied from the table's rates, per week, in leaders.
    """

    years: tuple[int, ...]
    groups: np.ndarray
    major: np.ndarray
    homicides: np.ndarray
    members: np.ndarray
    removals: np.ndarray
    fissions: np.ndarray
    targeted: np.ndarray


def backcast(
    replicates: int = 10,
    scale: float = 0.5,
    seed: int = 20070101,
    overrides: Mapping[str, float] | None = None,
) -> Backcast:
    """Run the backcast (see the module docstring); yearly values per replicate.

    ``groups`` and ``major`` are counted on 1 July of each year; ``homicides``, ``removals`` and
    ``fissions`` are yearly totals; ``members`` on 1 July.
    """
    p = defaults({"organisation_scale": scale, **(overrides or {})})
    seeds = replicate_seeds(seed, replicates)
    c0 = start_state(start_total())
    rate = weekly_removals()
    acc = np.zeros(replicates)
    streams = Streams(seeds)
    weeks = rate.size

    def before(w: int, state: np.ndarray, layer: OrganisationLayer, flows: Flows | None) -> None:
        acc[:] += rate[w] * scale
        k = np.floor(acc).astype(np.int64)
        acc[:] -= k
        if k.any():
            killing = np.array([streams.generator("validation/backcast_killing", w, r).random() < KILLING_SHARE
                                for r in range(replicates)])  # fmt: skip
            layer.queue_removals(k, killing)

    major = np.zeros((replicates, weeks))
    targeted = np.zeros((replicates, weeks))

    def after(w: int, state: np.ndarray, layer: OrganisationLayer, flows: Flows | None) -> None:
        targeted[:, w] = layer.removed_by_code / scale
        if w % 52 == 26:
            share = state / state.sum(1, keepdims=True)
            major[:, w] = ((share >= MAJOR_SHARE) & layer.counted).sum(1)

    out = run_weeks(np.tile(c0, (replicates, 1)), [p] * replicates, seeds, weeks, before=before, after=after)
    nat = out.national
    n_y = weeks // 52
    yearly = {k: nat[k].reshape(replicates, n_y, 52) for k in nat}
    share = np.array([homicide_share(y) for y in YEARS[:n_y]])
    victims = yearly["new_conflict_deaths"].sum(2) / p["victim_share_cartel"]
    return Backcast(
        years=YEARS[:n_y],
        groups=yearly["n_cartels"][:, :, 26],
        major=major.reshape(replicates, n_y, 52)[:, :, 26],
        homicides=victims * share[None, :],
        members=yearly["n_members"][:, :, 26],
        removals=yearly["new_leaders_removed"].sum(2),
        fissions=yearly["new_fissions"].sum(2),
        targeted=np.diff(targeted, axis=1, prepend=0.0),
    )
