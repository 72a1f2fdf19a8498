"""The weekly step loop over a batch of experiments (DESIGN.md, Layers: the fixed step order).

The loop orchestrates; the science lives in the layers. Per week: (1) policies set this week's
parameters (precomputed as per-week paths); (2) ecosystem flows; (3) [organisation, later]; (4)
[geography, later]; (5) outcomes are recorded. Experiments of a batch are simulated together along the
ensemble axis; each experiment's numbers depend only on its own replicate seed, so any batching gives the
same values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cartelsim.ecosystem import EcosystemModel
from cartelsim.network import load_network
from cartelsim.params import PARAMS, defaults
from cartelsim.policies import Intervention, key_specs
from cartelsim.recorder import Recorder
from cartelsim.rng import Streams
from cartelsim.scenario import Scenario
from cartelsim.timeline import CALIBRATION_ORIGIN, week_of

__all__ = ["Batch", "ExperimentSpec", "draw_values", "simulate_batch"]

ECO = (
    "recruitment_per_member_per_week",
    "incapacitation_per_week",
    "conflict_rate_per_member_pair_per_week",
    "saturation_per_member_squared_per_week",
)
NATIONAL_FLOWS = ("new_recruits", "new_incapacitated", "new_conflict_deaths", "new_saturation_exits")


@dataclass(frozen=True)
class ExperimentSpec:
    """One (policy, replicate) of a scenario."""

    experiment_id: int
    policy_index: int
    policy: str
    replicate: int
    seed: int


@dataclass
class Batch:
    """Recorded outcomes of a batch of experiments.

    ``levels[level]`` is ``(group_ids, weeks, {variable: array of shape (E, groups, weeks)})``;
    ``failed`` maps experiment ids to messages (their rows are never written).
    """

    experiments: list[ExperimentSpec]
    levels: dict[str, tuple[list[str], np.ndarray, dict[str, np.ndarray]]]
    draws: list[dict[str, float]]
    failed: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_recorder(
        cls,
        experiments: list[ExperimentSpec],
        rec: Recorder,
        draws: list[dict[str, float]],
        failed: dict[int, str],
    ) -> Batch:
        """Collect a recorder's arrays."""
        levels = {lev: (rec.group_ids[lev], rec.weeks(lev), arrs) for lev, arrs in rec.arrays.items() if arrs}
        return cls(experiments, levels, draws, failed)


def draw_values(
    scenario: Scenario, spec: ExperimentSpec
) -> tuple[dict[str, float], list[Intervention], dict[str, float]]:
    """Return an experiment's parameters, its interventions with drawn keys, and the drawn values by column.

    Uncertain parameters use the stream ``uncertainty/<name>``; a distribution-valued intervention key uses
    ``intervention/<position>/<type>/<key>``, so the same key in the same position gets the same draw under
    every policy (common random numbers).
    """
    streams = Streams([spec.seed])
    params = defaults(scenario.parameters)
    drawn: dict[str, float] = {}
    for name, dist in scenario.uncertainty.items():
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


def _paths(params: list[dict[str, float]], ivs: list[list[Intervention]], n_weeks: int) -> dict[str, np.ndarray]:
    """Per-week values (shape (T, E)) of every ecosystem parameter an intervention changes."""
    weeks = np.arange(n_weeks)
    per_exp: list[dict[str, np.ndarray]] = []
    for base, items in zip(params, ivs, strict=True):
        paths: dict[str, np.ndarray] = {}
        for iv in items:
            iv.apply_params(paths, base, iv.active(weeks, lambda d: week_of(d, CALIBRATION_ORIGIN.year)))
        per_exp.append(paths)
    out: dict[str, np.ndarray] = {}
    for name in {k for p in per_exp for k in p}:
        out[name] = np.stack([p.get(name, np.full(n_weeks, b[name])) for p, b in zip(per_exp, params, strict=True)], 1)
    return out


def simulate_batch(
    scenario: Scenario,
    experiments: Sequence[ExperimentSpec],
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Simulate ``experiments`` of ``scenario`` together and return their recorded outcomes."""
    if scenario.stochastic or scenario.solver != "euler" or scenario.layers != ("ecosystem",):
        raise NotImplementedError("only the deterministic ecosystem with the weekly Euler step is available")
    net = load_network()
    model = EcosystemModel(net)
    n_e = len(experiments)
    resolved = [draw_values(scenario, s) for s in experiments]
    params = [r[0] for r in resolved]
    spin, n_rec = scenario.spinup_weeks, scenario.n_weeks
    total = spin + n_rec
    paths = _paths(params, [r[1] for r in resolved], total)
    const = {k: np.array([p[k] for p in params]) for k in (*ECO, "initial_members", "victim_share_cartel")}

    rec = Recorder(n_e, n_rec, scenario.record.national, scenario.record.groups)
    rec.add_level("cartel", net.ids)
    kg = rec.interval("cartel")
    state = model.initial_state(const["initial_members"])
    nxt = np.empty_like(state)
    buf = np.empty((n_e, 6))
    acc = np.zeros((n_e, 4, net.n))
    failed: dict[int, str] = {}
    for t in range(total):
        rho, eta, theta, omega = (paths[k][t] if k in paths else const[k] for k in ECO)
        w = t - spin  # recorded week (negative during spin-up)
        model.step(state, nxt, rho, eta, theta, omega, buf, acc if rec.active("cartel", w) else None)
        rec.stock("national", "n_members", w, buf[:, 0])
        rec.stock("national", "n_cartels", w, buf[:, 5])
        rec.stock("cartel", "n_members", w, state)
        for j, v in enumerate(NATIONAL_FLOWS):
            rec.flow("national", v, w, buf[:, j + 1])
        if kg and w >= 0 and (w % kg == kg - 1 or w == n_rec - 1):
            for j, v in enumerate(NATIONAL_FLOWS):
                rec.flow_window("cartel", v, w, acc[:, j, :])
            acc[:] = 0.0
        state, nxt = nxt, state
        if t % 52 == 51 or t == total - 1:
            for e in np.flatnonzero(~np.isfinite(state).all(1)):
                failed.setdefault(experiments[int(e)].experiment_id, f"non-finite members at week {w}")
            if progress is not None:
                progress(t % 52 + 1)
    share = const["victim_share_cartel"]
    for arrs in rec.arrays.values():
        if "new_conflict_deaths" in arrs:
            arrs["new_victims_est"] = arrs["new_conflict_deaths"] / share[:, None, None]
    return Batch.from_recorder(list(experiments), rec, [r[2] for r in resolved], failed)
