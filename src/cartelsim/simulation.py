"""The weekly step loop over a batch of experiments (DESIGN.md, Layers: the fixed step order).

The loop orchestrates; the science lives in the layers. Per week: (1) policies set this week's
parameters (precomputed as per-week paths); (2) ecosystem flows; (3) organisation (flows applied to
members, the campaign, write-back of strike removals after the Euler step); (4) geography; (5) outcomes
are recorded. Experiments of a batch are simulated together along the
ensemble axis; each experiment's numbers depend only on its own replicate seed, so any batching gives the
same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cartelsim.batch import Batch, ExperimentSpec
from cartelsim.draws import ECO, draw_values
from cartelsim.ecosystem import EcosystemModel, Flows
from cartelsim.layers import Layer, Week
from cartelsim.memo import Memo
from cartelsim.network import load_network
from cartelsim.policies import Intervention
from cartelsim.recorder import Recorder, row_total
from cartelsim.scenario import Scenario
from cartelsim.stochastic import StochasticFlows
from cartelsim.timeline import CALIBRATION_ORIGIN, week_of

if TYPE_CHECKING:  # imported where used: cartelsim.params must be initialised before the geography package
    from cartelsim.geography.layer import GeographyLayer
    from cartelsim.organisation.layer import OrganisationLayer

__all__ = ["Batch", "ExperimentSpec", "Run", "draw_values", "run_weeks", "simulate_batch"]

#: ``hook(week, state, layer, flows)`` of :func:`run_weeks`.
Hook = Callable[[int, np.ndarray, "OrganisationLayer", "Flows | None"], None]

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
    """Everything the weekly loop of one batch needs (built once by :func:`simulate_batch` or :func:`run_weeks`)."""

    experiments: list[ExperimentSpec]
    model: EcosystemModel
    paths: dict[str, np.ndarray]
    const: dict[str, np.ndarray]
    rec: Recorder
    state: np.ndarray
    spin: int  # spin-up weeks before the first recorded week
    n_weeks: int  # recorded weeks
    t0: int = 0  # the random streams' week counter at the first simulated week
    stochastic: bool = False
    solver: str = "euler"
    layers: list[Layer] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    geography: GeographyLayer | None = None
    organisation: OrganisationLayer | None = None

    @property
    def total(self) -> int:
        """Weeks simulated, spin-up included."""
        return self.spin + self.n_weeks

    def eco_params(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """rho, eta, theta, omega per experiment at simulated week ``i`` (after this week's policies)."""
        rho, eta, theta, omega = (self.paths[k][i] if k in self.paths else self.const[k] for k in ECO)
        return rho, eta, theta, omega

    def end_of_year(self, i: int, progress: Callable[[int], None] | None) -> None:
        """Yearly housekeeping: flag non-finite experiments as failed and report progress."""
        if i % 52 == 51 or i == self.total - 1:
            for e in np.flatnonzero(~np.isfinite(self.state).all(1)):
                self.failed.setdefault(
                    self.experiments[int(e)].experiment_id, f"non-finite members at week {i - self.spin}"
                )
            if progress is not None:
                progress(i % 52 + 1)


def simulate_batch(
    scenario: Scenario,
    experiments: Sequence[ExperimentSpec],
    progress: Callable[[int], None] | None = None,
    *,
    fused: bool | None = None,
    memo: Memo | None = None,
) -> Batch:
    """Simulate ``experiments`` of ``scenario`` together and return their recorded outcomes.

    ``fused`` picks the loop: the fused ecosystem-only step (the default when the scenario is deterministic,
    Euler and ecosystem-only) or the general loop with explicit per-cartel flows that other layers act on.
    Both give the same numbers where both apply. ``memo`` keeps route solves across the batches of a run
    (:mod:`cartelsim.memo`; None: this batch's own).
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
        list(experiments),
        model,
        _paths(params, [r[1] for r in resolved], total),
        const,
        rec,
        model.initial_state(const["initial_members"]),
        scenario.spinup_weeks,
        scenario.n_weeks,
        stochastic=scenario.stochastic,
        solver=scenario.solver,
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
        ctx.layers.append(ctx.organisation)
    if "geography" in scenario.layers:  # step (4): routes solved once per distinct shock set, not per week
        from cartelsim.geography.layer import GeographyLayer

        ctx.geography = GeographyLayer(scenario, params, [r[1] for r in resolved], rec, memo=memo)
        ctx.layers.append(ctx.geography)
    simple = not scenario.stochastic and scenario.solver == "euler" and scenario.layers == ("ecosystem",)
    if fused is None:
        fused = simple
    if fused and not simple:
        raise ValueError("the fused loop covers only deterministic, Euler, ecosystem-only scenarios")
    _require_available(scenario)
    if fused:
        _loop_fused(ctx, progress)
    else:
        _loop_general(ctx, progress)
    for layer in ctx.layers:
        layer.finish(rec)
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
        if kg and w >= 0 and (w % kg == kg - 1 or w == ctx.n_weeks - 1):
            for j, v in enumerate(NATIONAL_FLOWS):
                rec.flow_window("cartel", v, w, acc[:, j, :])
            acc[:] = 0.0
        ctx.state, nxt = nxt, ctx.state
        ctx.end_of_year(t, progress)


def _loop_general(
    ctx: Context,
    progress: Callable[[int], None] | None,
    before: Callable[[Week], None] | None = None,
    after: Callable[[Week], None] | None = None,
) -> None:
    """The general weekly loop in DESIGN.md's step order, with explicit per-cartel flows.

    (1) policies set this week's parameters; (2) ecosystem flows, with the layers' kernel extensions;
    (3)-(4) each layer's :meth:`~cartelsim.layers.Layer.step` (the organisation layer applies the flows and
    its campaign); (5) outcomes are recorded; the Euler step; each layer's write-back (removals and
    fissions, then routes and deaths in space). ``before(week)`` runs before the flows (``week.flows`` is
    None: removals queued by code act in this week's step) and ``after(week)`` after the layers' steps,
    before the Euler step: the validation experiments' hooks (:func:`run_weeks`).
    """
    rec, model = ctx.rec, ctx.model
    org = ctx.organisation
    counted = model.network.is_cartel
    n_base = model.network.n  # national totals: the same for any batch width (factions add columns)
    flows: Flows | None = None
    sampler = StochasticFlows.start(ctx.state, [e.seed for e in ctx.experiments]) if ctx.stochastic else None
    ode = None
    if ctx.solver == "adaptive":
        from cartelsim.solvers import AdaptiveSolver  # scipy.integrate only when asked for

        ode = AdaptiveSolver(model)
    for i in range(ctx.total):
        t, w = ctx.t0 + i, i - ctx.spin
        # the layers' additions to the kernel this week (the organisation layer's factions and violence)
        ext = next((x for x in (layer.extension(w) for layer in ctx.layers) if x is not None), None)
        if before is not None:
            before(Week(t, w, ctx.state, None, rec))  # type: ignore[arg-type]
        flows = model.flows(ctx.state, *ctx.eco_params(i), out=flows, extension=ext)
        if ode is not None:  # solver = "adaptive": the week's flows integrated by an ODE solver
            ode.integrate_week(ctx.state, *ctx.eco_params(i), out=flows, week=t)
        if sampler is not None:  # stochastic = true: integer draws around the expected flows
            sampler.sample(flows, ctx.state, t)
        week = Week(t, w, ctx.state, flows, rec)
        for layer in ctx.layers:  # (3) organisation: flows to members, then the campaign
            layer.step(week)
        rec.stock("national", "n_members", w, row_total(ctx.state, n_base))
        mask = org.counted if org is not None else counted  # factions count too (DESIGN.md, n_cartels)
        rec.stock("national", "n_cartels", w, ((ctx.state >= 1.0) & mask).sum(1).astype(np.float64))
        rec.stock("cartel", "n_members", w, ctx.state)
        for v, x in zip(NATIONAL_FLOWS, (flows.recruits, flows.incapacitated, flows.deaths, flows.exits), strict=True):
            rec.flow("national", v, w, row_total(x, n_base))
            rec.flow("cartel", v, w, x)
        if after is not None:
            after(week)
        flows.apply(ctx.state)
        for layer in ctx.layers:  # removals leave C_i, fissions split it; (4) routes, deaths in space
            layer.write_back(week)
        ctx.state = week.state
        ctx.end_of_year(i, progress)


def run_weeks(
    state: np.ndarray,
    params: Sequence[Mapping[str, float]],
    seeds: Sequence[int],
    weeks: int,
    start_week: int = 0,
    before: Hook | None = None,
    after: Hook | None = None,
    *,
    interventions: Sequence[Sequence[Intervention]] | None = None,
    end: Hook | None = None,
) -> Run:
    """Run ``weeks`` weeks from ``state`` (E, 150) with the organisation layer generated at ``start_week``.

    The loop of :func:`simulate_batch` for experiments written in code: validation experiments with their
    own start state (DESIGN.md, Time: the 2007-2020 backcast) or with removals applied by code (a single
    leader removal beside its paired counterfactual), which cannot be scenario files. Experiments are
    independent along the ensemble axis, as in a batch.

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
    before, after, end : callable, optional
        ``hook(week, state, layer, flows)`` before the layer's step (``flows`` None; removals queued with
        :meth:`~cartelsim.organisation.layer.OrganisationLayer.queue_removals` act in this week's step),
        after it (this week's flows, before the Euler step) and at the end of the week (after the
        write-back: ``state`` is next week's; ``flows`` this week's). ``week`` counts from 0.
    interventions : sequence of sequences of Intervention, optional
        Each experiment's organisation interventions (drawn keys; default none).

    Returns
    -------
    Run
        National weekly ``n_members``, ``n_cartels`` (counted groups with at least one member),
        ``new_conflict_deaths``, ``new_fissions`` and ``new_leaders_removed``.

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
    from cartelsim.organisation.layer import OrganisationLayer

    if start_week < 0:
        raise ValueError("start_week counts the random streams' weeks: it must be >= 0")
    n_e = len(seeds)
    net = load_network()
    model = EcosystemModel(net)
    rec = Recorder(n_e, weeks, 1, None)
    rec.add_level("cartel", net.ids)
    ivs = [list(x) for x in interventions] if interventions is not None else [[] for _ in range(n_e)]
    layer = OrganisationLayer(list(seeds), list(params), ivs, start_week + weeks + 1)
    const = {k: np.array([p[k] for p in params], np.float64) for k in ECO}
    specs = [ExperimentSpec(e, 0, "code", e, int(s)) for e, s in enumerate(seeds)]
    ctx = Context(specs, model, {}, const, rec, np.array(state, dtype=np.float64), 0, weeks, t0=start_week)
    ctx.organisation = layer
    ctx.layers.append(layer)

    def hook(h: Hook | None, with_flows: bool) -> Callable[[Week], None] | None:
        if h is None:
            return None
        return lambda wk: h(wk.w, wk.state, layer, wk.flows if with_flows else None)

    if end is not None:
        ctx.layers.append(_End(end, layer))
    _loop_general(ctx, None, hook(before, False), hook(after, True))
    nat = {k: rec.arrays["national"][k][:, 0, :] for k in (*RUN_VARIABLES,)}
    return Run(nat, ctx.state, layer)


#: The national series :func:`run_weeks` returns.
RUN_VARIABLES = ("n_members", "n_cartels", "new_conflict_deaths", "new_fissions", "new_leaders_removed")


@dataclass
class Run:
    """What :func:`run_weeks` returns: weekly national series (E, weeks), the final state and the layer."""

    national: dict[str, np.ndarray]
    state: np.ndarray
    layer: OrganisationLayer


class _End:
    """A layer that only calls ``end(week, state, layer, flows)`` after the write-back (tests' each-week hook)."""

    def __init__(self, end: Hook, layer: OrganisationLayer) -> None:
        self.end, self.layer = end, layer

    def extension(self, w: int) -> None:
        return None

    def step(self, week: Week) -> None:
        pass

    def write_back(self, week: Week) -> None:
        self.end(week.w, week.state, self.layer, week.flows)

    def finish(self, rec: Recorder) -> None:
        pass
