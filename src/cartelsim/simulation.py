"""The weekly step loop over a batch of experiments (DESIGN.md, Layers: the fixed step order).

The loop orchestrates; the science lives in the layers. Per week: (1) policies set this week's
parameters (precomputed as per-week paths); (2) ecosystem flows; (3) organisation (flows applied to
members, the campaign, write-back of strike removals after the Euler step); (4) geography; (5) outcomes
are recorded. Experiments of a batch are simulated together along the
ensemble axis; each experiment's numbers depend only on its own replicate seed, so any batching gives the
same values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cartelsim.batch import Batch, ExperimentSpec
from cartelsim.draws import ECO, draw_values
from cartelsim.ecosystem import EcosystemModel, Flows
from cartelsim.network import load_network
from cartelsim.policies import Intervention
from cartelsim.recorder import Recorder, row_total
from cartelsim.scenario import Scenario
from cartelsim.stochastic import StochasticFlows
from cartelsim.timeline import CALIBRATION_ORIGIN, week_of

if TYPE_CHECKING:  # imported where used: cartelsim.params must be initialised before the geography package
    from cartelsim.geography.layer import GeographyLayer
    from cartelsim.organisation.layer import OrganisationLayer

__all__ = ["Batch", "ExperimentSpec", "draw_values", "simulate_batch"]

NATIONAL_FLOWS = ("new_recruits", "new_incapacitated", "new_conflict_deaths", "new_saturation_exits")


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


@dataclass
class Context:
    """Everything the weekly loop of one batch needs (built once by :func:`simulate_batch`)."""

    scenario: Scenario
    experiments: list[ExperimentSpec]
    model: EcosystemModel
    params: list[dict[str, float]]
    paths: dict[str, np.ndarray]
    const: dict[str, np.ndarray]
    rec: Recorder
    state: np.ndarray
    failed: dict[int, str]
    geography: GeographyLayer | None = None
    organisation: OrganisationLayer | None = None

    @property
    def spin(self) -> int:
        """Spin-up weeks before the first recorded week."""
        return self.scenario.spinup_weeks

    @property
    def total(self) -> int:
        """Weeks simulated, spin-up included."""
        return self.scenario.spinup_weeks + self.scenario.n_weeks

    def eco_params(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """rho, eta, theta, omega per experiment at absolute week ``t`` (after this week's policies)."""
        rho, eta, theta, omega = (self.paths[k][t] if k in self.paths else self.const[k] for k in ECO)
        return rho, eta, theta, omega

    def end_of_year(self, t: int, progress: Callable[[int], None] | None) -> None:
        """Yearly housekeeping: flag non-finite experiments as failed and report progress."""
        if t % 52 == 51 or t == self.total - 1:
            for e in np.flatnonzero(~np.isfinite(self.state).all(1)):
                self.failed.setdefault(
                    self.experiments[int(e)].experiment_id, f"non-finite members at week {t - self.spin}"
                )
            if progress is not None:
                progress(t % 52 + 1)


def simulate_batch(
    scenario: Scenario,
    experiments: Sequence[ExperimentSpec],
    progress: Callable[[int], None] | None = None,
    *,
    fused: bool | None = None,
) -> Batch:
    """Simulate ``experiments`` of ``scenario`` together and return their recorded outcomes.

    ``fused`` picks the loop: the fused ecosystem-only step (the default when the scenario is deterministic,
    Euler and ecosystem-only) or the general loop with explicit per-cartel flows that other layers act on.
    Both give the same numbers where both apply.
    """
    net = load_network()
    model = EcosystemModel(net)
    resolved = [draw_values(scenario, s) for s in experiments]
    params = [r[0] for r in resolved]
    total = scenario.spinup_weeks + scenario.n_weeks
    const = {k: np.array([p[k] for p in params]) for k in (*ECO, "initial_members", "victim_share_cartel")}
    rec = Recorder(len(experiments), scenario.n_weeks, scenario.record.national, scenario.record.groups)
    rec.add_level("cartel", net.ids)
    ctx = Context(
        scenario,
        list(experiments),
        model,
        params,
        _paths(params, [r[1] for r in resolved], total),
        const,
        rec,
        model.initial_state(const["initial_members"]),
        {},
    )
    if "organisation" in scenario.layers:  # step (3): generated from the ecosystem state at start
        from cartelsim.organisation.layer import OrganisationLayer

        ctx.organisation = OrganisationLayer(
            [e.seed for e in experiments],
            params,
            [r[1] for r in resolved],
            total,
            scenario.reference_week,
            labs="geography" in scenario.layers,
            integral_flows=scenario.stochastic,
        )
    if "geography" in scenario.layers:  # step (4): routes solved once per distinct shock set, not per week
        from cartelsim.geography.layer import GeographyLayer

        ctx.geography = GeographyLayer(scenario, params, [r[1] for r in resolved], rec)
    simple = not scenario.stochastic and scenario.solver == "euler" and scenario.layers == ("ecosystem",)
    if fused is None:
        fused = simple
    if fused and not simple:
        raise ValueError("the fused loop covers only deterministic, Euler, ecosystem-only scenarios")
    _require_available(scenario)
    (_loop_fused if fused else _loop_general)(ctx, progress)
    if ctx.geography is not None:
        ctx.geography.finish()
    share = const["victim_share_cartel"]
    for arrs in rec.arrays.values():
        if "new_conflict_deaths" in arrs:
            arrs["new_victims_est"] = arrs["new_conflict_deaths"] / share[:, None, None]
        if "new_victims_est" in arrs and "new_strike_deaths_members" in arrs:  # the whole estimated toll
            arrs["new_deaths_all_est"] = (
                arrs["new_victims_est"] + arrs["new_strike_deaths_members"] + arrs["new_civilian_deaths_strikes"]
            )
    factions: list[list[tuple[int, str, str, str, str, int]]] = []
    faction_values: dict[str, np.ndarray] = {}
    if ctx.organisation is not None:
        ctx.organisation.finish(rec)
        cart = rec.arrays.get("cartel", {})
        if ctx.organisation.registry.any:  # factions: per-experiment groups, kept apart from the network's
            factions = ctx.organisation.faction_records()
            faction_values = {v: a[:, net.n :, :] for v, a in cart.items()}
        if any(a.shape[1] > net.n for a in cart.values()):  # faction columns (used or not) never pass as groups
            rec.arrays["cartel"] = {v: a[:, : net.n, :] for v, a in cart.items()}
            rec.group_ids["cartel"] = list(net.ids)
    batch = Batch.from_recorder(list(experiments), rec, [r[2] for r in resolved], ctx.failed)
    batch.factions, batch.faction_values = factions, faction_values
    return batch


def _require_available(scenario: Scenario) -> None:
    """Refuse features this version cannot simulate yet (scenario validation refuses them first)."""
    if scenario.stochastic and scenario.solver != "euler":
        raise NotImplementedError("stochastic runs use the weekly step (solver = 'euler')")


def _loop_fused(ctx: Context, progress: Callable[[int], None] | None) -> None:
    """Deterministic ecosystem-only loop: one fused kernel per week (the fast path)."""
    rec, model = ctx.rec, ctx.model
    n_e = len(ctx.experiments)
    kg = rec.interval("cartel")
    nxt = np.empty_like(ctx.state)
    buf = np.empty((n_e, 6))
    acc = np.zeros((n_e, 4, model.n))
    for t in range(ctx.total):
        w = t - ctx.spin  # recorded week (negative during spin-up)
        model.step(ctx.state, nxt, *ctx.eco_params(t), buf, acc if rec.active("cartel", w) else None)
        rec.stock("national", "n_members", w, buf[:, 0])
        rec.stock("national", "n_cartels", w, buf[:, 5])
        rec.stock("cartel", "n_members", w, ctx.state)
        for j, v in enumerate(NATIONAL_FLOWS):
            rec.flow("national", v, w, buf[:, j + 1])
        if kg and w >= 0 and (w % kg == kg - 1 or w == ctx.scenario.n_weeks - 1):
            for j, v in enumerate(NATIONAL_FLOWS):
                rec.flow_window("cartel", v, w, acc[:, j, :])
            acc[:] = 0.0
        ctx.state, nxt = nxt, ctx.state
        ctx.end_of_year(t, progress)


def _loop_general(ctx: Context, progress: Callable[[int], None] | None) -> None:
    """The general weekly loop in DESIGN.md's step order, with explicit per-cartel flows.

    (1) policies set this week's parameters; (2) ecosystem flows; (3) the organisation layer applies them
    and writes its removals back; (4) geography; (5) outcomes are recorded; then the state advances.
    """
    rec, model = ctx.rec, ctx.model
    org = ctx.organisation
    counted = model.network.is_cartel
    n_base = model.network.n  # national totals: the same for any batch width (factions add columns)
    flows: Flows | None = None
    sampler = StochasticFlows.start(ctx.state, [e.seed for e in ctx.experiments]) if ctx.scenario.stochastic else None
    ode = None
    if ctx.scenario.solver == "adaptive":
        from cartelsim.solvers import AdaptiveSolver  # scipy.integrate only when asked for

        ode = AdaptiveSolver(model)
    for t in range(ctx.total):
        w = t - ctx.spin
        # the organisation layer's factions and violence after removals, as the ecosystem kernel's extension
        model.extension = org.extension if org is not None and w >= 0 else None
        flows = model.flows(ctx.state, *ctx.eco_params(t), out=flows)
        if ode is not None:  # solver = "adaptive": the week's flows integrated by an ODE solver
            ode.integrate_week(ctx.state, *ctx.eco_params(t), out=flows, week=t)
        if sampler is not None:  # stochastic = true: integer draws around the expected flows
            sampler.sample(flows, ctx.state, t)
        if ctx.organisation is not None and w >= 0:  # (3) organisation: flows to members, then the campaign
            ctx.organisation.step(t, w, ctx.state, flows, rec)
        rec.stock("national", "n_members", w, row_total(ctx.state, n_base))
        mask = org.counted if org is not None else counted  # factions count too (DESIGN.md, n_cartels)
        rec.stock("national", "n_cartels", w, ((ctx.state >= 1.0) & mask).sum(1).astype(np.float64))
        rec.stock("cartel", "n_members", w, ctx.state)
        for v, x in zip(NATIONAL_FLOWS, (flows.recruits, flows.incapacitated, flows.deaths, flows.exits), strict=True):
            rec.flow("national", v, w, row_total(x, n_base))
            rec.flow("cartel", v, w, x)
        flows.apply(ctx.state)
        if org is not None and w >= 0:  # (3) write-back: removals leave C_i, fissions split it (new columns)
            ctx.state = org.write_back(ctx.state)
        if ctx.geography is not None:  # (4) geography: routes; deaths in space (factions' where their root's)
            if org is not None and w >= 0:  # the cartels' trafficking capacity this week sets the volume
                ctx.geography.step(t, org.fold(flows.deaths), volume=org.trafficking_capacity)
            else:
                ctx.geography.step(t, flows.deaths)
        ctx.end_of_year(t, progress)
    model.extension = None
