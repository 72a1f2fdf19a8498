"""Interventions of the organisation layer: strike campaigns, targeted arrests, cooperation (DESIGN.md).

They act in step (3) of the weekly loop: :mod:`cartelsim.organisation` compiles each experiment's
interventions into weekly settings with :meth:`OrganisationIntervention.apply_schedule` (in file order; a
later intervention replaces an earlier one's settings in the weeks they share) and the layer applies them
after the ecosystem's flows. ``cooperation`` with ``mode = "unilateral"`` also scales Mexican
incapacitation (``incapacitation_per_week``) through :meth:`Cooperation.apply_params`, like the ecosystem's
interventions.

A campaign key left out takes the experiment's value of the matching parameter
(``strike_success_probability``, ``misidentification_share``, ``civilian_deaths_per_strike_mean``,
``civilian_deaths_dispersion``, ``unilateral_detection_factor``, ``unilateral_backlash_factor``; see
``cartelsim params`` for their sources and ranges), so those can be made uncertain in ``[uncertainty]``.

The campaign exists only as rates and probabilities acting on synthetic members and assets: its strategies
are fixed orderings of what surveillance happened to detect, never an optimisation of where or whom to
strike (DESIGN.md, "The line we hold").

Examples
--------
>>> import datetime as dt
>>> import numpy as np
>>> c = StrikeCampaign(start=dt.date(2026, 1, 1), sorties_per_week=50.0, strikes_per_week=2.0, target="logistics")
>>> sched = empty_schedule(3)
>>> c.apply_schedule(sched, {"strike_success_probability": 0.7, "misidentification_share": 0.1,
...     "civilian_deaths_per_strike_mean": 0.7, "civilian_deaths_dispersion": 1.0}, np.array([False, True, True]))
>>> sched["strikes"].tolist(), sched["strategy"].tolist()
([0.0, 2.0, 2.0], [-1, 1, 1])

"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cartelsim.distributions import Distribution
from cartelsim.policies.base import Intervention, key

__all__ = [
    "ARREST_TARGETS",
    "COOPERATION_MODES",
    "STRIKE_TARGETS",
    "Cooperation",
    "OrganisationIntervention",
    "StrikeCampaign",
    "TargetedArrests",
    "empty_schedule",
]

#: Values of ``strike_campaign``'s ``target`` (the strategy's code is its index).
STRIKE_TARGETS: tuple[str, ...] = ("leadership", "logistics", "mixed", "opportunistic")
#: Values of ``targeted_arrests``'s ``target``.
ARREST_TARGETS: tuple[str, ...] = ("leaders", "plaza_bosses", "logistics")
#: Values of ``cooperation``'s ``mode``.
COOPERATION_MODES: tuple[str, ...] = ("bilateral", "unilateral")

ETA = "incapacitation_per_week"


def empty_schedule(n_weeks: int) -> dict[str, np.ndarray]:
    """Weekly settings of one experiment with no organisation intervention (absolute weeks)."""
    z = np.zeros(n_weeks)
    return {
        "sorties": z.copy(),
        "strikes": z.copy(),
        "strategy": np.full(n_weeks, -1, np.int64),
        "success": z.copy(),
        "misid": z.copy(),
        "civ_mean": z.copy(),
        "civ_disp": np.ones(n_weeks),
        "detection_factor": np.ones(n_weeks),
        "arrest_share": z.copy(),
        "arrest_target": np.full(n_weeks, -1, np.int64),
    }


def _value(v: float | Distribution | None, params: Mapping[str, float], name: str) -> float:
    if isinstance(v, Distribution):
        raise TypeError(f"draw the distribution of {name!r} first (cartelsim.draws.draw_values)")
    return float(params[name]) if v is None else float(v)


@dataclass(frozen=True)
class OrganisationIntervention(Intervention):
    """Base of the interventions that act in the organisation layer (step 3)."""

    layer = "organisation"

    def apply_schedule(self, sched: dict[str, np.ndarray], params: Mapping[str, float], mask: np.ndarray) -> None:
        """Write this intervention's settings into ``sched`` (see :func:`empty_schedule`) in weeks ``mask``."""


@dataclass(frozen=True)
class StrikeCampaign(OrganisationIntervention):
    """Surveillance sorties and strikes on what they detect, in a fixed order set by ``target``.

    Examples
    --------
    >>> import datetime as dt
    >>> StrikeCampaign(start=dt.date(2026, 1, 1), sorties_per_week=50.0, strikes_per_week=2.0).target
    'leadership'

    """

    type = "strike_campaign"
    sorties_per_week: float = key(
        "number",
        "surveillance sorties per week (each member and asset is detected with p = 1 - exp(-sorties * rate))",
        None,
        unit="sorties per week",
        low=0.0,
        high=10000.0,
        required=True,
    )
    strikes_per_week: float = key(
        "number",
        "strikes per week, on the top of the target list (fewer when the list runs out)",
        None,
        unit="strikes per week",
        low=0.0,
        high=1000.0,
        required=True,
    )
    target: str = key(
        "choice",
        "order of the target list: leaders then plaza bosses, logistics, both alternately, or detection order",
        "leadership",
        choices=STRIKE_TARGETS,
    )
    success_probability: float | None = key(
        "number",
        "probability that a strike hits its entry (default: parameter strike_success_probability)",
        None,
        unit="probability",
        low=0.0,
        high=1.0,
    )
    misidentification_share: float | None = key(
        "number",
        "share of list entries that are not members (default: parameter misidentification_share)",
        None,
        unit="share",
        low=0.0,
        high=1.0,
    )
    civilian_deaths_per_strike_mean: float | None = key(
        "number",
        "mean bystanders killed per strike (default: parameter civilian_deaths_per_strike_mean)",
        None,
        unit="deaths per strike",
        low=0.0,
        high=100.0,
    )
    civilian_deaths_dispersion: float | None = key(
        "number",
        "negative-binomial dispersion of bystander deaths (default: parameter civilian_deaths_dispersion)",
        None,
        unit="dispersion",
        low=0.0,
        high=1000.0,
        low_open=True,
    )

    def apply_schedule(self, sched: dict[str, np.ndarray], params: Mapping[str, float], mask: np.ndarray) -> None:
        """Set the campaign's sorties, strikes, strategy and probabilities in the active weeks."""
        sched["sorties"][mask] = _value(self.sorties_per_week, params, "sorties_per_week")
        sched["strikes"][mask] = _value(self.strikes_per_week, params, "strikes_per_week")
        sched["strategy"][mask] = STRIKE_TARGETS.index(self.target)
        sched["success"][mask] = _value(self.success_probability, params, "strike_success_probability")
        sched["misid"][mask] = _value(self.misidentification_share, params, "misidentification_share")
        sched["civ_mean"][mask] = _value(
            self.civilian_deaths_per_strike_mean, params, "civilian_deaths_per_strike_mean"
        )
        sched["civ_disp"][mask] = _value(self.civilian_deaths_dispersion, params, "civilian_deaths_dispersion")


@dataclass(frozen=True)
class TargetedArrests(OrganisationIntervention):
    """Re-target a share of the existing incapacitation budget at one role (the same total effort).

    Examples
    --------
    >>> import datetime as dt
    >>> TargetedArrests(start=dt.date(2026, 1, 1), target="leaders", share=0.003).share
    0.003

    """

    type = "targeted_arrests"
    target: str = key("choice", "the role the re-targeted arrests fall on", None, choices=ARREST_TARGETS, required=True)
    share: float = key(
        "number",
        "share of the weekly incapacitation budget (eta) spent on the target role instead of by cartel size",
        None,
        unit="share",
        low=0.0,
        high=1.0,
        required=True,
    )

    def apply_schedule(self, sched: dict[str, np.ndarray], params: Mapping[str, float], mask: np.ndarray) -> None:
        """Set the re-targeted share and role in the active weeks."""
        sched["arrest_share"][mask] = _value(self.share, params, "share")
        sched["arrest_target"][mask] = ARREST_TARGETS.index(self.target)


@dataclass(frozen=True)
class Cooperation(OrganisationIntervention):
    """Mexico's cooperation: bilateral (no effect) or unilateral (less detection, less incapacitation).

    Examples
    --------
    >>> import datetime as dt
    >>> Cooperation(start=dt.date(2026, 1, 1), mode="unilateral").mode
    'unilateral'

    """

    type = "cooperation"
    mode: str = key(
        "choice", "bilateral (the default when a policy has none) or unilateral", "bilateral", choices=COOPERATION_MODES
    )
    detection_factor: float | None = key(
        "number",
        "unilateral: multiplies detection per sortie (default: parameter unilateral_detection_factor)",
        None,
        unit="factor",
        low=0.0,
        high=1.0,
    )
    backlash_factor: float | None = key(
        "number",
        "unilateral: multiplies Mexican incapacitation, eta (default: parameter unilateral_backlash_factor)",
        None,
        unit="factor",
        low=0.0,
        high=2.0,
    )

    def validate(self) -> None:
        """Refuse unilateral-only keys on a bilateral entry."""
        if self.mode == "bilateral" and (self.detection_factor is not None or self.backlash_factor is not None):
            raise ValueError("detection_factor and backlash_factor apply only with mode = 'unilateral'")

    def apply_schedule(self, sched: dict[str, np.ndarray], params: Mapping[str, float], mask: np.ndarray) -> None:
        """Set the detection factor in the active weeks (1 when bilateral)."""
        f = 1.0
        if self.mode == "unilateral":
            f = _value(self.detection_factor, params, "unilateral_detection_factor")
        sched["detection_factor"][mask] = f

    def apply_params(self, paths: dict[str, np.ndarray], base: Mapping[str, float], mask: np.ndarray) -> None:
        """Unilateral: multiply Mexican incapacitation (eta) by the backlash factor in the active weeks."""
        if self.mode != "unilateral":
            return
        if ETA not in paths:
            paths[ETA] = np.full(mask.size, base[ETA], dtype=np.float64)
        paths[ETA][mask] *= _value(self.backlash_factor, base, "unilateral_backlash_factor")
