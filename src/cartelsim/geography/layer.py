"""The geography layer in the weekly loop (DESIGN.md, Layers: step 4): trafficking routes under each week's shocks.

Per experiment, the geography interventions (:mod:`cartelsim.policies.geography`) active in week t, taken in
file order, make one set of cost shocks on the route graph. Shocks only change when an intervention starts or
ends, so the layer never solves per week:

- **Schedule.** At set-up, each experiment's weeks are split into the runs where the same interventions are
  active. Each run gets a *state*: the route parameters (``crossing_congestion_km``, ``congestion_gamma``,
  ``port_capacity_floor_share``, which may be uncertain per replicate) and the shock keys of the active
  interventions, defaults resolved (:meth:`~cartelsim.policies.geography.GeographyIntervention.shock_key`).
  Experiments of a batch with the same state share it: 20 replicates of a policy without uncertain route
  parameters need one solve per distinct shock set, whatever the horizon.
- **Solves.** A state is solved the first time a recorded week (or the reference week) needs it, with the
  congested model (:func:`~cartelsim.geography.routes.solve_routes`, Frank-Wolfe to a relative gap of 1e-3).
  A shocked state is warm-started from the unshocked solve of the same route parameters (solved first, cold):
  the result then depends neither on batching nor on which experiment asked first, and a shock that leaves
  route choice unchanged (the same interdiction cost at every port) leaves the routes exactly as they were
  rather than at another point of the tolerance band. A solve is a pure function of its state, so solves
  are also kept in the run's :class:`~cartelsim.memo.Memo` (:data:`SOLVE_CACHE_SIZE` states, least recently
  used dropped first): the batches of the other policies of a run, which share the unshocked state, do not
  solve it again.
- **Recording** (DESIGN.md, Variables). Every ``record.groups`` weeks: ``n_routes`` at level ``municipality``
  (all 2,469 municipalities, zeros included) and ``flow_share`` at level ``port`` (the 27 land ports; it sums to
  1 whenever anything crosses). Every ``record.national`` weeks: ``n_municipalities_on_routes`` and
  ``flow_to_border_index``, recorded raw during the run and turned into an index by :meth:`finish` (100 = the
  same experiment's flow in the scenario's reference week; NaN where that flow is 0, e.g. every port closed).
- **Supply seam.** Origins (the bundled producing regions, an assumption) supply 1 unit each. The organisation
  layer may set :attr:`GeographyLayer.supply` (shape ``(experiments, origins)``, cartels' trafficking
  capacities per origin) before step 4; a new supply row is a new state (warm-started from the unit-supply
  solve of the same shocks), so it should change at most once per recording window.
- **Volume from the organisation layer.** With both layers on, the loop's :class:`~cartelsim.layers.Week`
  carries the organisation layer's ``capacity`` to every :meth:`GeographyLayer.write_back` (per
  experiment: the cartels' total trafficking capacity at the start of the week, in cell-equivalents;
  DESIGN.md, Coupling: an argument every week, never read back from the recorder), and the flow reaching
  the border is scaled by it; ``flow_to_border_index`` then tracks the capacity left after logistics
  strikes times the share that still crosses after seizures. Route *choice* stays solved at the
  reference supply (assumption: capacity changes the volume, not the congestion pattern); per-origin
  supply from cartels' places is the :attr:`supply` seam above.
- **Violence seam** (geography part 2). When :mod:`cartelsim.geography.violence` is present, each group
  recording window's per-cartel conflict deaths are allocated to states and municipalities by its
  ``allocate_deaths`` (given the window's ``n_routes`` and the unshocked routes) and recorded as
  ``new_conflict_deaths`` (and, by :func:`cartelsim.simulation.simulate_batch`, ``new_victims_est``) at levels
  ``state`` and ``municipality``.

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "routes"
... start = 2018-01-01
... end = 2020-01-01
... layers = ["ecosystem", "geography"]
... [[policy]]
... name = "close-nuevo-laredo"
...   [[policy.intervention]]
...   type = "crackdown"
...   start = 2019-01-01
...   municipalities = ["28027"]
...   cost_factor = inf
... ''')
>>> graph, sol, _ = routes_at(sc, sc.week(sc.start.replace(year=2019)), "close-nuevo-laredo")
>>> float(sol.flow_share[graph.port_index("2304")[0]])
0.0

"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cartelsim import places
from cartelsim.geography.graph import RouteGraph, load_route_graph
from cartelsim.geography.routes import RouteSolution, solve_routes
from cartelsim.geography.shocks import Shocks, apply_shock
from cartelsim.layers import Week
from cartelsim.memo import Memo
from cartelsim.policies import Intervention
from cartelsim.policies.geography import GeographyIntervention
from cartelsim.recorder import Recorder
from cartelsim.scenario import Scenario
from cartelsim.timeline import CALIBRATION_ORIGIN, week_of

__all__ = [
    "ROUTE_PARAMS",
    "SOLVE_CACHE_SIZE",
    "Allocator",
    "GeographyLayer",
    "routes_at",
    "violence_allocator",
]

#: Parameters that change route choice (the rest of the geography parameters are shock defaults).
ROUTE_PARAMS = ("crossing_congestion_km", "congestion_gamma", "port_capacity_floor_share")

#: ``allocate_deaths(deaths_by_cartel (E, N), cartel_ids, n_routes (E, M) | None, baseline_routes (E, M) | None,
#: params {name: (E,)}) -> (deaths by state (E, 32), deaths by municipality (E, M))``, rows summing to the
#: national deaths (:mod:`cartelsim.geography.violence`).
Allocator = Callable[
    [np.ndarray, Sequence[str], np.ndarray | None, np.ndarray | None, Mapping[str, np.ndarray]],
    tuple[np.ndarray, np.ndarray],
]

FloatArray = npt.NDArray[np.float64]

#: Route solutions a run keeps (each about 60 kB; assumption: enough for 20 replicates with uncertain route
#: parameters under a handful of shock sets).
SOLVE_CACHE_SIZE = 512


def violence_allocator() -> Allocator:
    """Return :func:`cartelsim.geography.violence.allocate_deaths` (imported here to keep start-up light)."""
    from cartelsim.geography.violence import allocate_deaths

    return allocate_deaths


@dataclass(eq=False)
class _State:
    """One distinct route problem of a batch: route parameters, shocks and supply."""

    key: Hashable  # everything that determines the solve, origins aside
    route_params: tuple[float, float, float]
    active: list[tuple[GeographyIntervention, Mapping[str, float]]]
    supply: FloatArray | None = None  # None: 1 per origin
    base: int | None = None  # the state this one is warm-started from
    solution: RouteSolution | None = field(default=None, repr=False)


class GeographyLayer:
    """Routes, congestion and shocks for a batch of experiments, recorded on DESIGN.md's rules.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its start, reference week and recording intervals).
    params : sequence of mapping
        Each experiment's parameters (drawn; see :func:`cartelsim.draws.draw_values`).
    interventions : sequence of sequence of Intervention
        Each experiment's interventions (drawn keys), in file order; those of other layers are ignored.
    rec : Recorder
        The batch's recorder; the layer declares the ``municipality`` and ``port`` levels (and ``state``
        when the violence allocation is present).
    origins : sequence of str, optional
        INEGI codes of the trafficking origins (default: the bundled producing regions, an assumption).
    allocate : callable or None or "auto", default "auto"
        Violence allocation (``"auto"``: :func:`violence_allocator`; None: routes only).
    memo : Memo, optional
        Route solutions kept by the run this batch belongs to (:mod:`cartelsim.memo`); None: the layer's
        own, for this batch only.

    Attributes
    ----------
    supply : numpy.ndarray or None
        The organisation layer's seam: supply per experiment and origin, shape ``(E, origins)``, in the
        units of trafficking capacity (None: 1 per origin). Set it before the week's step; each distinct row
        is a new route problem.
    n_solves : int
        Route solves so far (for tests and benchmarks).

    """

    def __init__(
        self,
        scenario: Scenario,
        params: Sequence[Mapping[str, float]],
        interventions: Sequence[Sequence[Intervention]],
        rec: Recorder,
        *,
        origins: Sequence[str] | None = None,
        allocate: Allocator | str | None = "auto",
        memo: Memo | None = None,
    ) -> None:
        if len(params) != len(interventions):
            raise ValueError("params and interventions need one entry per experiment")
        self.scenario = scenario
        self.params = [dict(p) for p in params]
        self.rec = rec
        self.spin = scenario.spinup_weeks
        self.total = scenario.spinup_weeks + scenario.n_weeks
        self.reference_week = scenario.reference_week
        self.supply: FloatArray | None = None
        self.n_solves = 0
        self.memo = memo if memo is not None else Memo(SOLVE_CACHE_SIZE)
        self._graphs: dict[float | None, RouteGraph] = {}
        graph = self.graph(self.params[0]["port_capacity_floor_share"] if self.params else None)
        codes = places.producing_regions()["code"].tolist() if origins is None else list(origins)
        self.origin_codes: list[str] = codes
        self.origins = graph.municipality_index(codes)
        self.municipality_codes: list[str] = graph.codes.tolist()
        self.port_codes: list[str] = graph.port_codes.tolist()
        self._states: list[_State] = []
        self._index: dict[Hashable, int] = {}
        self._sched = self._schedule(interventions)
        self._ref_flow = np.full(len(self.params), np.nan)
        rec.add_level("municipality", self.municipality_codes)
        rec.add_level("port", self.port_codes)
        if isinstance(allocate, str):
            if allocate != "auto":
                raise ValueError(f'allocate must be a function, None or "auto" (got {allocate!r})')
            allocate = violence_allocator()
        self.allocate: Allocator | None = allocate
        self.state_codes: list[str] = places.states()["state_code"].tolist()
        if self.allocate is not None:
            rec.add_level("state", self.state_codes)
        self._deaths: FloatArray | None = None
        self._window_routes: FloatArray | None = None
        self._window_base: FloatArray | None = None

    # -- set-up ----------------------------------------------------------------------------------
    def graph(self, floor: float | None = None) -> RouteGraph:
        """Return the route graph for a port capacity floor (one per distinct value in the batch)."""
        key = None if floor is None else float(floor)
        if key not in self._graphs:
            self._graphs[key] = load_route_graph(key)
        return self._graphs[key]

    def _route_params(self, p: Mapping[str, float]) -> tuple[float, float, float]:
        phi, gamma, floor = (float(p[k]) for k in ROUTE_PARAMS)
        return phi, gamma, floor

    def _state(self, key: Hashable, state: _State) -> int:
        """Id of the state with this key (``state`` is added when the key is new)."""
        sid = self._index.get(key)
        if sid is None:
            sid = self._index[key] = len(self._states)
            self._states.append(state)
        return sid

    def _plain(self, rp: tuple[float, float, float]) -> int:
        """The unshocked, unit-supply state of these route parameters."""
        return self._state((rp, ()), _State((rp, ()), rp, []))

    def _schedule(self, interventions: Sequence[Sequence[Intervention]]) -> npt.NDArray[np.int64]:
        """State id of every experiment in every simulated week, shape ``(E, T)``."""
        weeks = np.arange(self.total)

        def wk(d: Any) -> int:
            return week_of(d, CALIBRATION_ORIGIN.year)

        sched = np.zeros((len(self.params), self.total), dtype=np.int64)
        for e, (p, ivs) in enumerate(zip(self.params, interventions, strict=True)):
            rp = self._route_params(p)
            plain = self._plain(rp)
            geo = [iv for iv in ivs if isinstance(iv, GeographyIntervention)]
            if not geo:
                sched[e] = plain
                continue
            masks = np.array([iv.active(weeks, wk) for iv in geo], dtype=bool)
            patterns, inverse = np.unique(masks.T, axis=0, return_inverse=True)
            ids = np.empty(len(patterns), dtype=np.int64)
            for j, pattern in enumerate(patterns):
                on = [iv for iv, a in zip(geo, pattern, strict=True) if a]
                shock_keys = tuple(iv.shock_key(p) for iv in on)
                key = (rp, shock_keys)
                ids[j] = self._state(key, _State(key, rp, [(iv, p) for iv in on], None, plain)) if on else plain
            sched[e] = ids[np.asarray(inverse).ravel()]
        return sched

    # -- solves ------------------------------------------------------------------------------------
    def shocks(self, sid: int) -> Shocks:
        """The cost shocks of state ``sid`` (the active interventions composed in file order)."""
        st = self._states[sid]
        g = self.graph(st.route_params[2])
        out = Shocks.none(g)
        for iv, p in st.active:
            out = apply_shock(g, out, iv.shock_key(p))
        return out

    def solution(self, sid: int) -> RouteSolution:
        """The route solution of state ``sid`` (solved on first use; see the module docstring)."""
        st = self._states[sid]
        if st.solution is None:
            memo = (tuple(self.origins.tolist()), st.key)
            st.solution = self.memo.get(memo)
            if st.solution is None:
                warm = None if st.base is None else self.solution(st.base)
                phi, gamma, floor = st.route_params
                st.solution = solve_routes(
                    self.graph(floor),
                    self.origins,
                    self.shocks(sid),
                    st.supply,
                    congestion_km=phi,
                    gamma=gamma,
                    warm_start=warm,
                )
                self.n_solves += 1
                self.memo.put(memo, st.solution)
        return st.solution

    def state_ids(self, t: int) -> npt.NDArray[np.int64]:
        """State id of every experiment at absolute week ``t`` (supply included when the seam is set)."""
        ids = self._sched[:, t]
        if self.supply is None:
            return ids
        sup = np.asarray(self.supply, dtype=np.float64)
        if sup.shape != (len(self.params), self.origins.size):
            raise ValueError(f"supply must have shape {(len(self.params), self.origins.size)} (got {sup.shape})")
        out = np.empty_like(ids)
        for e, sid in enumerate(ids.tolist()):
            row = sup[e]
            if np.all(row == 1.0):
                out[e] = sid
                continue
            base = self._states[sid]
            key = (base.key, row.tobytes())
            out[e] = self._state(key, _State(key, base.route_params, base.active, row.copy(), sid))
        return out

    def unshocked_ids(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """For each state id, the unshocked unit-supply state with the same route parameters."""
        return np.array([self._plain(self._states[i].route_params) for i in ids.tolist()], dtype=np.int64)

    def _gather(self, ids: npt.NDArray[np.int64], what: Callable[[RouteSolution], Any]) -> FloatArray:
        uniq, inv = np.unique(ids, return_inverse=True)
        vals = np.asarray([what(self.solution(int(u))) for u in uniq], dtype=np.float64)
        return np.asarray(vals[np.asarray(inv).ravel()], dtype=np.float64)

    # -- the weekly step (the loop's Layer protocol, cartelsim.layers) ----------------------------
    def extension(self, w: int) -> None:
        """The layer adds nothing to the ecosystem kernel."""
        return None

    def step(self, week: Week) -> None:
        """Nothing before the Euler step: routes and deaths in space come at the write-back."""

    def write_back(self, week: Week) -> None:
        """Step (4): :meth:`advance` with the week's deaths (factions folded) and trafficking capacity."""
        self.advance(week.t, week.flows.deaths if week.deaths is None else week.deaths, week.capacity)

    def advance(self, t: int, deaths: np.ndarray | None = None, volume: np.ndarray | None = None) -> None:
        """Step (4) at absolute week ``t``: record routes when a window opens; allocate deaths when one closes.

        Parameters
        ----------
        t : int
            Absolute week (0 = the calibration origin; the scenario's recorded week is ``t - spin``).
        deaths : numpy.ndarray, optional
            This week's conflict deaths per cartel, shape ``(E, N)`` (used by the violence allocation).
        volume : numpy.ndarray, optional
            This week's volume per experiment, shape ``(E,)``, scaling the flow reaching the border (the
            organisation layer's trafficking capacity); None: unit volume.

        """
        rec = self.rec
        w = t - self.spin
        if w < 0 or w >= self.scenario.n_weeks:
            return
        national = rec.records("national", w)
        groups = rec.records("municipality", w)
        reference = w == self.reference_week
        if national or groups or reference:
            ids = self.state_ids(t)
            if national or reference:
                flow = self._gather(ids, lambda s: s.flow_to_border)
                if volume is not None:  # the organisation layer's trafficking capacity scales the volume
                    flow = flow * volume
                if reference:
                    self._ref_flow = flow.copy()
                rec.stock("national", "flow_to_border_index", w, flow)  # raw until finish()
                rec.stock(
                    "national",
                    "n_municipalities_on_routes",
                    w,
                    self._gather(ids, lambda s: s.n_municipalities_on_routes),
                )
            if groups:
                routes = self._gather(ids, lambda s: s.n_routes)
                rec.stock("municipality", "n_routes", w, routes)
                rec.stock("port", "flow_share", w, self._gather(ids, lambda s: s.flow_share))
                self._window_routes = routes
                if self.allocate is not None:
                    self._window_base = self._gather(self.unshocked_ids(ids), lambda s: s.n_routes)
        if self.allocate is not None and deaths is not None and rec.active("state", w):
            self._add_deaths(w, np.asarray(deaths, dtype=np.float64))

    def _add_deaths(self, w: int, deaths: FloatArray) -> None:
        """Accumulate per-cartel deaths over a group window; allocate them in space when it closes."""
        acc = self._deaths
        if acc is None or acc.shape != deaths.shape:  # the organisation layer may add factions mid-window
            grown = np.zeros(deaths.shape)
            if acc is not None:
                grown[:, : acc.shape[1]] = acc
            acc = self._deaths = grown
        acc += deaths
        k = self.rec.interval("state") or 1
        if w % k == k - 1 or w == self.scenario.n_weeks - 1:
            assert self.allocate is not None
            cartel_ids = self.rec.group_ids["cartel"][: acc.shape[1]]
            arrays = {name: np.array([p[name] for p in self.params]) for name in self.params[0]} if self.params else {}
            by_state, by_muni = self.allocate(acc, cartel_ids, self._window_routes, self._window_base, arrays)
            self.rec.flow_window("state", "new_conflict_deaths", w, np.asarray(by_state, dtype=np.float64))
            self.rec.flow_window("municipality", "new_conflict_deaths", w, np.asarray(by_muni, dtype=np.float64))
            acc[:] = 0.0

    def finish(self, rec: Recorder | None = None) -> None:
        """Turn the raw flow reaching the border into ``flow_to_border_index`` (100 = the reference week).

        ``rec`` is the batch's recorder the layer was built with (the protocol's argument; not needed).
        """
        arr = self.rec.arrays.get("national", {}).get("flow_to_border_index")
        if arr is None:
            return
        ref = self._ref_flow[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            arr[:] = np.where(ref > 0, 100.0 * arr / np.where(ref > 0, ref, 1.0), np.nan)


def routes_at(
    scenario: Scenario, week: int, policy: str = "baseline", replicate: int = 0
) -> tuple[RouteGraph, RouteSolution, RouteSolution]:
    """Solve the routes of one experiment at one recorded week, exactly as a run records them.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    week : int
        Recorded week (0 = the scenario's start); see :meth:`Scenario.week`.
    policy : str, default "baseline"
        The policy (its interventions active in that week are applied).
    replicate : int, default 0
        Which replicate's draws of uncertain parameters and keys to use.

    Returns
    -------
    graph : RouteGraph
        The graph solved on.
    solution : RouteSolution
        The routes under the policy's shocks in that week.
    unshocked : RouteSolution
        The routes with the same parameters and no shocks (the baseline's, when supply is fixed).

    Raises
    ------
    KeyError
        If the policy is not in the scenario.
    ValueError
        If the week is outside the run.

    """
    from cartelsim.batch import ExperimentSpec
    from cartelsim.draws import draw_values
    from cartelsim.rng import replicate_seeds

    if not 0 <= week < scenario.n_weeks:
        raise ValueError(f"week {week} is outside the run (0 to {scenario.n_weeks - 1})")
    names = [p.name for p in scenario.all_policies]
    if policy not in names:
        raise KeyError(f"no policy {policy!r}; policies: {', '.join(names)}")
    seed = replicate_seeds(scenario.seed, replicate + 1)[replicate]
    spec = ExperimentSpec(0, names.index(policy), policy, replicate, seed)
    params, ivs, _ = draw_values(scenario, spec)
    rec = Recorder(1, scenario.n_weeks, None, None)
    layer = GeographyLayer(scenario, [params], [ivs], rec, allocate=None)
    ids = layer.state_ids(scenario.spinup_weeks + week)
    sid = int(ids[0])
    plain = int(layer.unshocked_ids(ids)[0])
    return layer.graph(params["port_capacity_floor_share"]), layer.solution(sid), layer.solution(plain)
