"""Ecosystem benchmark (DESIGN.md, Performance targets).

1,000 replicates x 150 cartels x 1,040 weeks with sampled uncertainty, deterministic, national weekly
outcomes in memory, through the public API (`cartelsim.run_experiments`), against a plain per-replicate
numpy Euler loop (the same equations, dense kernel, measured on a sample of replicates and scaled) and
against the same model as Mesa 3 agents (one agent per cartel, the same weekly Euler rules, a sample of
replicates, scaled per replicate; target >= 1,000x), all in the same process; then the bundle write in
rows per second, and for information a 200-replicate stochastic ensemble and one adaptive-solver
replicate. Prints times and ratios and writes benchmarks/results/ecosystem.json.
Run: python benchmarks/ecosystem.py [--replicates N] [--mesa-sample N]  (Mesa: pip install -e ".[bench]")
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import cartelsim
from cartelsim.network import load_network
from cartelsim.params import defaults

SCENARIO = """
[scenario]
name = "bench-ecosystem"
start = 2012-01-01
end = 2032-01-01
seed = 1
replicates = {n}
record = {{ national = 1, groups = "none" }}
[uncertainty]
recruitment_per_member_per_week = {{ dist = "uniform", low = 2.45e-3, high = 2.6e-3 }}
conflict_rate_per_member_pair_per_week = {{ dist = "uniform", low = 1.5e-8, high = 1.6e-8 }}
victim_share_cartel = {{ dist = "triangular", low = 0.08, mode = 0.10, high = 0.12 }}
"""


def plain_numpy_replicate(rho: float, k: np.ndarray, c0: np.ndarray, weeks: int = 1040) -> np.ndarray:
    """The baseline: one replicate, plain numpy, dense kernel, national outcomes recorded weekly."""
    p = defaults()
    eta, theta, omega = (
        p["incapacitation_per_week"],
        p["conflict_rate_per_member_pair_per_week"],
        p["saturation_per_member_squared_per_week"],
    )
    c = c0.copy()
    out = np.empty((weeks, 5))
    for t in range(weeks):
        tot = c.sum()
        rec = rho * c
        inc = eta * c / tot
        dth = theta * c * (k @ c)
        ext = omega * c * c
        out[t] = tot, rec.sum(), inc.sum(), dth.sum(), ext.sum()
        c = np.maximum(c + rec - inc - dth - ext, 0.0)
    return out


def mesa_replicate(
    rho: float,
    k: np.ndarray,
    c0: np.ndarray,
    weeks: int = 1040,
    theta: float | None = None,
    interactions: str = "numpy",
) -> np.ndarray:
    """The same replicate as Mesa 3 agents: one agent per cartel, simultaneous weekly Euler updates.

    Each week every agent computes its flows from the sizes at the start of the week, then every agent
    applies them (the compute/advance pattern through ``AgentSet.do``); national outcomes are recorded
    weekly, as in the other two. An agent's conflict pressure sum_j K_ij C_j is, with ``interactions =
    "numpy"``, its row of the dense kernel against the sizes the model gathers each week (a numpy dot: the
    fastest Mesa version we could write, so the ratio against it is conservative), or with ``"python"`` a
    sum over its partner agents' sizes (the plain agent-based way, one Python product per pair).
    """
    import mesa  # optional extra "bench": imported only here

    p = defaults()
    th = p["conflict_rate_per_member_pair_per_week"] if theta is None else theta

    class Cartel(mesa.Agent):
        def __init__(self, model: mesa.Model, index: int, size: float) -> None:
            super().__init__(model)
            self.index = index
            self.size = size
            self.k_row = k[index]
            self.partners: list[tuple[Cartel, float]] = []
            self.flows = (0.0, 0.0, 0.0, 0.0)

        def compute(self) -> None:
            m = self.model
            c = self.size
            if interactions == "numpy":
                pressure = float(self.k_row @ m.sizes)
            else:
                pressure = sum(w * a.size for a, w in self.partners)
            rec = m.rho * c
            inc = m.eta * c / m.total if m.total > 0 else 0.0
            dth = m.theta * c * pressure
            ext = m.omega * c * c
            out = inc + dth + ext
            if out > c + rec:  # never lose more than it has (the same guard as cartelsim)
                f = (c + rec) / out
                inc, dth, ext = inc * f, dth * f, ext * f
            self.flows = (rec, inc, dth, ext)

        def advance(self) -> None:
            rec, inc, dth, ext = self.flows
            self.size = max(self.size + rec - inc - dth - ext, 0.0)

    class Ecosystem(mesa.Model):
        def __init__(self) -> None:
            super().__init__(seed=0)
            self.rho = rho
            self.eta = p["incapacitation_per_week"]
            self.theta = th
            self.omega = p["saturation_per_member_squared_per_week"]
            self.cartels = [Cartel(self, i, float(c0[i])) for i in range(len(c0))]
            for a in self.cartels:
                a.partners = [(b, float(k[a.index, b.index])) for b in self.cartels if b is not a]
            self.sizes = c0.copy()
            self.total = float(c0.sum())
            self.out = np.empty((weeks, 5))

        def step(self) -> None:
            self.sizes = np.array([a.size for a in self.cartels])
            self.total = float(self.sizes.sum())
            self.agents.do("compute")
            f = np.array([a.flows for a in self.cartels]).sum(0)
            self.out[self.steps - 1] = self.total, *f
            self.agents.do("advance")

    model = Ecosystem()
    for _ in range(weeks):
        model.step()
    return model.out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--baseline-sample", type=int, default=20)
    ap.add_argument("--mesa-sample", type=int, default=3)
    ap.add_argument("--mesa-python-sample", type=int, default=1)
    ap.add_argument("--stochastic-replicates", type=int, default=200)
    args = ap.parse_args()
    sc = cartelsim.Scenario.from_text(SCENARIO.format(n=args.replicates))

    cartelsim.run_experiments(sc.replace(replicates=2), progress=False)  # load the compiled kernels
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = cartelsim.run_experiments(sc, progress=False)
        times.append(time.perf_counter() - t0)
    ours = min(times)

    net = load_network()
    k = net.kernel_dense()
    c0 = net.zipf_initial(115000.0)
    rhos = res.experiments["recruitment_per_member_per_week"].to_numpy()[: args.baseline_sample]
    t0 = time.perf_counter()
    for r in rhos:
        plain_numpy_replicate(float(r), k, c0)
    per_rep_plain = (time.perf_counter() - t0) / len(rhos)
    per_rep_ours = ours / args.replicates

    # Mesa: the same replicates (rho and theta of the first experiments), timed on a sample and scaled
    thetas = res.experiments["conflict_rate_per_member_pair_per_week"].to_numpy()
    mesa_replicate(float(rhos[0]), k, c0, weeks=2)  # import Mesa outside the timing
    mesa: dict[str, dict[str, float]] = {}
    mesa_first: dict[str, np.ndarray] = {}
    for mode, n in (("numpy", args.mesa_sample), ("python", args.mesa_python_sample)):
        t0 = time.perf_counter()
        outs = [mesa_replicate(float(rhos[i]), k, c0, theta=float(thetas[i]), interactions=mode) for i in range(n)]
        per_rep = (time.perf_counter() - t0) / n
        mesa_first[mode] = outs[0]
        mesa[mode] = {
            "per_replicate_ms": round(per_rep * 1e3, 1),
            "sample": n,
            "speedup": round(per_rep / per_rep_ours),
        }
    ours_first = res.outcomes
    ours_first = (
        ours_first[(ours_first["experiment_id"] == 0) & (ours_first["variable"] == "n_members")]
        .sort_values("week")["value"]
        .to_numpy()
    )
    mesa_gap = max(float(np.max(np.abs(ours_first / m[:, 0] - 1))) for m in mesa_first.values())

    sto = sc.replace(stochastic=True, replicates=args.stochastic_replicates)
    cartelsim.run_experiments(sto.replace(replicates=2), progress=False)  # compile the stochastic kernels
    t0 = time.perf_counter()
    cartelsim.run_experiments(sto, progress=False)
    stochastic_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cartelsim.run_experiments(sc.replace(solver="adaptive", replicates=1), progress=False)
    adaptive_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    tab = res.arrow()
    n_rows = tab.num_rows
    build = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        res.save(Path(d) / "b")
        write = time.perf_counter() - t0
    out = {
        "machine": platform.processor() or platform.machine(),
        "replicates": args.replicates,
        "cartels": 150,
        "weeks": 1040,
        "run_experiments_s": round(ours, 4),
        "run_experiments_all_s": [round(t, 4) for t in times],
        "per_replicate_ms": round(per_rep_ours * 1e3, 4),
        "plain_numpy_per_replicate_ms": round(per_rep_plain * 1e3, 3),
        "plain_numpy_sample": len(rhos),
        "speedup_vs_plain_numpy": round(per_rep_plain / per_rep_ours, 1),
        "mesa_version": _mesa_version(),
        "mesa_numpy_kernel_row_per_replicate_ms": mesa["numpy"]["per_replicate_ms"],
        "mesa_numpy_kernel_row_sample": mesa["numpy"]["sample"],
        "speedup_vs_mesa_numpy_kernel_row": mesa["numpy"]["speedup"],
        "mesa_python_interactions_per_replicate_ms": mesa["python"]["per_replicate_ms"],
        "mesa_python_interactions_sample": mesa["python"]["sample"],
        "speedup_vs_mesa_python_interactions": mesa["python"]["speedup"],
        "mesa_max_rel_gap_members_vs_ours": mesa_gap,
        "target_s": 1.0,
        "target_speedup": 20,
        "target_speedup_vs_mesa": 1000,
        "stochastic_replicates": args.stochastic_replicates,
        "stochastic_run_s": round(stochastic_s, 3),
        "adaptive_one_replicate_s": round(adaptive_s, 3),
        "bundle_rows": n_rows,
        "long_table_build_s": round(build, 3),
        "bundle_write_s": round(write, 3),
        "bundle_rows_per_s": round(n_rows / write),
    }
    print(
        f"ecosystem: {args.replicates} replicates x 150 cartels x 1040 weeks in {ours:.3f} s "
        f"(target < 1 s): {per_rep_ours * 1e3:.3f} ms per replicate"
    )
    print(
        f"plain per-replicate numpy Euler loop: {per_rep_plain * 1e3:.2f} ms per replicate "
        f"(sample of {len(rhos)}); ratio {per_rep_plain / per_rep_ours:.1f}x (target >= 20x)"
    )
    for mode, what in (("numpy", "kernel row as a numpy dot"), ("python", "pure-Python sums over partner agents")):
        m = mesa[mode]
        print(
            f"Mesa {_mesa_version()} agents, one per cartel ({what}): {m['per_replicate_ms']:,.0f} ms per replicate "
            f"(sample of {m['sample']}); ratio {m['speedup']:,}x (target >= 1,000x)"
        )
    print(f"  Mesa and cartelsim give the same members: max relative gap {mesa_gap:.1e}")
    print(f"bundle: {n_rows:,} rows written in {write:.2f} s = {n_rows / write:,.0f} rows/s")
    print(
        f"stochastic: {args.stochastic_replicates} replicates x 1040 weeks in {stochastic_s:.2f} s; "
        f"adaptive solver (LSODA): one replicate x 1040 weeks in {adaptive_s:.2f} s"
    )
    path = Path(__file__).parent / "results" / "ecosystem.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


def _mesa_version() -> str:
    from importlib.metadata import version

    return version("mesa")


if __name__ == "__main__":
    main()
