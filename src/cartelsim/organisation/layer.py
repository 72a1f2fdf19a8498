"""The organisation layer in the weekly loop: step (3) of DESIGN.md's order, and its outcomes.

:class:`OrganisationLayer` is built once per batch by :func:`cartelsim.simulation.simulate_batch` and
called by the general loop at every recorded week (the spin-up runs the ecosystem alone; the layer is
generated from the ecosystem state at ``start``):

1. :meth:`~OrganisationLayer.step`, after the week's ecosystem flows and before they are recorded:
   destroyed assets whose delay has passed are back; stocks are recorded (start of the week); open roles
   are refilled (replacement and succession, :mod:`.adaptation`); targeted arrests re-target part of the
   incapacitation budget (the flows' per-cartel incapacitations are rewritten, same national total); the
   flows are applied to members (:mod:`.coupling`); removals queued by code (:meth:`queue_removals`: the
   backcast's and the validation's leader removals) act; the campaign's surveillance, target list and
   strikes act (:mod:`.campaign`); each targeted removal of a leader or plaza boss opens an episode of
   violence in its cell and each of a leader may split its cartel (drawn now, done at the write-back);
   flows are recorded.
2. :meth:`~OrganisationLayer.write_back`, after the ecosystem state has advanced: members killed by strikes
   or removed by code leave C_i (divided by ``organisation_scale``); each fission splits C_i between its
   two factions in proportion to the members each takes (members conserved; :mod:`.factions`; counted
   nationally as ``new_fissions``), growing
   the batch's columns when an experiment has no free one; the ecosystem kernel's :meth:`extension` for
   the next week is refreshed (factions' rivalries and alliances, conflict multipliers of the open episodes).
3. :meth:`~OrganisationLayer.finish`: ``trafficking_capacity_index`` (100 = the experiment's capacity in
   the scenario's reference week).

Every count of the layer is in agents inside and in members (divided by ``organisation_scale``) in the
outcomes. Outcomes are aggregates by nation and cartel only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cartelsim.ecosystem import Extension, Flows
from cartelsim.layers import Week
from cartelsim.network import Network, load_network
from cartelsim.organisation.adaptation import Episodes, fission_probability, leader_target, open_roles, refill
from cartelsim.organisation.assets import Assets, rebuild
from cartelsim.organisation.campaign import ASSET_TIER, MEMBER_TIER, strike_week
from cartelsim.organisation.cells import Cells, cartel_capacity
from cartelsim.organisation.coupling import apply_flows, removal_counts, targeted_arrests
from cartelsim.organisation.factions import FactionRegistry, move_cartel
from cartelsim.organisation.generate import generate
from cartelsim.organisation.members import Members, move_member, remove_member
from cartelsim.organisation.roles import (
    FINANCE,
    GUNMAN,
    LEADER,
    LOGISTICS,
    LOOKOUT,
    PLAZA_BOSS,
    PRODUCTION,
    VEHICLE,
    WAREHOUSE,
    detect_per_sortie,
    exposure,
    role_shares,
)
from cartelsim.organisation.schedule import Schedule
from cartelsim.philox import stream_keys, uniform
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
_STREAMS = ("org/removals", "org/recruits", "org/arrests", "org/detect", "org/order", "org/misidentified",
            "org/success", "org/rebuild")  # fmt: skip
_ADAPT = ("org/refill", "org/promote", "org/fission", "org/split", "org/leader_slots", "org/kingpin")
#: A scenario's replacement logs no promotion (the Duijn check does, ``adaptation.refill``'s ``log``).
_NO_LOG = np.zeros((0, 4), np.int64)
#: Faction columns added at a time when an experiment of the batch runs out.
GROW_COLUMNS = 16


def _row_sum(x: np.ndarray) -> np.ndarray:
    """Sum over cartels in column order: empty faction columns another experiment added change nothing."""
    return np.cumsum(x, axis=1)[:, -1] if x.shape[1] else np.zeros(x.shape[0])


def _shrink(inc: np.ndarray, used: np.ndarray, integral: bool) -> np.ndarray:
    """Take ``used[e]`` out of ``inc[e]`` in proportion to each cartel's share (whole numbers if integral)."""
    tot = _row_sum(inc)
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
    """Members, cells and assets inside every cartel, the campaign chain, adaptation and outcomes (one batch).

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
        The ecosystem's flows are whole numbers (``stochastic = true``); re-targeting and fissions keep
        them whole.
    network : Network, optional
        The groups (default: the bundled BACRIM 2020 network).

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
        network: Network | None = None,
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
        self.keys = {name: stream_keys(self.seeds, name) for name in (*_STREAMS, *_ADAPT)}
        self.strike_keys = np.stack([self.keys[k] for k in _STREAMS[3:]]) if n_e else np.zeros((5, 0, 2), np.uint64)
        self.streams = Streams(self.seeds)
        self.reference_week = reference_week
        self.labs = labs
        self.integral = integral_flows
        self.members: Members | None = None
        self.cells: Cells | None = None
        self.assets: Assets | None = None
        self.capacity_ref = np.full(n_e, np.nan)
        #: The cartels' total trafficking capacity at the start of this week (members' scale), per experiment:
        #: set by every :meth:`step`, passed by the loop to the geography layer (never read from the recorder).
        self.trafficking_capacity = np.zeros(n_e)
        self._acc: np.ndarray | None = None
        self._acc_arrests = np.zeros(n_e)
        self._acc_strikes = np.zeros(n_e)
        self._pending: np.ndarray | None = None
        # adaptation (models/organisation.md, "Adaptation"; module .adaptation)
        self.network = network if network is not None else load_network()
        self.registry = FactionRegistry(self.network, n_e)
        self.episodes = Episodes()

        def col(name: str) -> np.ndarray:
            return np.array([p[name] for p in self.params], np.float64)

        self.fill = np.zeros((n_e, 7))
        self.fill[:, LEADER] = 1.0 / col("succession_weeks")
        self.fill[:, PLAZA_BOSS] = 1.0 / col("replacement_plaza_boss_weeks")
        for r in (LOGISTICS, PRODUCTION, FINANCE):
            self.fill[:, r] = 1.0 / col("replacement_cell_role_weeks")
        self.shares = np.stack(shares) if n_e else np.zeros((0, 7))
        self.lead_extra, self.lead_max = col("members_per_extra_leader"), col("leaders_per_cartel_max")
        self.excess = col("removal_violence_leader_factor") - 1.0
        self.kill_factor = col("removal_violence_killing_factor")
        self.boss_share = col("removal_violence_plaza_boss_share")
        self.violence_weeks = np.maximum(1, np.rint(col("removal_violence_weeks"))).astype(np.int64)
        self.p1000, self.p20000 = col("fission_probability_1000_members"), col("fission_probability_20000_members")
        self.breakaway = col("fission_breakaway_share")
        self.rivalry_share, self.alliance_share = col("faction_rivalry_share"), col("faction_alliance_share")
        self.sibling = col("faction_rivalry_weight")
        self.lead_u: np.ndarray | None = None
        self._extension: Extension | None = None
        self.rec: Recorder | None = None
        self._queued: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._fissions: list[tuple[int, int, int]] = []
        self._t = 0
        self._w = 0
        self.n_fissions = np.zeros(n_e, np.int64)
        #: Cells followed through fissions (experiment -> cell index), for measures written in code.
        self.tracked: dict[int, int] = {}
        #: Leaders removed by :meth:`queue_removals` so far, per experiment (agents).
        self.removed_by_code = np.zeros(n_e, np.int64)

    # -- state ------------------------------------------------------------------------------------
    def generate(self, state: np.ndarray, week: int) -> None:
        """Generate members, cells and assets from the ecosystem ``state`` (E, N) at absolute ``week``."""
        self.members, self.cells, self.assets = generate(state, self.params, self.seeds, week, self.labs)
        self._acc = np.zeros((*state.shape, 3))
        self._pending = np.zeros(state.shape)
        n_e, n = state.shape
        self.lead_u = np.array([self.streams.generator("org/leader_slots", week, e).random(n) for e in range(n_e)])
        self.lead_u = self.lead_u.reshape(n_e, n)
        self._refresh_extension(week)

    @property
    def counted(self) -> np.ndarray:
        """Columns that ``n_cartels`` counts (criminal groups, factions included), per experiment: (E, N')."""
        return self.registry.counted

    def fold(self, x: np.ndarray) -> np.ndarray:
        """A per-column quantity (E, N') summed onto the network's groups (factions onto their root group)."""
        return self.registry.fold(x)

    def capacity(self) -> np.ndarray:
        """Trafficking capacity per experiment and cartel (cell-equivalents, in members' scale): (E, N)."""
        assert self.members is not None and self.cells is not None and self.assets is not None
        out = np.zeros((self.members.cell_role.shape[0], self.cells.first.shape[1] - 1))
        cartel_capacity(
            self.members.cell_role[:, :, LOGISTICS],
            self.assets.cell_kind[:, :, WAREHOUSE],
            self.assets.cell_kind[:, :, VEHICLE],
            self.cells.first,
            out,
        )
        return out / self.scale[:, None]

    def queue_removals(self, counts: np.ndarray, killing: np.ndarray, cartel: np.ndarray | None = None) -> None:
        """Remove leaders at the next :meth:`step`, beyond the ecosystem's flows (the backcast, validation).

        Parameters
        ----------
        counts : ndarray of int, shape (E,)
            Leader agents to remove per experiment, each uniformly among the leaders of the country (or of
            ``cartel[e]`` when given and >= 0): rates applied to synthetic members, never a list of persons.
        killing : ndarray of bool, shape (E,)
            Killings (True) or captures.
        cartel : ndarray of int, shape (E,), optional
            Column to take them from (-1: anywhere).

        """
        n_e = len(self.seeds)
        where = np.full(n_e, -1, np.int64) if cartel is None else np.asarray(cartel, np.int64)
        self._queued.append((len(self._queued), np.asarray(counts, np.int64), np.asarray(killing, bool), where))

    # -- the weekly step ----------------------------------------------------------------------------
    def extension(self, w: int) -> Extension | None:
        """The ecosystem kernel's additions for recorded week ``w``: factions, violence after removals."""
        return self._extension if w >= 0 else None

    def step(self, week: Week) -> None:
        """Apply the week (recorded weeks only): see the module docstring. ``week.flows`` may be rewritten."""
        if week.w < 0:
            return
        self.advance(week.t, week.w, week.state, week.flows, week.rec)
        week.capacity = self.trafficking_capacity

    def advance(self, t: int, w: int, state: np.ndarray, flows: Flows, rec: Recorder) -> None:
        """Apply week ``t`` (recorded week ``w``) to ``state`` and ``flows`` (:meth:`step` without the Week)."""
        self.rec = rec
        self._t, self._w = t, w
        if self.members is None:
            self.generate(state, t)
        m, cells, assets = self.members, self.cells, self.assets
        assert m is not None and cells is not None and assets is not None
        assert self._acc is not None and self._pending is not None and self.lead_u is not None
        s = self.scale[:, None]
        now = self.schedule.at(t)
        if assets.n_down.any():
            rebuild(assets.arrays(), t)
        self._record_stocks(w, rec)
        self._refill(t)

        n_e, n = state.shape
        leaders = np.zeros((n_e, n), np.int64)
        events: list[np.ndarray] = []
        self._retarget(t, now, flows, leaders, events)

        target = np.rint(
            self.scale[:, None]
            * np.maximum(state + flows.recruits - flows.incapacitated - flows.deaths - flows.exits, 0.0)
        ).astype(np.int64)
        generic_inc = flows.incapacitated - self._arrested / s
        expected = np.stack([generic_inc, flows.deaths, flows.exits], axis=2) * s[:, :, None]
        members_now = m.counts()
        k = removal_counts(self._acc, expected, members_now, target)
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
            removed,
            leaders,
            recruits,
        )
        self._remove_queued(t, leaders, events)

        out = np.zeros((6, n_e, n), np.int64)
        civilians = np.zeros((n_e, n))
        if (now["strategy"] >= 0).any():
            civilians = self._campaign(t, now, out, events)
        self._pending += out[2]
        self._adapt(t, events)
        scale = self.scale[:, None]
        for name, x in zip(
            FLOW_VARIABLES,
            (out[0], out[1], out[2], leaders + out[3], out[4], civilians),
            strict=True,
        ):
            v = x / scale
            rec.flow("national", name, w, self.registry.total(v))
            rec.flow("cartel", name, w, v)
        rec.flow("national", "new_fissions", w, np.zeros(n_e))  # counted at the write-back, where they happen

    def _refill(self, t: int) -> None:
        """Replacement and succession (:func:`~cartelsim.organisation.adaptation.refill`)."""
        m, cells = self.members, self.cells
        assert m is not None and cells is not None and self.lead_u is not None
        need = leader_target(m.counts(), self.scale, self.lead_extra, self.lead_max, self.lead_u)
        promoted = np.zeros(need.shape, np.int64)
        m.ensure_room(open_roles(m.arrays(), self.shares))
        refill(
            m.arrays(),
            cells.first,
            cells.cartel,
            need,
            self.fill,
            self.shares,
            self.keys["org/refill"],
            self.keys["org/promote"],
            t,
            promoted,
            _NO_LOG,
            np.zeros(1, np.int64),
        )

    def _retarget(
        self, t: int, now: dict[str, np.ndarray], flows: Flows, leaders: np.ndarray, events: list[np.ndarray]
    ) -> None:
        """Targeted arrests: spend a share of the incapacitation budget on one role, nationally."""
        assert self.members is not None
        n_e, n = flows.incapacitated.shape
        self._arrested = np.zeros((n_e, n), np.int64)
        on = (now["arrest_share"] > 0) & (now["arrest_target"] >= 0)
        if not on.any():
            return
        budget = np.where(on, now["arrest_share"] * _row_sum(flows.incapacitated), 0.0) * self.scale
        x = self._acc_arrests + budget
        k = np.floor(x).astype(np.int64)
        self._acc_arrests = np.where(on, x - k, self._acc_arrests)
        role = np.where(on, _ARREST_ROLE[np.maximum(now["arrest_target"], 0)], -1)
        ev = np.zeros((int(k.sum()), 5), np.int64)
        n_ev = np.zeros(1, np.int64)
        eligible = self.counted[:, : self.members.n_cartels]  # never a group that is not a cartel
        targeted_arrests(
            self.members.arrays(), k, role, eligible, self.keys["org/arrests"], t, self._arrested, leaders, ev, n_ev, 0
        )
        events.append(ev[: n_ev[0]])
        used = _row_sum(self._arrested) / self.scale
        flows.incapacitated[:] = (
            _shrink(flows.incapacitated, used, self.integral) + self._arrested / self.scale[:, None]
        )

    def _remove_queued(self, t: int, leaders: np.ndarray, events: list[np.ndarray]) -> None:
        """Leader removals queued by :meth:`queue_removals` (they leave C_i at the write-back)."""
        m = self.members
        assert m is not None and self._pending is not None
        for q, counts, killing, where in self._queued:
            k0, k1 = self.keys["org/kingpin"][:, 0], self.keys["org/kingpin"][:, 1]
            rows = []
            for e in np.flatnonzero(counts > 0):
                for i in range(int(counts[e])):
                    lead = m.role_counts()[e, :, LEADER] * self.counted[e, : m.n_cartels]  # cartels only
                    if where[e] >= 0:
                        lead = np.where(np.arange(lead.size) == where[e], lead, 0)
                    tot = int(lead.sum())
                    if tot == 0:
                        break
                    x = min(int(uniform(k0[e], k1[e], q, i, 0, t) * tot), tot - 1)
                    c = int(np.searchsorted(np.cumsum(lead), x, side="right"))
                    j = int(m.b_idx[e, m.b_start[e, c * 7 + LEADER] + x - (lead[:c].sum() if c else 0)])
                    cell = int(m.cell[e, j])
                    remove_member(m.arrays(), e, j)
                    leaders[e, c] += 1
                    self._pending[e, c] += 1
                    self.removed_by_code[e] += 1
                    rows.append((e, c, cell, LEADER, int(killing[e])))
            events.append(np.array(rows, np.int64).reshape(-1, 5))
        self._queued = []

    def _campaign(self, t: int, now: dict[str, np.ndarray], out: np.ndarray, events: list[np.ndarray]) -> np.ndarray:
        """Surveillance, target list and strikes; return bystanders killed per experiment and cartel."""
        m, a, cells = self.members, self.assets, self.cells
        assert m is not None and a is not None and cells is not None
        strategy = now["strategy"]
        on = strategy >= 0
        x = self._acc_strikes + np.where(on, now["strikes"], 0.0) * self.scale
        n_strikes = np.where(on, np.floor(x), 0).astype(np.int64)
        self._acc_strikes = np.where(on, x - n_strikes, self._acc_strikes)
        hazard = np.where(on, now["sorties"] * now["detection_factor"], 0.0)[:, None]
        ev = np.zeros((int(n_strikes.sum()), 5), np.int64)
        n_ev = np.zeros(1, np.int64)
        strike_week(
            m.arrays(),
            a.arrays(),
            cells.first,
            -np.expm1(-hazard * self.detect_member),
            -np.expm1(-hazard * self.detect_asset),
            self.counted[:, : m.n_cartels],  # groups that are not cartels are never listed
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
            ev,
            n_ev,
        )
        events.append(ev[: n_ev[0]])
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

    def _adapt(self, t: int, events: list[np.ndarray]) -> None:
        """Targeted removals of leaders and plaza bosses: episodes of violence and fission draws."""
        m = self.members
        assert m is not None
        ev = np.concatenate(events) if events else np.zeros((0, 5), np.int64)
        if not ev.size:
            return
        counts = m.counts()
        bosses = m.role_counts()[:, :, PLAZA_BOSS]
        queued: set[tuple[int, int]] = {(e, c) for e, c, _ in self._fissions}
        k0, k1 = self.keys["org/fission"][:, 0], self.keys["org/fission"][:, 1]
        seen = np.zeros(len(self.seeds), np.int64)  # an event's number within its experiment: batch-independent
        for e, c, cell, role, killing in ev.tolist():
            i = int(seen[e])
            seen[e] += 1
            x = self.excess[e] * (self.kill_factor[e] if killing else 1.0)
            if role == PLAZA_BOSS:
                x *= self.boss_share[e]
            self.episodes.add(e, c, cell, x, t + 1 + int(self.violence_weeks[e]))
            if role != LEADER or (e, c) in queued:
                continue
            s = self.scale[e]
            p = fission_probability(counts[e, c] / s, bosses[e, c] / s, self.p1000[e], self.p20000[e])
            if uniform(k0[e], k1[e], c, i, 0, t) < float(p):
                self._fissions.append((e, c, cell))
                queued.add((e, c))

    def _record_stocks(self, w: int, rec: Recorder) -> None:
        """Stocks at the start of week ``w``: the capacity every week (the coupling), recorded when due."""
        assert self.members is not None
        cap = self.capacity()
        self.trafficking_capacity = self.registry.total(cap)
        if w == self.reference_week:
            self.capacity_ref = self.trafficking_capacity.copy()
        if not (rec.records("national", w) or rec.records("cartel", w)):
            return
        lead = self.members.role_counts()[:, :, LEADER] / self.scale[:, None]
        for name, v in zip(STOCK_VARIABLES, (lead, cap), strict=True):
            rec.stock("national", name, w, self.registry.total(v))
            rec.stock("cartel", name, w, v)

    # -- write-back: strike removals, fissions ------------------------------------------------------
    def write_back(self, week: Week) -> None:
        """After the Euler step: :meth:`apply_removals` to ``week.state``; the deaths folded for the next layer."""
        if week.w < 0:
            return
        week.state = self.apply_removals(week.state)
        week.deaths = self.fold(week.flows.deaths)

    def apply_removals(self, state: np.ndarray) -> np.ndarray:
        """After the week's Euler step: removals leave C_i, fissions split it; return the (maybe wider) state."""
        if self._pending is not None and self._pending.any():
            state -= self._pending / self.scale[:, None]
            np.maximum(state, 0.0, out=state)
            self._pending[:] = 0.0
        if self._fissions:
            need = max(2 * sum(1 for f in self._fissions if f[0] == e) - self.registry.free(e)
                       for e in range(len(self.seeds)))  # fmt: skip
            if need > 0:
                state = self._grow(GROW_COLUMNS * -(-need // GROW_COLUMNS), state)
            done = np.zeros(len(self.seeds))
            for e, c, cell in self._fissions:
                done[e] += self._split(e, c, cell, state)
            self._fissions = []
            if self.rec is not None:
                self.rec.flow("national", "new_fissions", self._w, done)
        if self.members is not None:
            self._refresh_extension(self._t + 1)
        return state

    def _grow(self, k: int, state: np.ndarray) -> np.ndarray:
        """Add ``k`` faction columns to the batch: members, cells, assets, registry, recorder and state."""
        m, cells, a = self.members, self.cells, self.assets
        assert m is not None and cells is not None and a is not None
        assert self._acc is not None and self._pending is not None and self.lead_u is not None
        n_e = state.shape[0]
        m.grow(extra_cartels=k)
        cells.grow(extra_cartels=k)
        a.grow(extra_cartels=k)
        self.registry.grow(k)
        self._acc = np.concatenate([self._acc, np.zeros((n_e, k, 3))], 1)
        self._pending = np.concatenate([self._pending, np.zeros((n_e, k))], 1)
        self.lead_u = np.concatenate([self.lead_u, np.zeros((n_e, k))], 1)
        rec = self.rec
        if rec is not None and "cartel" in rec.group_ids:
            rec.group_ids["cartel"] = rec.group_ids["cartel"] + self.registry.ids[-k:]
            arrs = rec.arrays.get("cartel", {})
            for var, arr in arrs.items():
                arrs[var] = np.concatenate([arr, np.zeros((arr.shape[0], k, arr.shape[2]))], 1)
        return np.concatenate([state, np.zeros((n_e, k))], 1)

    def _split(self, e: int, p: int, removed_cell: int, state: np.ndarray) -> bool:
        """Split column ``p`` of experiment ``e`` into two factions (see :mod:`.factions`); False if it cannot."""
        m, cells, a = self.members, self.cells, self.assets
        assert m is not None and cells is not None and a is not None
        assert self._acc is not None and self.lead_u is not None
        t = self._t
        lo, hi = int(cells.first[e, p]), int(cells.first[e, p + 1])
        size = m.cell_role[e, lo:hi].sum(1)
        nonempty = np.flatnonzero(size > 0) + lo
        if nonempty.size < 2:
            return False
        lead_cells = set((np.flatnonzero(m.cell_role[e, lo:hi, LEADER] > 0) + lo).tolist())
        b = p * 7 + PLAZA_BOSS
        bosses = m.b_idx[e, m.b_start[e, b] : m.b_start[e, b] + m.b_count[e, b]]
        cand = np.sort(bosses[~np.isin(m.cell[e, bosses], list(lead_cells))])
        if cand.size == 0:
            return False
        k0, k1 = self.keys["org/split"][e]
        jc = int(cand[min(int(uniform(k0, k1, p, 0, 0, t) * cand.size), cand.size - 1)])
        kc = int(m.cell[e, jc])
        to_f2 = np.zeros(nonempty.size, bool)
        for i, k in enumerate(nonempty.tolist()):
            if k == kc:
                to_f2[i] = True
            elif k not in lead_cells and k != removed_cell:
                to_f2[i] = uniform(k0, k1, p, k + 1, 1, t) < self.breakaway[e]
        if to_f2.all():  # the leaders' faction needs a cell: the removed leader's, else the first other one
            to_f2[np.flatnonzero(nonempty != kc)[0]] = False
        f1, f2 = self.registry.split(
            e, p, float(self.rivalry_share[e]), float(self.alliance_share[e]), float(self.sibling[e]), self._w
        )
        old = np.concatenate([nonempty[~to_f2], nonempty[to_f2]])
        n1 = int((~to_f2).sum())
        end = int(cells.first[e, -1])
        extra = end + old.size - cells.cartel.shape[1]
        if extra > 0:
            grow = max(extra, 256)
            cells.grow(extra_cells=grow)
            m.grow(extra_cells=grow)
            a.grow(extra_cells=grow)
        new = end + np.arange(old.size)
        cols = np.where(np.arange(old.size) < n1, f1, f2)
        cells.cartel[e, new] = cols
        wts = cells.weights(e, lo, hi)[old - lo]
        for sel in (slice(0, n1), slice(n1, None)):
            ww = wts[sel] / wts[sel].sum() if wts[sel].sum() > 0 else np.full(wts[sel].size, 1.0 / wts[sel].size)
            cum = np.cumsum(ww)
            cum[-1] = 1.0
            cells.cum[e, new[sel]] = cum
        cells.first[e, f1 + 1] = end + n1
        cells.first[e, f2 + 1 :] = end + old.size
        cell_map = np.full(cells.cartel.shape[1], -1, np.int64)
        col_map = np.full(cells.cartel.shape[1], -1, np.int64)
        cell_map[old], col_map[old] = new, cols
        move_cartel(m.arrays(), e, p, cell_map, col_map)
        n_a = int(a.n[e])
        moved = np.flatnonzero((a.cartel[e, :n_a] == p) & (cell_map[np.maximum(a.cell[e, :n_a], 0)] >= 0))
        a.cartel[e, moved] = col_map[a.cell[e, moved]]
        a.cell[e, moved] = cell_map[a.cell[e, moved]]
        a.cell_kind[e, new] = a.cell_kind[e, old]
        a.cell_kind[e, old] = 0
        a.reindex(e)
        move_member(m.arrays(), e, jc, f2, kc if cell_map[kc] < 0 else int(cell_map[kc]), LEADER)
        self.episodes.remap(e, old, new, cols)
        if e in self.tracked and cell_map[self.tracked[e]] >= 0:
            self.tracked[e] = int(cell_map[self.tracked[e]])
        n_f = m.counts()[e, [f1, f2]].astype(np.float64)
        c_p = state[e, p]
        c1 = c_p * n_f[0] / n_f.sum() if n_f.sum() > 0 else 0.5 * c_p
        if self.integral:
            c1 = float(np.rint(c1))
        state[e, f1], state[e, f2], state[e, p] = c1, c_p - c1, 0.0
        share = n_f / n_f.sum() if n_f.sum() > 0 else np.array([0.5, 0.5])
        self._acc[e, [f1, f2]] = self._acc[e, p][None, :] * share[:, None]
        self._acc[e, p] = 0.0
        self.lead_u[e, [f1, f2]] = [uniform(k0, k1, f, 0, 2, t) for f in (f1, f2)]
        self.n_fissions[e] += 1
        return True

    def _refresh_extension(self, week: int) -> None:
        """The ecosystem's additions for the flows of ``week``: factions' ties and the episodes' multipliers."""
        m = self.members
        assert m is not None
        counts = m.counts().astype(np.float64)
        if len(self.episodes):
            mult, any_mult = self.episodes.multipliers(m.cell_role, counts, week)
        else:
            mult, any_mult = np.ones(counts.shape), np.zeros(counts.shape[0], bool)
        self._extension = self.registry.extension(mult, any_mult)

    def local_deaths(self, deaths: np.ndarray, e: int, cell: int) -> float:
        """Conflict deaths of the cartel owning ``cell`` that fall in that cell this week (its places).

        ``deaths`` is the week's per-column conflict deaths (E, N'): the cartel's deaths times the cell's
        members times its multiplier, over the cartel's members times its multiplier (see :mod:`.adaptation`).
        """
        m, cells = self.members, self.cells
        assert m is not None and cells is not None
        c = int(cells.cartel[e, cell])
        n_cell = float(m.cell_role[e, cell].sum())
        lo, hi = int(cells.first[e, c]), int(cells.first[e, c + 1])
        sizes = m.cell_role[e, lo:hi].sum(1).astype(np.float64)
        mus = np.array([self.episodes.local(e, k) for k in range(lo, hi)]) if len(self.episodes) else np.ones(hi - lo)
        den = float((sizes * mus).sum())
        return float(deaths[e, c]) * n_cell * self.episodes.local(e, cell) / den if den > 0 else 0.0

    def faction_records(self) -> list[list[tuple[int, str, str, str, str, int]]]:
        """Per experiment, its factions as (column, group, parent, label, kind, week created)."""
        return [
            [(f.column, f.group, f.parent, f.label, f.kind, f.week) for f in sorted(d.values(), key=lambda x: x.column)]
            for d in self.registry.factions
        ]

    def finish(self, rec: Recorder) -> None:
        """Add ``trafficking_capacity_index`` at the national level (100 = the reference week's capacity)."""
        nat = rec.arrays.get("national", {})
        if "n_trafficking_capacity" in nat:
            ref = self.capacity_ref[:, None, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                nat["trafficking_capacity_index"] = np.where(ref > 0, 100.0 * nat["n_trafficking_capacity"] / ref, 0.0)
