"""The organisation layer in the weekly loop: step (3) of DESIGN.md's order, and its outcomes.

:class:`OrganisationLayer` is built once per batch by :func:`cartelsim.simulation.simulate_batch` and
called by the general loop at every recorded week (the spin-up runs the ecosystem alone; the layer is
generated from the ecosystem state at ``start``):

1. :meth:`~OrganisationLayer.step`, after the week's ecosystem flows and before they are recorded:
   destroyed assets whose delay has passed are back; stocks are recorded (start of the week); targeted
   arrests re-target part of the incapacitation budget (the flows' per-cartel incapacitations are
   rewritten, same national total); the flows are applied to members (:mod:`.coupling`); the campaign's
   surveillance, target list and strikes act (:mod:`.campaign`); flows are recorded.
2. :meth:`~OrganisationLayer.write_back`, after the ecosystem state has advanced: members killed by strikes
   leave C_i (divided by ``organisation_scale``).
3. :meth:`~OrganisationLayer.finish`: ``trafficking_capacity_index`` (100 = the experiment's capacity in
   the scenario's reference week).

Every count of the layer is in agents inside and in members (divided by ``organisation_scale``) in the
outcomes. Outcomes are aggregates by nation and cartel only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cartelsim.ecosystem import Flows
from cartelsim.organisation.assets import Assets, rebuild
from cartelsim.organisation.campaign import ASSET_TIER, MEMBER_TIER, strike_week
from cartelsim.organisation.cells import Cells, cell_capacity
from cartelsim.organisation.coupling import apply_flows, removal_counts, targeted_arrests
from cartelsim.organisation.generate import generate
from cartelsim.organisation.members import Members
from cartelsim.organisation.roles import (
    GUNMAN,
    LEADER,
    LOGISTICS,
    LOOKOUT,
    PLAZA_BOSS,
    VEHICLE,
    WAREHOUSE,
    detect_per_sortie,
    exposure,
    role_shares,
)
from cartelsim.organisation.schedule import Schedule
from cartelsim.philox import stream_keys
from cartelsim.policies import Intervention
from cartelsim.recorder import Recorder
from cartelsim.rng import Streams

__all__ = ["FLOW_VARIABLES", "STOCK_VARIABLES", "OrganisationLayer"]

#: Flows the layer records at the national and cartel levels (members, strikes or assets per week).
FLOW_VARIABLES: tuple[str, ...] = (
    "new_strikes",
    "new_misidentified_strikes",
    "new_strike_deaths_members",
    "new_leaders_removed",
    "new_assets_destroyed",
    "new_civilian_deaths_strikes",
)
#: Stocks the layer records at the national and cartel levels.
STOCK_VARIABLES: tuple[str, ...] = ("n_leaders", "n_trafficking_capacity")

#: Role of each ``targeted_arrests`` target, in the order of ARREST_TARGETS.
_ARREST_ROLE = np.array([LEADER, PLAZA_BOSS, LOGISTICS], np.int64)
_STREAMS = ("org/removals", "org/recruits", "org/arrests", "org/pick", "org/order", "org/misidentified",
            "org/success", "org/rebuild")  # fmt: skip


def _shrink(inc: np.ndarray, used: np.ndarray, integral: bool) -> np.ndarray:
    """Take ``used[e]`` out of ``inc[e]`` in proportion to each cartel's share (whole numbers if integral)."""
    tot = inc.sum(1)
    frac = np.divide(used, tot, out=np.zeros_like(used), where=tot > 0)
    cut = inc * np.minimum(frac, 1.0)[:, None]
    if integral:  # largest remainders, so that whole flows stay whole
        base = np.floor(cut)
        left = np.rint(used - base.sum(1)).astype(np.int64)
        order = np.argsort(-(cut - base), axis=1, kind="stable")
        for e in np.flatnonzero(left > 0):
            base[e, order[e, : left[e]]] += 1.0
        cut = np.minimum(base, inc)
    return inc - cut


class OrganisationLayer:
    """Members, cells and assets inside every cartel, the campaign chain and its outcomes (one batch).

    Parameters
    ----------
    seeds : sequence of int
        Replicate seeds of the batch's experiments.
    params : sequence of mappings
        Each experiment's parameters (drawn).
    interventions : sequence of sequences of Intervention
        Each experiment's interventions (drawn keys).
    total_weeks : int
        Weeks simulated, spin-up included.
    reference_week : int
        Recorded week of the scenario's reference date (the capacity index is 100 there).
    labs : bool
        Place labs (only when the geography layer is on).
    integral_flows : bool
        The ecosystem's flows are whole numbers (``stochastic = true``); re-targeting keeps them whole.

    """

    def __init__(
        self,
        seeds: Sequence[int],
        params: Sequence[Mapping[str, float]],
        interventions: Sequence[Sequence[Intervention]],
        total_weeks: int,
        reference_week: int = 0,
        labs: bool = False,
        integral_flows: bool = False,
    ) -> None:
        self.seeds = [int(s) for s in seeds]
        self.params = list(params)
        n_e = len(self.params)
        self.scale = np.array([p["organisation_scale"] for p in self.params], np.float64)
        self.schedule = Schedule.compile(interventions, self.params, total_weeks)
        self.weights = np.stack([exposure(p) for p in self.params]) if n_e else np.zeros((0, 3, 7))
        shares = [role_shares(p) for p in self.params]
        self.p_lookout = np.array(
            [s[LOOKOUT] / (s[GUNMAN] + s[LOOKOUT]) if s[GUNMAN] + s[LOOKOUT] > 0 else 0.5 for s in shares]
        )
        det = [detect_per_sortie(p) for p in self.params]
        self.detect_member = np.array([d[0] for d in det]).reshape(n_e, -1)
        self.detect_asset = np.array([d[1] for d in det]).reshape(n_e, -1)
        self.rebuild_mean = np.array([p["asset_rebuild_weeks"] for p in self.params], np.float64)
        self.keys = {name: stream_keys(self.seeds, name) for name in _STREAMS}
        self.strike_keys = np.stack([self.keys[k] for k in _STREAMS[3:]]) if n_e else np.zeros((5, 0, 2), np.uint64)
        self.streams = Streams(self.seeds)
        self.reference_week = reference_week
        self.labs = labs
        self.integral = integral_flows
        self.members: Members | None = None
        self.cells: Cells | None = None
        self.assets: Assets | None = None
        self.capacity_ref = np.full(n_e, np.nan)
        self._acc: np.ndarray | None = None
        self._acc_arrests = np.zeros(n_e)
        self._acc_strikes = np.zeros(n_e)
        self._pending: np.ndarray | None = None

    # -- state ------------------------------------------------------------------------------------
    def generate(self, state: np.ndarray, week: int) -> None:
        """Generate members, cells and assets from the ecosystem ``state`` (E, N) at absolute ``week``."""
        self.members, self.cells, self.assets = generate(state, self.params, self.seeds, week, self.labs)
        self._acc = np.zeros((*state.shape, 3))
        self._pending = np.zeros(state.shape)

    def capacity(self) -> np.ndarray:
        """Trafficking capacity per experiment and cartel (cell-equivalents, in members' scale): (E, N)."""
        assert self.members is not None and self.cells is not None and self.assets is not None
        per_cell = cell_capacity(
            self.members.cell_role[:, :, LOGISTICS],
            self.assets.cell_kind[:, :, WAREHOUSE],
            self.assets.cell_kind[:, :, VEHICLE],
        )
        return self.cells.per_cartel(per_cell) / self.scale[:, None]

    # -- the weekly step ----------------------------------------------------------------------------
    def step(self, t: int, w: int, state: np.ndarray, flows: Flows, rec: Recorder) -> None:
        """Apply week ``t`` (recorded week ``w``): see the module docstring. ``flows`` may be rewritten."""
        if self.members is None:
            self.generate(state, t)
        m, cells, assets = self.members, self.cells, self.assets
        assert m is not None and cells is not None and assets is not None
        assert self._acc is not None and self._pending is not None
        s = self.scale[:, None]
        now = self.schedule.at(t)
        if assets.n_down.any():
            rebuild(assets.arrays(), t)
        self._record_stocks(w, rec)

        n_e, n = state.shape
        leaders = np.zeros((n_e, n), np.int64)
        self._retarget(t, now, flows, leaders)

        target = np.rint(
            self.scale[:, None]
            * np.maximum(state + flows.recruits - flows.incapacitated - flows.deaths - flows.exits, 0.0)
        ).astype(np.int64)
        generic_inc = flows.incapacitated - self._arrested / s
        expected = np.stack([generic_inc, flows.deaths, flows.exits], axis=2) * s[:, :, None]
        members_now = m.counts()
        k = removal_counts(self._acc, expected, members_now, target)
        m.ensure_room(np.maximum(target - members_now + k.sum(2), 0).sum(1))
        removed = np.zeros((n_e, n, 3), np.int64)
        recruits = np.zeros((n_e, n), np.int64)
        apply_flows(
            m.arrays(),
            cells.arrays(),
            k,
            target,
            self.weights,
            self.p_lookout,
            self.keys["org/removals"],
            self.keys["org/recruits"],
            t,
            w,
            removed,
            leaders,
            recruits,
        )

        out = np.zeros((6, n_e, n), np.int64)
        civilians = np.zeros((n_e, n))
        if (now["strategy"] >= 0).any():
            civilians = self._campaign(t, now, out)
        self._pending += out[2]
        scale = self.scale[:, None]
        for name, x in zip(
            FLOW_VARIABLES,
            (out[0], out[1], out[2], leaders + out[3], out[4], civilians),
            strict=True,
        ):
            v = x / scale
            rec.flow("national", name, w, v.sum(1))
            rec.flow("cartel", name, w, v)

    def _retarget(self, t: int, now: dict[str, np.ndarray], flows: Flows, leaders: np.ndarray) -> None:
        """Targeted arrests: spend a share of the incapacitation budget on one role, nationally."""
        assert self.members is not None
        n_e, n = flows.incapacitated.shape
        self._arrested = np.zeros((n_e, n), np.int64)
        on = (now["arrest_share"] > 0) & (now["arrest_target"] >= 0)
        if not on.any():
            return
        budget = np.where(on, now["arrest_share"] * flows.incapacitated.sum(1), 0.0) * self.scale
        x = self._acc_arrests + budget
        k = np.floor(x).astype(np.int64)
        self._acc_arrests = np.where(on, x - k, self._acc_arrests)
        role = np.where(on, _ARREST_ROLE[np.maximum(now["arrest_target"], 0)], -1)
        targeted_arrests(self.members.arrays(), k, role, self.keys["org/arrests"], t, self._arrested, leaders)
        used = self._arrested.sum(1) / self.scale
        flows.incapacitated[:] = (
            _shrink(flows.incapacitated, used, self.integral) + self._arrested / self.scale[:, None]
        )

    def _campaign(self, t: int, now: dict[str, np.ndarray], out: np.ndarray) -> np.ndarray:
        """Surveillance, target list and strikes; return bystanders killed per experiment and cartel."""
        m, a = self.members, self.assets
        assert m is not None and a is not None
        strategy = now["strategy"]
        on = strategy >= 0
        x = self._acc_strikes + np.where(on, now["strikes"], 0.0) * self.scale
        n_strikes = np.where(on, np.floor(x), 0).astype(np.int64)
        self._acc_strikes = np.where(on, x - n_strikes, self._acc_strikes)
        det_m = np.zeros(m.b_count.shape, np.int64)
        det_a = np.zeros(a.b_count.shape, np.int64)
        n = m.n_cartels
        for e in np.flatnonzero(on):
            g = self.streams.generator("org/detect", t, int(e))
            hazard = now["sorties"][e] * now["detection_factor"][e]
            pm = -np.expm1(-hazard * self.detect_member[e])
            pa = -np.expm1(-hazard * self.detect_asset[e])
            det_m[e] = g.binomial(m.b_count[e], np.tile(pm, n))
            det_a[e] = g.binomial(a.b_count[e], np.tile(pa, n))
        strike_week(
            m.arrays(),
            a.arrays(),
            m.mark,
            det_m,
            det_a,
            strategy,
            n_strikes,
            now["success"],
            now["misid"],
            self.rebuild_mean,
            self.strike_keys,
            t,
            MEMBER_TIER,
            ASSET_TIER,
            out,
        )
        civilians = out[5].astype(np.float64)
        for e in np.flatnonzero(out[0].sum(1) > 0):
            mean, disp = now["civ_mean"][e], now["civ_disp"][e]
            if mean <= 0.0:
                continue
            g = self.streams.generator("org/civilian_deaths", t, int(e))
            k = out[0, e]
            draws = g.negative_binomial(np.maximum(k, 1) * disp, disp / (disp + mean))
            civilians[e] += np.where(k > 0, draws, 0)
        return civilians

    def _record_stocks(self, w: int, rec: Recorder) -> None:
        if not (rec.records("national", w) or rec.records("cartel", w) or w == self.reference_week):
            return
        assert self.members is not None
        cap = self.capacity()
        if w == self.reference_week:
            self.capacity_ref = cap.sum(1)
        lead = self.members.role_counts()[:, :, LEADER] / self.scale[:, None]
        for name, v in zip(STOCK_VARIABLES, (lead, cap), strict=True):
            rec.stock("national", name, w, v.sum(1))
            rec.stock("cartel", name, w, v)

    def write_back(self, state: np.ndarray) -> None:
        """Members killed by strikes this week leave the ecosystem's C_i (after the week's Euler step)."""
        if self._pending is None or not self._pending.any():
            return
        state -= self._pending / self.scale[:, None]
        np.maximum(state, 0.0, out=state)
        self._pending[:] = 0.0

    def finish(self, rec: Recorder) -> None:
        """Add ``trafficking_capacity_index`` at the national level (100 = the reference week's capacity)."""
        nat = rec.arrays.get("national", {})
        if "n_trafficking_capacity" in nat:
            ref = self.capacity_ref[:, None, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                nat["trafficking_capacity_index"] = np.where(ref > 0, 100.0 * nat["n_trafficking_capacity"] / ref, 0.0)
