"""The ecosystem and the organisation layer week by week, for experiments written in code.

Validation experiments with their own start state (DESIGN.md, Time: the 2007-2020 backcast) or with
removals applied by code (a single leader removal beside its paired counterfactual) cannot be scenario
files. :func:`run_weeks` runs them in the weekly step order of :mod:`cartelsim.simulation` (flows, the
layer's step, the Euler step, the write-back) and calls hooks before and after each week's step;
experiments are independent along the ensemble axis, as in a batch.

Examples
--------
>>> import numpy as np
>>> from cartelsim.params import defaults
>>> from cartelsim.ecosystem import EcosystemModel, load_network
>>> c0 = EcosystemModel(load_network()).initial_state(np.array([115000.0]))
>>> out = run_weeks(c0, [defaults({"organisation_scale": 0.05})], [1], weeks=3)
>>> out.national["n_members"].shape, bool(out.national["new_conflict_deaths"][0, 0] > 60)
((1, 3), True)

"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cartelsim.draws import ECO
from cartelsim.ecosystem import EcosystemModel, Flows
from cartelsim.network import load_network
from cartelsim.organisation.layer import OrganisationLayer
from cartelsim.recorder import Recorder

__all__ = ["Run", "run_weeks"]

Hook = Callable[[int, np.ndarray, OrganisationLayer, Flows | None], None]


@dataclass
class Run:
    """What :func:`run_weeks` returns: weekly national series (E, weeks), the final state and the layer."""

    national: dict[str, np.ndarray]
    state: np.ndarray
    layer: OrganisationLayer


def run_weeks(
    state: np.ndarray,
    params: Sequence[Mapping[str, float]],
    seeds: Sequence[int],
    weeks: int,
    start_week: int = 0,
    before: Hook | None = None,
    after: Hook | None = None,
) -> Run:
    """Run ``weeks`` weeks from ``state`` (E, 150) with the organisation layer generated at ``start_week``.

    Parameters
    ----------
    state : ndarray, shape (E, 150)
        Members per network group at the start (copied).
    params : sequence of mappings
        Each experiment's parameters (full: :func:`cartelsim.params.defaults` with overrides).
    seeds : sequence of int
        Replicate seeds (the same seed gives the same members and draws: paired experiments).
    weeks : int
        Weeks to run.
    start_week : int
        The random streams' week counter at the start (>= 0; weeks since 2012-01-01 for a start in or after
        2012, 0 for an experiment with its own start such as the backcast).
    before, after : callable, optional
        ``hook(week, state, layer, flows)`` before the layer's step (``flows`` None; removals queued with
        :meth:`~cartelsim.organisation.layer.OrganisationLayer.queue_removals` act in this week's step) and
        after it (this week's flows, before the Euler step).

    Returns
    -------
    Run
        National weekly ``n_members``, ``n_cartels`` (counted groups with at least one member),
        ``new_conflict_deaths``, ``new_fissions`` and ``new_leaders_removed``.

    """
    n_e = len(seeds)
    net = load_network()
    model = EcosystemModel(net)
    state = np.array(state, dtype=np.float64)
    rec = Recorder(n_e, weeks, 1, None)
    rec.add_level("cartel", net.ids)
    layer = OrganisationLayer(list(seeds), list(params), [[] for _ in range(n_e)], start_week + weeks + 1)
    eco = [np.array([p[k] for p in params], np.float64) for k in ECO]
    nat = {k: np.zeros((n_e, weeks)) for k in ("n_members", "n_cartels", "new_conflict_deaths")}
    if start_week < 0:
        raise ValueError("start_week counts the random streams' weeks: it must be >= 0")
    for w in range(weeks):
        t = start_week + w
        model.extension = layer.extension
        if before is not None:
            before(w, state, layer, None)
        flows = model.flows(state, eco[0], eco[1], eco[2], eco[3])
        layer.step(t, w, state, flows, rec)
        nat["n_members"][:, w] = state.sum(1)
        nat["n_cartels"][:, w] = ((state >= 1.0) & layer.counted).sum(1)
        nat["new_conflict_deaths"][:, w] = flows.deaths.sum(1)
        if after is not None:
            after(w, state, layer, flows)
        flows.apply(state)
        state = layer.write_back(state)
    model.extension = None
    for k in ("new_fissions", "new_leaders_removed"):
        nat[k] = rec.arrays["national"][k][:, 0, :]
    return Run(nat, state, layer)
