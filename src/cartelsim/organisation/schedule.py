"""Weekly settings of the organisation interventions, per experiment (compiled once per batch).

Each experiment's interventions write, in file order, into arrays over the absolute weeks of the run (see
:func:`cartelsim.policies.organisation.empty_schedule`); the layer reads row ``t`` of each, shape (E,).

Examples
--------
>>> import datetime as dt
>>> from cartelsim.params import defaults
>>> from cartelsim.policies.organisation import Cooperation, StrikeCampaign
>>> ivs = [StrikeCampaign(start=dt.date(2013, 1, 1), sorties_per_week=40.0, strikes_per_week=1.0),
...        Cooperation(start=dt.date(2013, 1, 1), mode="unilateral")]
>>> s = Schedule.compile([ivs, []], [defaults(), defaults()], n_weeks=104)
>>> s.at(60)["sorties"].tolist(), s.at(60)["detection_factor"].tolist(), s.at(10)["strategy"].tolist()
([40.0, 0.0], [0.5, 1.0], [-1, -1])

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cartelsim.policies import Intervention
from cartelsim.policies.organisation import OrganisationIntervention, empty_schedule
from cartelsim.timeline import CALIBRATION_ORIGIN, week_of

__all__ = ["Schedule"]


@dataclass
class Schedule:
    """Weekly settings, ``values[name]`` of shape (weeks, E), and which experiments have any campaign."""

    values: dict[str, np.ndarray]

    @classmethod
    def compile(
        cls, interventions: Sequence[Sequence[Intervention]], params: Sequence[Mapping[str, float]], n_weeks: int
    ) -> Schedule:
        """Compile each experiment's interventions (absolute weeks since the calibration origin)."""
        weeks = np.arange(n_weeks)
        per = []
        for ivs, p in zip(interventions, params, strict=True):
            sched = empty_schedule(n_weeks)
            for iv in ivs:
                if isinstance(iv, OrganisationIntervention):
                    mask = iv.active(weeks, lambda d: week_of(d, CALIBRATION_ORIGIN.year))
                    iv.apply_schedule(sched, p, mask)
            per.append(sched)
        keys = per[0].keys() if per else empty_schedule(0).keys()
        return cls({k: np.stack([s[k] for s in per], axis=1) for k in keys})

    def at(self, t: int) -> dict[str, np.ndarray]:
        """Settings of absolute week ``t``, each of shape (E,)."""
        return {k: v[t] for k, v in self.values.items()}

    @property
    def any_campaign(self) -> bool:
        """True when some experiment has a strike campaign in some week."""
        return bool((self.values["strategy"] >= 0).any())
