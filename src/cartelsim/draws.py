"""An experiment's drawn values: its parameters and interventions, from the scenario and its replicate seed.

Used by the step loop (:mod:`cartelsim.simulation`), by the geography layer's route queries and by the
validation drivers, none of which need the others to draw: this module imports no layer and no loop.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from cartelsim.params import PARAMS, defaults
from cartelsim.policies import Intervention, key_specs
from cartelsim.rng import Streams

if TYPE_CHECKING:
    from cartelsim.batch import ExperimentSpec
    from cartelsim.scenario import Scenario

__all__ = ["ECO", "draw_values"]

#: The ecosystem's four rates, in the kernel's order.
ECO = (
    "recruitment_per_member_per_week",
    "incapacitation_per_week",
    "conflict_rate_per_member_pair_per_week",
    "saturation_per_member_squared_per_week",
)


def draw_values(
    scenario: Scenario, spec: ExperimentSpec
) -> tuple[dict[str, float], list[Intervention], dict[str, float]]:
    """Return an experiment's parameters, its interventions with drawn keys, and the drawn values by column.

    Uncertain parameters use the stream ``uncertainty/<name>``; a distribution-valued intervention key uses
    ``intervention/<position>/<type>/<key>``, so the same key in the same position gets the same draw under
    every policy (common random numbers). A parameter in ``spec.overrides`` (a sweep's design row) takes
    that value instead, and its column comes first, in design order.
    """
    streams = Streams([spec.seed])
    params = defaults(scenario.parameters)
    drawn: dict[str, float] = {}
    for name, value in spec.overrides:
        try:
            params[name] = drawn[name] = PARAMS[name].check(value)
        except KeyError:
            raise KeyError(f"design factor {name!r} is not a model parameter") from None
        except ValueError as e:
            raise ValueError(f"design value of {name!r} {e}") from None
    for name, dist in scenario.uncertainty.items():
        if name in drawn:
            continue
        p = PARAMS[name]
        v = dist.sample(streams.generator(f"uncertainty/{name}", 0, 0), p.low, p.high)
        params[name] = drawn[name] = float(np.clip(v, p.low, p.high))
    ivs: list[Intervention] = []
    seen: dict[str, int] = {}
    for pos, iv in enumerate(scenario.policy(spec.policy).interventions):
        seen[iv.type] = seen.get(iv.type, 0) + 1
        unc = iv.uncertain_keys()
        if unc:
            bounds = {k.name: (k.low, k.high) for k in key_specs(type(iv))}
            vals = {}
            for k, dist in unc.items():
                lo, hi = bounds[k]
                g = streams.generator(f"intervention/{pos}/{iv.type}/{k}", 0, 0)
                vals[k] = float(np.clip(dist.sample(g, lo, hi), lo, hi))
                col = f"{iv.type}.{k}" if seen[iv.type] == 1 else f"{iv.type}.{k}.{seen[iv.type]}"
                drawn[col] = vals[k]
            iv = dataclasses.replace(iv, **vals)  # type: ignore[arg-type]
        ivs.append(iv)
    return params, ivs, drawn
