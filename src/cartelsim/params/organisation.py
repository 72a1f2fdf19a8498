"""Parameters of the organisation layer (``models/organisation.md``), declared once.

Every default is either cited or the literal "assumption", with a default uncertainty range: the spec's
where it gives one, otherwise x0.5 to x2 (itself an assumption) so that sensitivity analysis can say how
much a conclusion hangs on it. Registered into the flat namespace by explicit lines at the end of
:mod:`cartelsim.params`: ``ORGANISATION`` (members, cells, assets, the campaign chain) and ``ADAPTATION``
(replacement, succession and fission, violence after removals; four defaults fitted by
``data-raw/fit_organisation_adaptation.py``, see :mod:`cartelsim.params.organisation_fitted`).

Role exposure (the weights by which the ecosystem's removals are shared among a cartel's roles) is our
assumption, not the spec's: a member's chance of being the one arrested (or killed in conflict) this week
is proportional to its role's factor, gunmen being the reference (1). Saturation exits fall on every role
alike.

Examples
--------
>>> from cartelsim.params import PARAMS
>>> PARAMS["cell_size_mean_members"].default, PARAMS["cell_size_mean_members"].range
(60.0, (20.0, 200.0))
>>> PARAMS["detect_per_sortie_plaza_boss"].source
'assumption'

"""

from __future__ import annotations

from cartelsim.params.organisation_fitted import FITTED, SOURCE  # the fitted defaults (a generated module)
from cartelsim.params.spec import ParamSpec

__all__ = ["ADAPTATION", "ORGANISATION"]

A = "assumption"
SPEC = A  # the spec's (models/organisation.md) assumptions: the literal "assumption" as source


def _x(default: float, lo: float = 0.5, hi: float = 2.0) -> tuple[float, float]:
    return (default * lo, default * hi)


def _role_share(role: str, default: float, what: str) -> ParamSpec:
    return ParamSpec(
        f"role_share_{role}",
        default,
        0.0,
        1.0,
        "share of a cell's members",
        f"share of a cell's members (after leaders and its plaza boss) who are {what}; shares summing above 1 "
        "are renormalised, the rest are gunmen",
        SPEC,
        range=_x(default),
    )


def _detect(what: str, key: str, default: float) -> ParamSpec:
    return ParamSpec(
        f"detect_per_sortie_{key}",
        default,
        0.0,
        0.1,
        "detection hazard per sortie",
        f"surveillance: each week a {what} is detected with p = 1 - exp(-sorties * this * detection_factor) "
        "(the rate with Mexico's cooperation)",
        SPEC,
        range=_x(default, 0.2, 5.0),
    )


def _exposure(kind: str, role: str, default: float, why: str) -> ParamSpec:
    return ParamSpec(
        f"{kind}_exposure_{role}_factor",
        default,
        0.0,
        20.0,
        "relative hazard (gunmen = 1)",
        f"{'arrests' if kind == 'arrest' else 'conflict deaths'} fall on a {role.replace('_', ' ')} with this "
        f"weight relative to a gunman ({why})",
        A,
        range=_x(default),
    )


ORGANISATION: tuple[ParamSpec, ...] = (
    ParamSpec(
        "organisation_scale",
        1.0,
        0.01,  # assumption: below 1% the layer holds about a thousand agents and its whole-number events
        # (leaders, strikes) vanish; memory grows with it (about 40 bytes per agent: 115,000 members at 1)
        1.0,
        "agents per member",
        "synthetic agents per cartel member (1: one agent each); below 1 every count of the layer (agents, "
        "cells, assets, leaders, strikes) is scaled and outputs are divided by it again (a numerical setting, "
        "not an uncertainty)",
        A,
    ),
    ParamSpec(
        "cell_size_mean_members",
        60.0,
        5.0,
        2000.0,
        "members per cell",
        "mean members per cell (one cell per plaza); a cartel has max(1, round(members / this)) cells",
        SPEC,
        range=(20.0, 200.0),
    ),
    ParamSpec(
        "cell_size_cv",
        0.5,
        0.0,
        3.0,
        "coefficient of variation",
        "spread of cell sizes within a cartel: cells draw gamma weights of this coefficient of variation",
        A,
        range=(0.1, 1.0),
    ),
    ParamSpec(
        "members_per_extra_leader",
        2000.0,
        100.0,
        1e6,
        "members per leader",
        "a cartel has 1 leader plus 1 per this many members (at most leaders_per_cartel_max)",
        SPEC,
        range=_x(2000.0),
    ),
    ParamSpec(
        "leaders_per_cartel_max",
        5.0,
        1.0,
        50.0,
        "leaders",
        "most leaders a cartel has (rounded to a whole number)",
        SPEC,
        range=(3.0, 10.0),
    ),
    _role_share("gunman", 0.35, "gunmen"),
    _role_share("lookout", 0.25, "lookouts"),
    _role_share("logistics", 0.20, "logistics members (transport, storage)"),
    _role_share("production", 0.10, "production members"),
    _role_share("finance", 0.05, "finance members"),
    ParamSpec(
        "safe_houses_per_cell",
        2.0,
        0.0,
        50.0,
        "safe houses per cell",
        "safe houses per cell (generated; never on a target list)",
        SPEC,
        range=(1.0, 5.0),
    ),
    ParamSpec(
        "warehouses_per_cell",
        1.0,
        0.0,
        50.0,
        "warehouses per cell",
        "warehouses per cell (a cell traffics at full capacity only with at least one)",
        SPEC,
        range=(0.0, 3.0),
    ),
    ParamSpec(
        "labs_per_cell",
        0.5,
        0.0,
        50.0,
        "labs per cell",
        "labs per cell, only in producing regions: placed only when the geography layer is on",
        SPEC,
        range=(0.0, 2.0),
    ),
    ParamSpec(
        "vehicles_per_cell",
        6.0,
        0.0,
        500.0,
        "vehicles per cell",
        "vehicles per cell (a cell traffics at full capacity only with at least one)",
        SPEC,
        range=(2.0, 20.0),
    ),
    ParamSpec(
        "asset_rebuild_weeks",
        8.0,
        1.0,
        520.0,
        "weeks",
        "mean delay before a destroyed asset is rebuilt (geometric, at least 1 week)",
        SPEC,
        range=(2.0, 26.0),
    ),
    _detect("leader", "leader", 2e-5),
    _detect("plaza boss", "plaza_boss", 1e-4),
    _detect("member of any other role", "member", 2e-5),
    _detect("warehouse", "warehouse", 5e-4),
    _detect("lab", "lab", 5e-4),
    _detect("vehicle", "vehicle", 2e-4),
    ParamSpec(
        "strike_success_probability",
        0.7,
        0.0,
        1.0,
        "probability",
        "probability that a strike hits its entry (a failed strike is repeated on the same entry); the default "
        "of strike_campaign's success_probability",
        SPEC,
        range=(0.4, 0.95),
    ),
    ParamSpec(
        "misidentification_share",
        0.1,
        0.0,
        1.0,
        "share of list entries",
        "share of target-list entries that are not members (a misidentified strike kills civilians only); the "
        "default of strike_campaign's misidentification_share. Context: of those killed by US drones in "
        "Pakistan 2004-2014 only 29.6% were identified (The Bureau of Investigative Journalism, 'Naming the Dead')",
        SPEC,
        range=(0.02, 0.3),
    ),
    ParamSpec(
        "civilian_deaths_per_strike_mean",
        0.7,
        0.0,
        100.0,
        "deaths per strike",
        "mean bystanders killed per strike (negative binomial); the default of strike_campaign's key",
        "New America, US drone strikes in Pakistan (via models/organisation.md); range: US government figures "
        "2009-2015 (0.14) to The Bureau of Investigative Journalism, Pakistan all years (2.3)",
        range=(0.14, 2.3),
    ),
    ParamSpec(
        "civilian_deaths_dispersion",
        1.0,
        0.0,
        1000.0,
        "dispersion",
        "negative-binomial dispersion of bystanders per strike (variance = mean + mean^2 / dispersion)",
        SPEC,
        range=(0.3, 5.0),
        low_open=True,
    ),
    ParamSpec(
        "unilateral_detection_factor",
        0.5,
        0.0,
        1.0,
        "factor",
        "unilateral action (no Mexican intelligence) multiplies detection per sortie by this",
        SPEC,
        range=(0.2, 1.0),
    ),
    ParamSpec(
        "unilateral_backlash_factor",
        0.8,
        0.0,
        2.0,
        "factor",
        "unilateral action multiplies Mexican incapacitation (incapacitation_per_week) by this",
        SPEC,
        range=(0.5, 1.0),
    ),
    _exposure("arrest", "leader", 0.25, "insulated by layers of subordinates"),
    _exposure("arrest", "plaza_boss", 0.75, "known locally, protected"),
    _exposure("arrest", "lookout", 1.25, "on the street, most visible to police"),
    _exposure("arrest", "logistics", 1.0, "moves goods through checkpoints"),
    _exposure("arrest", "production", 0.5, "works out of sight"),
    _exposure("arrest", "finance", 0.5, "works out of sight"),
    _exposure("conflict", "leader", 0.1, "rarely in the fighting"),
    _exposure("conflict", "plaza_boss", 0.75, "a target of rivals"),
    _exposure("conflict", "lookout", 0.5, "near the fighting, unarmed"),
    _exposure("conflict", "logistics", 0.25, "exposed in transit"),
    _exposure("conflict", "production", 0.1, "rarely in the fighting"),
    _exposure("conflict", "finance", 0.1, "rarely in the fighting"),
)


# -- adaptation (part 2): replacement, succession and fission, violence after removals ---------------------
# Defaults marked FIT come from data-raw/fit_organisation_adaptation.py, which writes
# src/cartelsim/params/organisation_fitted.py (the values, what they were fitted to, and the script as source).

DUIJN = "Duijn, Kashirin & Sloot, Sci. Reports 4:4238 (2014): the mechanism; the value is an assumption"


def _fitted(name: str, low: float, high: float, unit: str, doc: str, rng: tuple[float, float]) -> ParamSpec:
    """A parameter whose default the calibration script fits (the spec's assumption until it has run)."""
    value, fitted = FITTED[name]
    return ParamSpec(name, float(value), low, high, unit, doc, SOURCE if fitted else SPEC, range=rng)


ADAPTATION: tuple[ParamSpec, ...] = (
    ParamSpec(
        "replacement_cell_role_weeks",
        4.0,
        1.0,
        520.0,
        "weeks",
        "mean delay before a cell's missing logistics, production or finance member is replaced (geometric: "
        "each open vacancy is filled with probability 1 / this per week), by promotion of a gunman or lookout",
        DUIJN,
        range=(2.0, 12.0),
    ),
    ParamSpec(
        "replacement_plaza_boss_weeks",
        12.0,
        1.0,
        520.0,
        "weeks",
        "mean delay before a cell without a plaza boss gets one (geometric), promoted inside the cell",
        DUIJN,
        range=(6.0, 36.0),
    ),
    ParamSpec(
        "succession_weeks",
        4.0,
        1.0,
        520.0,
        "weeks",
        "mean delay before a missing leader is succeeded (geometric) by a plaza boss of the cartel",
        A,
        range=(2.0, 12.0),
    ),
    ParamSpec(
        "rewire_probability",
        0.5,
        0.0,
        1.0,
        "probability",
        "each tie orphaned by a removal is re-formed with this probability (explicit tie networks: "
        "cartelsim.organisation.rewiring; the weekly layer's ties follow roles and cells)",
        DUIJN,
        range=(0.1, 0.9),
    ),
    ParamSpec(
        "rewiring_rule",
        0.0,
        0.0,
        2.0,
        "choice (rounded): 0 random, 1 by degree, 2 by distance",
        "whom an orphaned tie re-forms with: anyone (0), preferentially the best connected (1), or the nearest, "
        "a neighbour of the removed member (2)",
        DUIJN,
        range=(0.0, 2.0),
    ),
    _fitted(
        "fission_probability_1000_members",
        0.0,
        1.0,
        "probability",
        "probability that a cartel of 1,000 members splits when a targeted removal takes one of its leaders "
        "(log-linear in size between the two anchors; times 1 - 1/contenders, the plaza bosses)",
        (0.05, 0.3),
    ),
    _fitted(
        "fission_probability_20000_members",
        0.0,
        1.0,
        "probability",
        "probability that a cartel of 20,000 members splits when a targeted removal takes one of its leaders",
        (0.15, 0.6),
    ),
    ParamSpec(
        "fission_breakaway_share",
        0.5,
        0.0,
        1.0,
        "share of cells",
        "in a fission each of the parent's cells (but the leaders' and the contender's own) joins the "
        "breakaway faction with this probability",
        A,
        range=(0.25, 0.5),
    ),
    ParamSpec(
        "faction_rivalry_weight",
        3.0,
        0.0,
        100.0,
        "states of rivalry (the network's weight unit)",
        "rivalry weight R between the two factions of a fission (the network's weights count states of rivalry)",
        SPEC,
        range=(1.0, 10.0),
    ),
    ParamSpec(
        "faction_rivalry_share",
        1.0,
        0.0,
        1.0,
        "share of each rivalry weight",
        "each faction inherits this share of every rivalry weight of its parent (1: its members fight the "
        "parent's rivals as the parent's did, the weight being an intensity per member pair, so those conflicts "
        "are conserved; 0.5: the rivalry is divided between the two)",
        A,
        range=(0.5, 1.0),
    ),
    _fitted(
        "faction_alliance_share",
        0.0,
        1.0,
        "share of the alliance strength",
        "each faction inherits this share of its parent's alliance strength (0.5: the allies' protection is "
        "divided between the factions, each more exposed to conflict; 1: both keep all of it); the allies' own "
        "strength is unchanged",
        (0.25, 1.0),
    ),
    _fitted(
        "removal_violence_leader_factor",
        1.0,
        20.0,
        "conflict multiplier",
        "a targeted capture of a leader multiplies the conflict of its cartel in the leader's places (its "
        "cell: the cartel's conflict by the cell's share of members) by this, for removal_violence_weeks",
        (1.07, 2.0),
    ),
    ParamSpec(
        "removal_violence_killing_factor",
        1.5,
        1.0,
        10.0,
        "factor on the excess",
        "a killing (a strike) multiplies the excess (multiplier - 1) of a capture by this: killing raises "
        "violence more than capture (direction: Dickenson 2014; Phillips 2015; the size is an assumption)",
        A,
        range=(1.0, 3.0),
    ),
    ParamSpec(
        "removal_violence_plaza_boss_share",
        0.5,
        0.0,
        1.0,
        "share of a leader's excess",
        "a targeted removal of a plaza boss raises the conflict in its cell by this share of a leader's excess",
        A,
        range=(0.0, 1.0),
    ),
    _fitted(
        "removal_violence_weeks",
        1.0,
        520.0,
        "weeks",
        "how long the rise in violence after a targeted removal lasts (Lindo & Padilla-Romo 2015: at least 12 months)",
        (26.0, 104.0),
    ),
)
