"""Sweeps: a design over a scenario's uncertain parameters, one design row per replicate (DESIGN.md, Experiments).

The factors are the scenario's ``[uncertainty]`` tables (``fixed`` tables are constants, not factors);
with ``all_uncertain``, every parameter of the spec that declares a default ``range`` becomes a factor
too, uniform over that range, unless the ``[uncertainty]`` table gives it a distribution (that table
wins). Parameters set under ``[parameters]`` are then swept as well: ``all_uncertain`` means every
parameter with a range. The design is drawn by SALib with an explicit seed (:mod:`cartelsim.sampling`);
design row r is replicate r under every policy, with replicate r's seed for everything else that is
random (distribution-valued intervention keys, stochastic flows), so runs stay paired across policies.

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2013-01-01
... [uncertainty]
... victim_share_cartel = { dist = "uniform", low = 0.08, high = 0.12 }
... ''')
>>> d = sweep_design(sc, "lhs", 4)
>>> d.names, d.n_rows
(['victim_share_cartel'], 4)

"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cartelsim.executors import Executor
from cartelsim.experiments import RunSummary, run_to_bundle
from cartelsim.params import PARAMS
from cartelsim.sampling import METHODS, Design, Factor, make_design
from cartelsim.scenario import Scenario

__all__ = ["run_sweep", "sweep_design", "sweep_factors"]


#: Distribution tables with unbounded support, truncated in sweeps at their own TAIL and 1 - TAIL quantiles.
UNBOUNDED = ("normal", "lognormal", "negative_binomial")
TAIL = 0.005


def sweep_factors(scenario: Scenario, all_uncertain: bool = False) -> list[Factor]:
    """Return the factors of a sweep over ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        Its ``[uncertainty]`` tables become factors (in file order), truncated to the parameters' bounds and,
        for normal, lognormal and negative-binomial tables, to their own 0.5% and 99.5% quantiles.
    all_uncertain : bool
        Also every other parameter that declares a default ``range`` in the spec (uniform over it), in the
        spec's order.

    Raises
    ------
    ValueError
        No factor at all (no ``[uncertainty]`` table and not ``all_uncertain``), or a table SALib cannot
        map (the message names the parameter).

    """
    factors: list[Factor] = []
    for name, dist in scenario.uncertainty.items():
        if dist.dist == "fixed":
            continue
        p = PARAMS[name]
        low, high = p.low, p.high
        if dist.dist in UNBOUNDED:
            # Designs sample the ends of the unit interval (Morris levels 0 and 1): without this an unbounded
            # table would put whole rows at the parameter's physical bounds (assumption: 0.5%..99.5%).
            low = max(low, dist.ppf(TAIL, p.low, p.high))
            high = min(high, dist.ppf(1.0 - TAIL, p.low, p.high))
        try:
            factors.append(Factor.from_table(name, dist.to_dict(), bounds=(low, high)))
        except ValueError as e:
            raise ValueError(f"[uncertainty] key {name!r}: {e}") from None
    if all_uncertain:
        have = {f.name for f in factors}
        for p in PARAMS.values():
            if p.range is not None and p.name not in have:
                factors.append(Factor(p.name, p.range[0], p.range[1]))
    if not factors:
        raise ValueError(
            "nothing to sweep: the scenario has no [uncertainty] table (fixed values do not count); "
            "add one, or pass --all-uncertain to sweep every parameter's default range"
        )
    return factors


def sweep_design(
    scenario: Scenario,
    method: str,
    samples: int,
    *,
    all_uncertain: bool = False,
    seed: int | None = None,
    **options: Any,
) -> Design:
    """Draw the design of a sweep.

    Parameters
    ----------
    scenario : Scenario
        The world; see :func:`sweep_factors` for the factors.
    method : {"lhs", "morris", "sobol"}
        Latin hypercube, Morris trajectories or Sobol' (Saltelli) design.
    samples : int
        SALib's sample size: rows for LHS; trajectories for Morris (``samples * (D + 1)`` rows); base
        samples for Sobol, a power of 2 (``samples * (2 D + 2)`` rows, ``samples * (D + 2)`` without
        second-order indices), D factors.
    all_uncertain : bool
        Sweep every parameter with a default range.
    seed : int, optional
        The design's seed (default: the scenario's seed).
    **options
        Method options (see :func:`cartelsim.sampling.make_design`).

    Raises
    ------
    ValueError
        Unknown method, bad sample size (for Sobol the message gives the nearest allowed values), or no
        factors.

    """
    if method not in METHODS:
        raise ValueError(f"--method {method!r}: unknown; allowed: {', '.join(METHODS)}")
    factors = sweep_factors(scenario, all_uncertain)
    try:
        return make_design(method, factors, samples, scenario.seed if seed is None else seed, **options)  # type: ignore[arg-type]
    except ValueError as e:
        raise ValueError(f"--method {method} --samples {samples}: {e}") from None


def run_sweep(
    scenario: Scenario,
    design: Design,
    out: str | Path,
    *,
    policies: Sequence[str] | None = None,
    executor: Executor | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> RunSummary:
    """Run every policy for every design row and write the bundle ``out`` (resumable; see :func:`run_to_bundle`).

    ``experiments.parquet`` holds one column per factor with the row's values; the manifest's ``design``
    holds the design (:meth:`~cartelsim.sampling.Design.to_manifest`), which
    ``Design.from_manifest(cartelsim.load(out).manifest["design"])`` reads back.
    """
    return run_to_bundle(
        scenario,
        out,
        policies=policies,
        design=design,
        executor=executor,
        batch_size=batch_size,
        overwrite=overwrite,
        progress=progress,
    )
