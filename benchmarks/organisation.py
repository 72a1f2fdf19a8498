"""Organisation benchmark (DESIGN.md, Performance targets).

About 175,000 synthetic members weekly for 10 years (2022-2032, spun up from 2012; about 91 million
agent-weeks per experiment) through the public API (`cartelsim.run_experiments`), for baseline and a
leadership strike campaign (sorties, detection, target list, strikes, write-back), on one core; against a
Mesa 3 version of the same weekly rules (every agent steps every week: its chance of being arrested,
killed in conflict or leaving this week follows its role's exposure so that the cartel loses what the
ecosystem says; recruits fill each cartel up to the ecosystem's count; under the campaign every agent may
be detected and strikes take the top of the list), run on a sample of agents for a shorter span and
scaled per agent-week, in the same process. cartelsim's step costs what the week's events cost (it picks
who is removed, recruited or detected from per-role indexes; the same distribution as one draw per agent),
Mesa's what its agents cost. Prints times and ratios and writes benchmarks/results/organisation.json.

Run: python benchmarks/organisation.py [--mesa-scale 0.05] [--mesa-weeks 52]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import cartelsim  # noqa: E402
from cartelsim.ecosystem import EcosystemModel  # noqa: E402
from cartelsim.network import load_network  # noqa: E402
from cartelsim.organisation.coupling import removal_counts  # noqa: E402
from cartelsim.organisation.generate import generate  # noqa: E402
from cartelsim.organisation.roles import GUNMAN, LEADER, LOOKOUT, PLAZA_BOSS, exposure, role_shares  # noqa: E402
from cartelsim.params import defaults  # noqa: E402
from cartelsim.simulation import ECO  # noqa: E402

SORTIES, STRIKES = 50.0, 3.0
SCENARIO = f"""
[scenario]
name = "bench-organisation"
start = 2022-01-01
end = 2032-01-01
seed = 1
replicates = 1
layers = ["ecosystem", "organisation"]
record = {{ national = 1, groups = "none" }}
[[policy]]
name = "campaign"
  [[policy.intervention]]
  type = "strike_campaign"
  start = 2022-01-01
  target = "leadership"
  sorties_per_week = {SORTIES}
  strikes_per_week = {STRIKES}
"""


def mesa_run(scale: float, weeks: int, campaign: bool = True, seed: int = 0) -> dict[str, float]:
    """The same weekly rules as Mesa 3 agents, at ``scale`` agents per member, from the 2022 state."""
    import mesa  # optional extra "bench": imported only here

    p = defaults()
    net = load_network()
    eco = EcosystemModel(net)
    state = eco.initial_state(np.array([p["initial_members"]]))
    pars = [np.array([p[k]]) for k in ECO]
    for _ in range(520):  # spin-up 2012-2022, ecosystem only (as cartelsim does)
        eco.flows(state, *pars).apply(state)
    m0, cells, _ = generate(state, [{**p, "organisation_scale": scale}], [seed], week=520)
    w = exposure(p)
    shares = role_shares(p)
    p_lookout = shares[LOOKOUT] / (shares[GUNMAN] + shares[LOOKOUT])
    det = 1.0 - math.exp(-SORTIES * p["detect_per_sortie_leader"])
    det_boss = 1.0 - math.exp(-SORTIES * p["detect_per_sortie_plaza_boss"])
    n = net.n

    class Member(mesa.Agent):
        def __init__(self, model: Org, cartel: int, cell: int, role: int, joined: int) -> None:
            super().__init__(model)
            self.cartel, self.cell, self.role, self.joined = cartel, cell, role, joined
            model.counts[cartel, role] += 1

        def leave(self) -> None:
            self.model.counts[self.cartel, self.role] -= 1
            self.remove()

        def step(self) -> None:
            m = self.model
            u = m.random.random()
            h = m.hazard[self.cartel, :, self.role]
            if u < h[0] + h[1] + h[2]:
                m.removed += 1
                self.leave()
                return
            if m.campaign and self.role <= PLAZA_BOSS:
                if m.random.random() < (det if self.role == LEADER else det_boss):
                    m.detected.append(self)

    class Org(mesa.Model):
        def __init__(self) -> None:
            super().__init__(seed=seed)
            self.counts = np.zeros((n, 7), np.int64)
            self.state = state.copy()
            self.acc = np.zeros((1, n, 3))
            self.hazard = np.zeros((n, 3, 7))
            self.campaign = campaign
            self.detected: list[Member] = []
            self.removed = 0
            self.strike_acc = 0.0
            self.agent_weeks = 0
            self.gap = 0.0
            first, cum = cells.first[0], cells.cum[0]
            self.cells_of = [list(range(first[c], first[c + 1])) for c in range(n)]
            self.cum_of = [list(cum[first[c] : first[c + 1]]) for c in range(n)]
            k = int(m0.n_used[0])
            for c, k_cell, r in zip(m0.cartel[0, :k], m0.cell[0, :k], m0.role[0, :k], strict=True):
                Member(self, int(c), int(k_cell), int(r), -1)

        def step(self) -> None:
            f = eco.flows(self.state, *pars)
            members = self.counts.sum(1)[None, :]
            target = np.rint(scale * np.maximum(self.state + f.recruits - f.incapacitated - f.deaths - f.exits, 0))
            target = target.astype(np.int64)
            expected = np.stack([f.incapacitated, f.deaths, f.exits], axis=2) * scale
            k = removal_counts(self.acc, expected, members, target)[0]
            weight = self.counts @ w.T  # (n, 3): sum over roles of count x exposure
            with np.errstate(divide="ignore", invalid="ignore"):
                self.hazard = np.nan_to_num(k[:, :, None] * w[None, :, :] / weight[:, :, None])
            self.detected = []
            self.agent_weeks += len(self.agents)
            self.agents.shuffle_do("step")
            for c in range(n):  # recruits (or extra removals) to the ecosystem's count
                have = int(self.counts[c].sum())
                for _ in range(int(target[0, c]) - have):
                    role = LOOKOUT if self.random.random() < p_lookout else GUNMAN
                    cell = self.random.choices(self.cells_of[c], cum_weights=self.cum_of[c])[0]
                    Member(self, c, cell, role, self.steps)
                if have > target[0, c]:
                    pool = [a for a in self.agents if a.cartel == c]
                    for a in self.random.sample(pool, have - int(target[0, c])):
                        a.leave()
            f.apply(self.state)
            if self.campaign:  # leaders first, then plaza bosses, each in detection order
                self.strike_acc += STRIKES * scale
                n_strikes = int(self.strike_acc)
                self.strike_acc -= n_strikes
                order = sorted(self.detected, key=lambda a: a.role)
                top = 0
                for _ in range(n_strikes):
                    if top >= len(order):
                        break
                    if self.random.random() < p["strike_success_probability"]:
                        a = order[top]
                        top += 1
                        if self.random.random() >= p["misidentification_share"]:
                            self.state[0, a.cartel] -= 1.0 / scale
                            a.leave()
            self.gap = max(self.gap, float(np.abs(self.counts.sum(1) - scale * self.state[0]).max()))

    model = Org()
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    return {"seconds": dt, "agent_weeks": model.agent_weeks, "agents_at_start": int(m0.n_used[0]), "gap": model.gap}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mesa-scale", type=float, default=0.05, help="Mesa agents per member (the sample)")
    ap.add_argument("--mesa-weeks", type=int, default=52)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    sc = cartelsim.Scenario.from_text(SCENARIO)
    cartelsim.run_experiments(sc.replace(end=sc.start.replace(year=2023)), progress=False)  # load compiled kernels
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = cartelsim.run_experiments(sc, progress=False)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    o = res.outcomes
    nat = o[o["level"] == "national"]
    members = nat[nat["variable"] == "n_members"].groupby("policy", observed=True)["value"]
    agent_weeks = float(members.sum().mean())
    start_members = float(nat[(nat["variable"] == "n_members") & (nat["week"] == 0)]["value"].mean())
    strikes = float(nat[(nat["variable"] == "new_strikes") & (nat["policy"] == "campaign")]["value"].sum())
    n_exp = len(res.experiments)
    per_exp = ours / n_exp
    ours_per_aw = per_exp / agent_weeks

    mesa_run(0.002, 2)  # import Mesa outside the timing
    mz = mesa_run(args.mesa_scale, args.mesa_weeks)
    mesa_per_aw = mz["seconds"] / mz["agent_weeks"]
    import mesa

    out = {
        "machine": platform.machine(),
        "cores": 1,
        "members_at_start": round(start_members),
        "weeks": sc.n_weeks,
        "experiments": n_exp,
        "agent_weeks_per_experiment": round(agent_weeks),
        "strikes_campaign": round(strikes),
        "run_experiments_s": round(ours, 3),
        "run_experiments_all_s": [round(t, 3) for t in times],
        "per_experiment_s": round(per_exp, 3),
        "agent_weeks_per_s": round(agent_weeks / per_exp),
        "mesa_version": mesa.__version__,
        "mesa_scale": args.mesa_scale,
        "mesa_agents_at_start": mz["agents_at_start"],
        "mesa_weeks": args.mesa_weeks,
        "mesa_s": round(mz["seconds"], 3),
        "mesa_agent_weeks": mz["agent_weeks"],
        "mesa_per_agent_week_us": round(mesa_per_aw * 1e6, 3),
        "mesa_scaled_per_experiment_s": round(mesa_per_aw * agent_weeks, 1),
        "mesa_max_gap_agents_vs_ecosystem": round(mz["gap"], 3),
        "speedup_vs_mesa": round(mesa_per_aw / ours_per_aw),
        "target_per_experiment_s": 3.0,
        "target_speedup_vs_mesa": 50,
    }
    print(
        f"cartelsim: {n_exp} experiments x {start_members:,.0f} members x {sc.n_weeks} weeks in {ours:.2f} s "
        f"({per_exp:.2f} s per experiment, {agent_weeks / per_exp / 1e6:.0f} million agent-weeks per s; "
        f"target < 3 s)"
    )
    print(
        f"Mesa {mesa.__version__}: {mz['agents_at_start']:,} agents x {args.mesa_weeks} weeks in "
        f"{mz['seconds']:.2f} s = {mesa_per_aw * 1e6:.2f} us per agent-week, "
        f"{mesa_per_aw * agent_weeks:,.0f} s per experiment scaled; "
        f"cartelsim is {out['speedup_vs_mesa']:,}x faster (target >= 50x)"
    )
    path = Path(__file__).resolve().parent / "results" / "organisation.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
