"""Organisation layer checks for ``cartelsim validate``: the kingpin literature, Duijn's recovery, the backcast.

Each row prints the literature's value beside the model's, with the tolerance stated; gaps are shown,
never tuned away (the fitted values and what they were fitted to: :mod:`cartelsim.params.organisation_fitted`).

- **One leader removal** (:func:`cartelsim.validation.kingpin.single_removal`: paired counterfactual,
  one seed per pair, 2012 start): the rise of the cartel's conflict deaths in the removed leader's places
  over months 0-6 and 0-12 against Calderon et al. (2015) and Lindo & Padilla-Romo (2015); the extra
  estimated victims nationally per removal over four years against Dickenson (2014); killing against
  capture (Dickenson 2014; Phillips 2015).
- **Duijn's recovery** (:func:`duijn_recovery`): a synthetic cartel of 1,000 members loses the 2% of
  members with the most ties; efficiency and density after replacement (a year of the layer's refill)
  and rewiring, against their values before.
- **Backcast 2007-2020** (:func:`cartelsim.validation.backcast.backcast`): groups and estimated homicides
  by year against Atuesta & Perez-Davila / CIDE / BACRIM and INEGI; the removals applied, as rates.
- **Layers agree**: with no campaign, members and conflict deaths within 1% of the ecosystem-only run.

Examples
--------
>>> rows = organisation_checks(quick=True)  # doctest: +SKIP
>>> sorted({c.group for c in rows})  # doctest: +SKIP
['organisation: Duijn recovery', 'organisation: backcast 2007-2020', 'organisation: layers agree', ...]

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cartelsim.validation.ecosystem import Check

__all__ = ["DuijnRecovery", "duijn_recovery", "organisation_checks"]

CALDERON = "Calderon, Robles, Diaz-Cayeros & Magaloni, J. Conflict Resolution 59(8), 2015, Table 2"
LINDO = "Lindo & Padilla-Romo, NBER w21171 / IZA DP 9067 (2015)"
DICKENSON = "Dickenson, J. Quant. Criminology 30(4), 2014"
PHILLIPS = "Phillips, J. Politics 77(2), 2015"
DUIJN = "Duijn, Kashirin & Sloot, Sci. Reports 4:4238, 2014"
GROUPS_SRC = "Atuesta & Perez-Davila 2018; CIDE; BACRIM 2020 (via models/organisation.md)"
CRS = "CRS R41576 (via models/organisation.md)"
INEGI = "INEGI homicides by year of registration (2006-2011: models/organisation.md; then Trends2012_2021.csv)"
LISTS = "PGR lists and government reports via the press (models/organisation.md); Dickenson 2014 for 2007-2009"

#: Tolerances (assumptions, stated with every row).
LINDO_PP = 30.0  # "about +80%": within 30 percentage points
DICKENSON_FACTOR = 3.0  # "about 17": within a factor of 3
DUIJN_FLOOR = 0.98  # "return to or exceed": at least 98% of the initial value (sampling noise of one network)
GROUPS_FACTOR = 1.5  # counts under broad definitions: within a factor of 1.5
HOMICIDES_REL = 0.25  # yearly homicides: within 25%
AGREE_REL = 0.01  # the spec's 1%


def _pct(x: float) -> float:
    return round(100.0 * x, 1)


def kingpin_checks(replicates: int, scale: float) -> list[Check]:
    """The single-removal rows (paired counterfactual)."""
    from cartelsim.validation.kingpin import single_removal

    r = single_removal(replicates=replicates, scale=scale)
    g = "organisation: one leader removal"
    cap, kil = r.local["capture"], r.local["killing"]
    where = f"{r.replicates} pairs, 2012 start, cartel drawn by size"
    out = [
        Check(g, f"capture: conflict deaths in the leader's places, months 0-6, vs paired counterfactual ({where})",
              36.5, _pct(cap["0-6m"]), "% rise", "inside the 95% CI +7% to +75%",
              bool(7.0 <= 100 * cap["0-6m"] <= 75.0), CALDERON),
        Check(g, "capture: the same, months 0-12", 80.0, _pct(cap["0-12m"]), "% rise",
              f"{LINDO_PP:g} pp abs (assumption: 'about')", bool(abs(100 * cap["0-12m"] - 80.0) <= LINDO_PP), LINDO),
        Check(g, "capture: still raised in months 6-12 ('lasting at least 12 months')", "> 0", _pct(cap["6-12m"]),
              "% rise", "sign", bool(cap["6-12m"] > 0), LINDO),
        Check(g, "extra estimated victims nationally per leader removed, 4 years (capture; paired)",
              round(415 / 25, 1), round(r.extra_victims["capture"], 1), "persons per removal",
              f"factor {DICKENSON_FACTOR:g} (assumption)",
              bool(1 / DICKENSON_FACTOR <= r.extra_victims["capture"] / (415 / 25) <= DICKENSON_FACTOR), DICKENSON),
        Check(g, "standard error of the line above over pairs", "-", round(r.extra_victims_se["capture"], 1),
              "persons per removal", "-", None, "model output"),
        Check(g, "killing vs capture: rise in the leader's places, months 0-6", "killing > capture",
              f"killing {_pct(kil['0-6m']):+}%, capture {_pct(cap['0-6m']):+}%", "", "order",
              bool(kil["0-6m"] > cap["0-6m"]), f"{DICKENSON}; {PHILLIPS}"),
        Check(g, "killing vs capture: extra estimated victims nationally, 4 years", "killing > capture",
              f"killing {r.extra_victims['killing']:.1f}, capture {r.extra_victims['capture']:.1f}", "", "order",
              bool(r.extra_victims["killing"] > r.extra_victims["capture"]), DICKENSON),
        Check(g, "capture of mid-level leaders can lower violence briefly", "a brief fall",
              "not modelled: every targeted removal raises violence in its places", "", "-", None, PHILLIPS),
        Check(g, "share of removals followed by a fission", "-", _pct(r.fission_share["capture"]), "%", "-", None,
              "model output"),
    ]  # fmt: skip
    return out


@dataclass(frozen=True)
class DuijnRecovery:
    """Efficiency and density of one synthetic cartel's ties before and after targeted removals."""

    members: int
    removed: int
    efficiency: dict[str, float]
    density: dict[str, float]


def duijn_recovery(members: float = 1000.0, share: float = 0.02, weeks: int = 52, seed: int = 4238) -> DuijnRecovery:
    """Remove the ``share`` of members with the most ties; measure before, after, and after recovery.

    Stages: ``initial``; ``removed`` (the ties they leave simply lost); ``rewired`` (orphaned ties re-formed
    with ``rewire_probability`` by ``rewiring_rule``); ``recovered`` (rewired, and ``weeks`` weeks of the
    layer's replacement: open roles refilled by promotion, their ties following the roles).
    """
    from cartelsim.organisation.adaptation import open_roles, refill
    from cartelsim.organisation.generate import generate
    from cartelsim.organisation.members import remove_member
    from cartelsim.organisation.rewiring import REWIRED, density, efficiency, remove_and_rewire
    from cartelsim.organisation.roles import LEADER, role_shares
    from cartelsim.organisation.ties import RANK_BASE, Ties, rank_id, ties
    from cartelsim.organisation.ties import nodes as node_ids
    from cartelsim.params import defaults
    from cartelsim.philox import stream_keys

    p = defaults({"organisation_scale": 1.0})
    m, cells, _ = generate(np.array([[members]]), [p], [seed], week=0)
    t0 = ties(m, 0)
    nodes = node_ids(m, 0)
    ends, n_ties = np.unique(np.concatenate([t0.src, t0.dst]), return_counts=True)
    at = np.minimum(np.searchsorted(ends, nodes), ends.size - 1)
    deg = np.where(ends[at] == nodes, n_ties[at], 0)
    k = max(1, round(share * nodes.size))
    top = nodes[np.argsort(-deg, kind="stable")[:k]]
    if (top >= RANK_BASE).any():
        raise ValueError("duijn_recovery removes slotted members only (a gunman or lookout has one tie)")
    rest = np.setdiff1d(nodes, top)
    rng = np.random.default_rng(seed)
    lost = remove_and_rewire(t0, nodes, top, 0.0, 0, rng)
    rewired = remove_and_rewire(t0, nodes, top, p["rewire_probability"], p["rewiring_rule"], rng)
    need = m.role_counts()[:, :, LEADER]
    for j in top.tolist():
        remove_member(m.arrays(), 0, j)
    q = np.zeros((1, 7))
    q[0, LEADER] = 1.0 / p["succession_weeks"]
    q[0, 1] = 1.0 / p["replacement_plaza_boss_weeks"]
    q[0, 4:] = 1.0 / p["replacement_cell_role_weeks"]
    keys_f, keys_p = stream_keys([seed], "org/refill"), stream_keys([seed], "org/promote")
    log, n_log = np.zeros((100_000, 4), np.int64), np.zeros(1, np.int64)
    shares = role_shares(p)[None, :]
    for w in range(weeks):
        m.ensure_room(open_roles(m.arrays(), shares))
        promoted = np.zeros((1, 1), np.int64)
        refill(m.arrays(), cells.first, cells.cartel, need, q, shares, keys_f, keys_p, w, promoted, log, n_log)
    if n_log[0] == log.shape[0]:
        raise RuntimeError("duijn_recovery: the promotion log is full")
    # a gunman or lookout promoted keeps the ties they re-formed: their node id becomes their new slot
    done = log[: n_log[0]]
    was, now = rank_id(done[:, 0], done[:, 1], done[:, 2] - 1), done[:, 3]
    order = np.argsort(was)
    was, now = was[order], now[order]

    def follow(x: np.ndarray) -> np.ndarray:
        if not was.size:
            return x
        i = np.minimum(np.searchsorted(was, x), was.size - 1)
        return np.where(was[i] == x, now[i], x)

    rewired = Ties(follow(rewired.src), follow(rewired.dst), rewired.kind)
    struct = ties(m, 0)
    extra = rewired.kind == REWIRED
    both = Ties(
        np.concatenate([struct.src, rewired.src[extra]]),
        np.concatenate([struct.dst, rewired.dst[extra]]),
        np.concatenate([struct.kind, rewired.kind[extra]]),
    )
    after = node_ids(m, 0)
    eff = {"initial": efficiency(t0, nodes), "removed": efficiency(lost, rest), "rewired": efficiency(rewired, rest),
           "recovered": efficiency(both, after)}  # fmt: skip
    den = {"initial": density(t0, nodes), "removed": density(lost, rest), "rewired": density(rewired, rest),
           "recovered": density(both, after)}  # fmt: skip
    return DuijnRecovery(int(nodes.size), int(k), eff, den)


def duijn_checks() -> list[Check]:
    """Duijn et al.'s recovery of efficiency and density after targeted removals with replacement."""
    d = duijn_recovery()
    g = "organisation: Duijn recovery"
    what = f"{d.removed} of {d.members} members with most ties removed"
    out = []
    for name, vals in (("efficiency", d.efficiency), ("density", d.density)):
        ratio = vals["recovered"] / vals["initial"]
        out.append(
            Check(g, f"{name} after removals with replacement and rewiring, vs before ({what})",
                  "returns to or exceeds 1", round(ratio, 3), "ratio to initial",
                  f">= {DUIJN_FLOOR:g} (assumption)", bool(ratio >= DUIJN_FLOOR), DUIJN)
        )  # fmt: skip
        for stage in ("removed", "rewired"):
            out.append(
                Check(g, f"{name} right after the removals ({'no recovery' if stage == 'removed' else 'rewiring'})",
                      "-", round(vals[stage] / vals["initial"], 3), "ratio to initial", "-", None, "model output")
            )  # fmt: skip
    return out


def backcast_checks(replicates: int, scale: float) -> list[Check]:
    """The 2007-2020 backcast: groups, homicides and the removals applied, by year."""
    from cartelsim.validation import backcast as bc

    b = bc.backcast(replicates=replicates, scale=scale)
    yrs = list(b.years)
    g = "organisation: backcast 2007-2020"

    def band(x: np.ndarray) -> str:
        lo, mid, hi = np.quantile(x, [0.1, 0.5, 0.9])
        return f"{mid:,.0f} [{lo:,.0f}, {hi:,.0f}]"

    out = []
    for year, lit in ((2007, 5.0), (2011, 80.0), (2018, 149.0), (2019, 149.0), (2020, 149.0)):
        x = b.groups[:, yrs.index(year)]
        med = float(np.median(x))
        out.append(
            Check(g, f"number of groups (factions with members), {year}, median [10%, 90%] of {replicates}",
                  {2007: "about 5", 2011: "about 80"}.get(year, "148-150"), band(x), "groups",
                  f"factor {GROUPS_FACTOR:g} (assumption)", bool(1 / GROUPS_FACTOR <= med / lit <= GROUPS_FACTOR),
                  GROUPS_SRC)
        )  # fmt: skip
    for year, lit in ((2007, 4), (2018, 9)):
        x = b.major[:, yrs.index(year)]
        out.append(
            Check(g, f"major organisations (>= {bc.MAJOR_SHARE:.0%} of members), {year}", lit, float(np.median(x)),
                  "groups", "-", None, CRS)
        )  # fmt: skip
    for year in yrs:
        x = b.homicides[:, yrs.index(year)]
        lit = bc.homicides(year)
        med = float(np.median(x))
        out.append(
            Check(g, f"national homicides {year} (model: victims x homicide share {bc.homicide_share(year):.2f})",
                  int(lit), round(med), "homicides", f"{HOMICIDES_REL:.0%} rel (assumption)",
                  bool(abs(med / lit - 1) <= HOMICIDES_REL), INEGI)
        )  # fmt: skip
    rates = np.cumsum(bc.weekly_removals())
    done = np.cumsum(b.targeted.mean(0))
    for label, a, z, quoted in (
        ("2007 to January 2011", dt.date(2007, 1, 1), dt.date(2011, 1, 1), "25: 20 of the 37 most wanted + 5 before"),
        ("2011 to November 2012", dt.date(2011, 1, 1), dt.date(2012, 11, 1), "5 more of the 37 (25 by Nov 2012)"),
        ("2013 to 2018", dt.date(2013, 1, 1), dt.date(2019, 1, 1), "108 of 122 priority targets (33 of 37 by 2015)"),
    ):
        wa, wz = bc.week_of(a), bc.week_of(z)
        got = float(done[wz - 1] - (done[wa - 1] if wa else 0.0))
        want = float(rates[wz - 1] - (rates[wa - 1] if wa else 0.0))
        out.append(
            Check(g, f"leaders removed {label}, applied as weekly rates (never a list)", quoted,
                  f"{want:.1f} from the rates, {got:.1f} removed (mean)", "leaders",
                  f"one agent ({1 / scale:g} leaders) abs", bool(abs(got - want) <= 1.0 / scale + 1e-9), LISTS)
        )  # fmt: skip
    return out


def agree_checks() -> list[Check]:
    """With no campaign, the layer on keeps members and conflict deaths within 1% of the ecosystem alone."""
    import cartelsim

    text = (
        '[scenario]\nname = "agree"\nstart = 2012-01-01\nend = 2017-01-01\nrecord = { national = 1, groups = "none" }\n'
        "LAYERS[parameters]\norganisation_scale = 0.2\n"
    )
    layers = 'layers = ["ecosystem", "organisation"]\n'
    eco, org = (
        cartelsim.run(cartelsim.Scenario.from_text(text.replace("LAYERS", x), source="<validation>"), progress=False)
        for x in ("", layers)
    )
    out = []
    for var in ("n_members", "new_conflict_deaths"):
        a, b = eco.select(var)["value"].to_numpy(), org.select(var)["value"].to_numpy()
        gap = float(np.max(np.abs(b / a - 1)))
        out.append(
            Check("organisation: layers agree", f"{var}: layer on, no campaign, vs ecosystem alone, 2012-2016 weekly",
                  "within 1%", f"{100 * gap:.2g}%", "max relative gap", "1% (spec)", bool(gap <= AGREE_REL),
                  "models/organisation.md (internal)")
        )  # fmt: skip
    return out


def organisation_checks(quick: bool = False) -> list[Check]:
    """Every organisation row of ``cartelsim validate`` (``quick``: fewer replicates, for tests).

    The single removal runs 80 pairs and the backcast 20 replicates at ``organisation_scale`` 0.5 (the
    measures are shares and counts of events, which the scale does not change); about a minute.
    """
    return [c for _, step in organisation_steps(quick) for c in step()]


def organisation_steps(quick: bool = False) -> list[tuple[str, Callable[[], list[Check]]]]:
    """The organisation rows as named steps, in order (``cartelsim validate`` shows progress per step)."""
    reps_k, reps_b = (12, 4) if quick else (80, 20)
    return [
        (f"organisation: one leader removal ({reps_k} pairs)", lambda: kingpin_checks(reps_k, 0.5)),
        ("organisation: Duijn recovery", duijn_checks),
        (f"organisation: backcast 2007-2020 ({reps_b} replicates)", lambda: backcast_checks(reps_b, 0.5)),
        ("organisation: layers agree", agree_checks),
    ]
