"""Ensembles of experiments: (policy, replicate) pairs run in batches behind a small executor interface.

``experiment_id = policy_index * replicates + replicate`` with ``baseline`` at index 0; replicate r's seed
is ``int(SeedSequence(seed).spawn(R)[r].generate_state(1)[0])``, the same under every policy (DESIGN.md,
Experiments).

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2013-01-01
... replicates = 3
... [uncertainty]
... victim_share_cartel = { dist = "uniform", low = 0.08, high = 0.12 }
... ''')
>>> res = cartelsim.run_experiments(sc)
>>> res.experiments[["experiment_id", "policy", "replicate", "status"]].shape
(3, 4)

"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from cartelsim.results import Results, experiments_frame, groups_frame, make_manifest
from cartelsim.rng import replicate_seeds
from cartelsim.scenario import Scenario
from cartelsim.simulation import Batch, ExperimentSpec, simulate_batch

__all__ = ["Executor", "SerialExecutor", "experiment_specs", "run", "run_experiments"]

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over work items; yields ``(index, result or exception)`` in any order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item."""
        ...


class SerialExecutor:
    """Run work items one after another in this process."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item in order, capturing exceptions per item."""
        for i, item in enumerate(items):
            try:
                yield i, fn(item)
            except Exception as e:  # recorded per experiment, never silently as zeros
                yield i, e


def experiment_specs(
    scenario: Scenario, policies: Sequence[str] | None = None, replicates: int | None = None
) -> list[ExperimentSpec]:
    """Return the experiments of ``scenario`` in id order (``baseline`` always included)."""
    n_rep = scenario.replicates if replicates is None else int(replicates)
    if n_rep < 1:
        raise ValueError(f"replicates must be >= 1 (got {n_rep})")
    names = [p.name for p in scenario.all_policies]
    wanted = set(names) if policies is None else {"baseline", *policies}
    unknown = wanted - set(names)
    if unknown:
        raise KeyError(f"unknown policies {', '.join(sorted(unknown))}; the scenario has {', '.join(names)}")
    seeds = replicate_seeds(scenario.seed, n_rep)
    return [
        ExperimentSpec(pi * n_rep + r, pi, name, r, seeds[r])
        for pi, name in enumerate(names)
        if name in wanted
        for r in range(n_rep)
    ]


def _batches(specs: list[ExperimentSpec], size: int) -> list[list[ExperimentSpec]]:
    """Chunks of consecutive experiment ids within one policy (so batches concatenate in id order)."""
    out: list[list[ExperimentSpec]] = []
    for s in specs:
        if out and out[-1][-1].policy == s.policy and len(out[-1]) < size:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def run_experiments(
    scenario: Scenario,
    policies: Sequence[str] | None = None,
    replicates: int | None = None,
    executor: Executor | None = None,
    *,
    batch_size: int = 1024,
    progress: bool | None = None,
) -> Results:
    """Run every (policy, replicate) of ``scenario`` and return the results in memory.

    Parameters
    ----------
    scenario : Scenario
        The world and its policies.
    policies : sequence of str, optional
        Run only these policies (``baseline`` is always run); ids stay those of the full scenario.
    replicates : int, optional
        Override the scenario's number of replicates.
    executor : Executor, optional
        Where batches run (default: :class:`SerialExecutor`).
    batch_size : int
        Most experiments simulated together along the ensemble axis.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    """
    t0 = time.perf_counter()
    specs = experiment_specs(scenario, policies, replicates)
    batches = _batches(specs, max(1, batch_size))
    executor = executor or SerialExecutor()
    total_weeks = scenario.spinup_weeks + scenario.n_weeks
    show = sys.stderr.isatty() if progress is None else progress
    done: dict[int, Batch] = {}

    def work(batch: list[ExperimentSpec]) -> Batch:
        return simulate_batch(scenario, batch, advance if isinstance(executor, SerialExecutor) else None)

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        disable=not show,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{scenario.name}: {len(specs)} experiments", total=len(specs) * total_weeks)
        sizes = [len(b) for b in batches]
        current = {"n": sizes[0] if sizes else 0}

        def advance(weeks: int) -> None:
            bar.advance(task, weeks * current["n"])

        for i, res in executor.map(work, batches):
            if isinstance(res, BaseException):
                res = _retry_singly(scenario, batches[i], res)
            done[i] = res
            if not isinstance(executor, SerialExecutor) or res.failed:
                bar.update(task, completed=sum(sizes[j] for j in done) * total_weeks)
            if i + 1 < len(sizes):
                current["n"] = sizes[i + 1]
    ordered = [done[i] for i in range(len(batches))]
    return Results(
        experiments=experiments_frame(scenario.name, ordered),
        groups=groups_frame(),
        manifest=make_manifest(
            scenario.text,
            scenario.seed,
            time.perf_counter() - t0,
            {
                "scenario_name": scenario.name,
                "start_year": scenario.start.year,
                "replicates": specs[-1].replicate + 1,
            },
        ),
        _batches=ordered,
    )


def _retry_singly(scenario: Scenario, batch: list[ExperimentSpec], err: BaseException) -> Batch:
    """Run a failed batch's experiments one by one so that one bad experiment cannot fail the others."""
    parts: list[Batch] = []
    for s in batch:
        try:
            parts.append(simulate_batch(scenario, [s]))
        except Exception as e:
            parts.append(_failed_batch(scenario, s, f"{type(e).__name__}: {e}"))
    return _concat(parts) if len(batch) > 1 else parts[0] if parts else _failed_batch(scenario, batch[0], str(err))


def _failed_batch(scenario: Scenario, spec: ExperimentSpec, message: str) -> Batch:
    from cartelsim.simulation import draw_values

    try:
        drawn = draw_values(scenario, spec)[2]
    except Exception:
        drawn = {}
    return Batch([spec], {}, [drawn], {spec.experiment_id: message or "failed"})


def _concat(parts: list[Batch]) -> Batch:
    """Join single-experiment batches (failed ones contribute zeros that are never written)."""
    import numpy as np

    ref = next((p for p in parts if p.levels), parts[0])
    levels = {}
    for lev, (groups, weeks, arrs) in ref.levels.items():
        levels[lev] = (
            groups,
            weeks,
            {
                v: np.concatenate([p.levels[lev][2][v] if p.levels else np.zeros((1, *a.shape[1:])) for p in parts])
                for v, a in arrs.items()
            },
        )
    return Batch(
        [s for p in parts for s in p.experiments],
        levels,
        [d for p in parts for d in p.draws],
        {k: v for p in parts for k, v in p.failed.items()},
    )


def run(scenario: Scenario, **kwargs: object) -> Results:
    """Run a scenario's policies and replicates (shorthand for :func:`run_experiments`)."""
    return run_experiments(scenario, **kwargs)  # type: ignore[arg-type]
