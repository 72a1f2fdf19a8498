"""Ensembles of experiments: (policy, replicate) pairs run in batches on an executor.

``experiment_id = policy_index * replicates + replicate`` with ``baseline`` at index 0; replicate r's seed
is ``int(SeedSequence(seed).spawn(R)[r].generate_state(1)[0])``, the same under every policy (DESIGN.md,
Experiments). A sweep runs design row r as replicate r: the row's values replace the replicate's draws
of those parameters (:attr:`~cartelsim.simulation.ExperimentSpec.overrides`).

Two ways to run:

- :func:`run_experiments` keeps every outcome in memory and returns :class:`~cartelsim.results.Results`
  (the Python API for ensembles that fit in memory).
- :func:`run_to_bundle` writes each finished batch as a part under ``DIR.partial/parts/`` while it runs,
  resumes from them when rerun, and streams them into the bundle ``DIR`` at the end: memory stays flat
  whatever the number of experiments (``cartelsim run`` and ``cartelsim sweep``).

Both give the same tables on every executor (:mod:`cartelsim.executors`): an experiment's numbers depend
only on its replicate seed and design row, never on its batch or worker.

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

import functools
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from cartelsim.executors import Executor, SerialExecutor
from cartelsim.memo import Memo
from cartelsim.partial import PartialRun, write_part
from cartelsim.results import (
    Results,
    _git_revision,
    batch_factions,
    batch_table,
    experiments_frame,
    groups_frame,
    make_manifest,
    manifest_hash,
)
from cartelsim.scenario import Scenario
from cartelsim.simulation import Batch, ExperimentSpec, draw_values, simulate_batch

if TYPE_CHECKING:
    from cartelsim.sampling import Design

__all__ = [
    "Executor",
    "RunSummary",
    "SerialExecutor",
    "auto_batch_size",
    "check_bundle_target",
    "estimated_bytes",
    "estimated_rows",
    "experiment_specs",
    "replicate_seed",
    "run",
    "run_experiments",
    "run_to_bundle",
]


def replicate_seed(master_seed: int, replicate: int) -> int:
    """Seed of one replicate: ``SeedSequence(master_seed).spawn(R)[replicate]``'s first word, for any R >= r + 1.

    The r-th spawned child of ``SeedSequence(s)`` is ``SeedSequence(s, spawn_key=(r,))``, so a seed is
    computed without spawning all the children before it (a million-row sweep never holds a million
    ``SeedSequence`` objects).
    """
    return int(np.random.SeedSequence(master_seed, spawn_key=(int(replicate),)).generate_state(1)[0])


def _n_replicates(scenario: Scenario, replicates: int | None, design: Design | None) -> int:
    if design is not None:
        if replicates is not None and int(replicates) != design.n_rows:
            raise ValueError(
                f"a sweep runs one replicate per design row ({design.n_rows}); got replicates={replicates}"
            )
        return design.n_rows
    n_rep = scenario.replicates if replicates is None else int(replicates)
    if n_rep < 1:
        raise ValueError(f"replicates must be >= 1 (got {n_rep})")
    return n_rep


def _policy_ranges(scenario: Scenario, policies: Sequence[str] | None, n_rep: int) -> list[tuple[int, str]]:
    """``(policy_index, name)`` of the policies to run (``baseline`` always), in id order."""
    names = [p.name for p in scenario.all_policies]
    wanted = set(names) if policies is None else {"baseline", *policies}
    unknown = wanted - set(names)
    if unknown:
        raise KeyError(f"unknown policies {', '.join(sorted(unknown))}; the scenario has {', '.join(names)}")
    return [(pi, name) for pi, name in enumerate(names) if name in wanted]


def _overrides(design: Design | None, replicate: int) -> tuple[tuple[str, float], ...]:
    if design is None:
        return ()
    return tuple(zip(design.names, (float(x) for x in design.samples[replicate]), strict=True))


def _spec(
    scenario: Scenario, pi: int, name: str, r: int, n_rep: int, design: Design | None, seed: int | None = None
) -> ExperimentSpec:
    s = replicate_seed(scenario.seed, r) if seed is None else seed
    return ExperimentSpec(pi * n_rep + r, pi, name, r, s, _overrides(design, r))


def experiment_specs(
    scenario: Scenario,
    policies: Sequence[str] | None = None,
    replicates: int | None = None,
    design: Design | None = None,
) -> list[ExperimentSpec]:
    """Return the experiments of ``scenario`` in id order (``baseline`` always included).

    With ``design``, replicate r takes design row r (and there are ``design.n_rows`` replicates).
    """
    n_rep = _n_replicates(scenario, replicates, design)
    from cartelsim.rng import replicate_seeds

    seeds = replicate_seeds(scenario.seed, n_rep)
    return [
        _spec(scenario, pi, name, r, n_rep, design, seeds[r])
        for pi, name in _policy_ranges(scenario, policies, n_rep)
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


def simulate_safely(
    scenario: Scenario,
    batch: Sequence[ExperimentSpec],
    progress: Callable[[int], None] | None = None,
    memo: Memo | None = None,
) -> Batch:
    """Simulate a batch; if it raises, rerun its experiments one by one and record the failing ones.

    A top-level function (picklable), so process pools and Dask workers can run it. ``memo``: the run's
    route solves (:mod:`cartelsim.memo`).
    """
    try:
        return _simulate(scenario, list(batch), progress, memo)
    except Exception as e:  # recorded per experiment, never silently as zeros
        return _retry_singly(scenario, list(batch), e, memo)


def run_experiments(
    scenario: Scenario,
    policies: Sequence[str] | None = None,
    replicates: int | None = None,
    executor: Executor | None = None,
    *,
    design: Design | None = None,
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
        Where batches run (default: :class:`~cartelsim.executors.SerialExecutor`); see
        :func:`cartelsim.executors.make_executor`.
    design : Design, optional
        Run a sweep: design row r is replicate r (its values replace the draws of those parameters); the
        design goes into the manifest.
    batch_size : int
        Most experiments simulated together along the ensemble axis.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    """
    t0 = time.perf_counter()
    specs = experiment_specs(scenario, policies, replicates, design)
    batches = _batches(specs, max(1, batch_size))
    executor = executor or SerialExecutor()
    serial = isinstance(executor, SerialExecutor)
    total_weeks = scenario.spinup_weeks + scenario.n_weeks
    show = sys.stderr.isatty() if progress is None else progress
    done: dict[int, Batch] = {}

    with _progress_bar(show) as bar:
        task = bar.add_task(f"{scenario.name}: {len(specs)} experiments", total=len(specs))
        sizes = [len(b) for b in batches]
        current = {"n": sizes[0] if sizes else 0}

        def advance(weeks: int) -> None:
            bar.advance(task, weeks * current["n"] / total_weeks)

        memo = run_memo(scenario)  # this run's route solves, shared by its batches in this process
        fn: Callable[[list[ExperimentSpec]], Batch] = (
            functools.partial(simulate_safely, scenario, progress=advance, memo=memo)
            if serial
            else functools.partial(simulate_safely, scenario, memo=memo)
        )
        for i, res in executor.map(fn, batches):
            if isinstance(res, BaseException):  # the executor, not the model, failed: run it here
                res = simulate_safely(scenario, batches[i], memo=memo)
            done[i] = res
            bar.update(task, completed=sum(sizes[j] for j in done))
            if i + 1 < len(sizes):
                current["n"] = sizes[i + 1]
    ordered = [done[i] for i in range(len(batches))]
    return Results(
        experiments=experiments_frame(scenario.name, ordered),
        groups=groups_frame(f for b in ordered for f in batch_factions(b)),
        manifest=make_manifest(
            scenario.text, scenario.seed, time.perf_counter() - t0, _manifest_extra(scenario, specs, design)
        ),
        _batches=ordered,
    )


def _manifest_extra(scenario: Scenario, specs: Sequence[ExperimentSpec], design: Design | None) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "scenario_name": scenario.name,
        "start_year": scenario.start.year,
        "replicates": specs[-1].replicate + 1 if design is None else design.n_rows,
    }
    if design is not None:
        extra["design"] = design.to_manifest()
    return extra


def _progress_bar(show: bool) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        disable=not show,
        transient=False,
    )


def _simulate(
    scenario: Scenario, batch: list[ExperimentSpec], progress: Callable[[int], None] | None, memo: Memo | None
) -> Batch:
    """:func:`simulate_batch`, with the run's memo when it has one (runs that solve routes)."""
    if memo is None:
        return simulate_batch(scenario, batch, progress)
    return simulate_batch(scenario, batch, progress, memo=memo)


def run_memo(scenario: Scenario) -> Memo | None:
    """A new memo for a run of ``scenario`` when its batches solve routes (the geography layer), else None."""
    return Memo() if "geography" in scenario.layers else None


def _retry_singly(scenario: Scenario, batch: list[ExperimentSpec], err: BaseException, memo: Memo | None) -> Batch:
    """Run a failed batch's experiments one by one so that one bad experiment cannot fail the others."""
    parts: list[Batch] = []
    for s in batch:
        try:
            parts.append(_simulate(scenario, [s], None, memo))
        except Exception as e:
            parts.append(_failed_batch(scenario, s, f"{type(e).__name__}: {e}"))
    return _concat(parts) if len(batch) > 1 else parts[0] if parts else _failed_batch(scenario, batch[0], str(err))


def _failed_batch(scenario: Scenario, spec: ExperimentSpec, message: str) -> Batch:
    try:
        drawn = draw_values(scenario, spec)[2]
    except Exception:
        drawn = dict(spec.overrides)
    return Batch([spec], {}, [drawn], {spec.experiment_id: message or "failed"})


def _concat(parts: list[Batch]) -> Batch:
    """Join single-experiment batches (failed ones contribute zeros that are never written)."""
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
    batch = Batch(
        [s for p in parts for s in p.experiments],
        levels,
        [d for p in parts for d in p.draws],
        {k: v for p in parts for k, v in p.failed.items()},
    )
    if any(p.factions for p in parts):  # factions (organisation layer): columns padded to the widest part
        width = max(a.shape[1] for p in parts for a in p.faction_values.values())
        ref_f = next(p for p in parts if p.faction_values)
        batch.factions = [p.factions[0] if p.factions else [] for p in parts]
        batch.faction_values = {
            v: np.concatenate(
                [
                    np.pad(p.faction_values[v], ((0, 0), (0, width - p.faction_values[v].shape[1]), (0, 0)))
                    if p.faction_values
                    else np.zeros((1, width, a.shape[2]))
                    for p in parts
                ]
            )
            for v, a in ref_f.faction_values.items()
        }
    return batch


def run(scenario: Scenario, **kwargs: object) -> Results:
    """Run a scenario's policies and replicates (shorthand for :func:`run_experiments`)."""
    return run_experiments(scenario, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# resumable, memory-flat runs
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One batch of consecutive experiment ids of one policy, and where its part goes.

    ``parts_dir`` None: the worker returns the tables and the caller writes the part (workers that do
    not share the caller's file system). ``memo``: the run's route solves (:mod:`cartelsim.memo`; it
    travels empty to another process).
    """

    experiments: tuple[ExperimentSpec, ...]
    parts_dir: str | None
    memo: Memo | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class JobResult:
    """What a finished :class:`Job` reports back (small unless it carries its tables)."""

    first: int
    last: int
    n_rows: int
    failures: tuple[tuple[int, str, int, str], ...]
    outcomes: pa.Table | None = None
    experiments: pa.Table | None = None
    factions: tuple[tuple[int, str], ...] = ()


def run_job(scenario: Scenario, job: Job, progress: Callable[[int], None] | None = None) -> JobResult:
    """Simulate a job's batch and write its part (or return its tables when ``job.parts_dir`` is None).

    A top-level function (picklable), so process pools and Dask workers can run it.
    """
    batch = simulate_safely(scenario, job.experiments, progress, job.memo)
    outcomes = batch_table(batch, scenario.name, scenario.start.year)
    experiments = pa.Table.from_pandas(experiments_frame(scenario.name, [batch]), preserve_index=False)
    first, last = job.experiments[0].experiment_id, job.experiments[-1].experiment_id
    failures = tuple(
        (s.experiment_id, s.policy, s.replicate, batch.failed[s.experiment_id])
        for s in batch.experiments
        if s.experiment_id in batch.failed
    )
    factions = tuple(batch_factions(batch))
    if job.parts_dir is not None:
        write_part(job.parts_dir, first, last, outcomes, experiments)
        return JobResult(first, last, outcomes.num_rows, failures, factions=factions)
    return JobResult(first, last, outcomes.num_rows, failures, outcomes, experiments, factions)


@dataclass
class RunSummary:
    """What :func:`run_to_bundle` did.

    Attributes
    ----------
    path : pathlib.Path
        The bundle written.
    n_experiments : int
        Experiments in the bundle.
    n_failed : int
        Of which failed (status ``failed``; no outcome rows).
    failures : list of (int, str, int, str)
        The first failures (at most 20) as ``(experiment_id, policy, replicate, message)``; those of
        experiments finished before a resume are in the bundle's experiments table.
    resumed : int
        Experiments found finished in ``DIR.partial/`` (0 for a fresh run).
    manifest_hash : str
        Short hash of the manifest (see :func:`cartelsim.results.manifest_hash`).
    wall_time_s : float
        This session's wall time, consolidation included.

    """

    path: Path
    n_experiments: int
    n_failed: int
    failures: list[tuple[int, str, int, str]]
    resumed: int
    manifest_hash: str
    wall_time_s: float


def estimated_rows(scenario: Scenario) -> int:
    """Rough outcome rows per experiment (sizes batches; an estimate, not a contract)."""
    weeks = scenario.n_weeks
    nat, grp = scenario.record.national, scenario.record.groups
    rows = 12 * math.ceil(weeks / nat) if nat else 0
    if grp:
        groups = 150 * 8
        if "organisation" in scenario.layers:
            groups += 150 * 8
        if "geography" in scenario.layers:
            groups += (2469 + 32 + 27) * 4
        rows += groups * math.ceil(weeks / grp)
    return max(1, rows)


BATCH_MEMORY = 256 * 2**20
"""Target memory of one batch in a worker (bytes), above the process's own ~0.35 GB."""


def estimated_bytes(scenario: Scenario) -> int:
    """Rough memory of one experiment in a batch (an estimate, not a contract).

    About 60 bytes per outcome row (recorder arrays, then the Arrow table), the ecosystem state, and
    about 8 MB of synthetic members and assets with the organisation layer (measured: 7.3 MB per
    experiment, 10-year run; benchmarks/sweep.py measures the whole batch).
    """
    state = 200_000 + (8_000_000 if "organisation" in scenario.layers else 0)
    return 60 * estimated_rows(scenario) + state


def auto_batch_size(scenario: Scenario, n_experiments: int, workers: int = 1) -> int:
    """A batch size that keeps every worker busy and a batch near :data:`BATCH_MEMORY`.

    At least four batches per worker (so the window stays full and an interruption loses little), at
    most 1,024 experiments, and at most about 256 MB of outcome rows and state per batch.
    """
    by_memory = max(1, BATCH_MEMORY // estimated_bytes(scenario))
    by_spread = max(1, math.ceil(n_experiments / (4 * max(1, workers))))
    return max(1, min(1024, by_memory, by_spread))


def _design_sha(design: Design) -> str:
    m = {k: v for k, v in design.to_manifest().items() if k != "salib_version"}
    return hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()


def run_identity(
    scenario: Scenario, chosen: Sequence[tuple[int, str]], n_rep: int, design: Design | None
) -> dict[str, Any]:
    """What a partial run must match to be resumed (``DIR.partial/run.json``)."""
    from cartelsim._version import __version__

    return {
        "kind": "sweep" if design is not None else "run",
        "scenario_sha256": hashlib.sha256(scenario.text.encode("utf-8")).hexdigest(),
        "master_seed": scenario.seed,
        "replicates": n_rep,
        "policies": [name for _, name in chosen],
        "design_sha256": None if design is None else _design_sha(design),
        "package_version": __version__,
        "git_revision": _git_revision(),
    }


def experiments_schema(
    scenario: Scenario, chosen: Sequence[tuple[int, str]], n_rep: int, design: Design | None
) -> pa.Schema:
    """Columns of the run's ``experiments.parquet``: the fixed ones, then every drawn or design column."""
    specs = [_spec(scenario, pi, name, 0, n_rep, design) for pi, name in chosen]
    draws = []
    for s in specs:
        try:
            draws.append(draw_values(scenario, s)[2])
        except Exception:
            draws.append({**dict(s.overrides), **draw_values(scenario, ExperimentSpec(0, 0, s.policy, 0, s.seed))[2]})
    frame = experiments_frame(scenario.name, [Batch(specs, {}, draws)])
    return pa.Table.from_pandas(frame, preserve_index=False).schema


def _jobs(
    scenario: Scenario,
    chosen: Sequence[tuple[int, str]],
    n_rep: int,
    design: Design | None,
    size: int,
    done: Sequence[tuple[int, int]],
    parts_dir: str | None,
) -> Iterator[Job]:
    """Jobs of consecutive unfinished ids, at most ``size`` each, never spanning a finished range."""
    memo = run_memo(scenario)  # this run's route solves, shared by its batches in this process
    finished = sorted(done)
    k = 0
    for pi, name in chosen:
        at, last = pi * n_rep, pi * n_rep + n_rep - 1
        while at <= last:
            while k < len(finished) and finished[k][1] < at:
                k += 1
            if k < len(finished) and finished[k][0] <= at:
                at = finished[k][1] + 1
                continue
            stop = min(last, at + size - 1, finished[k][0] - 1 if k < len(finished) else last)
            specs = tuple(_spec(scenario, pi, name, e - pi * n_rep, n_rep, design) for e in range(at, stop + 1))
            yield Job(specs, parts_dir, memo)
            at = stop + 1


def check_bundle_target(
    scenario: Scenario,
    out: str | Path,
    *,
    policies: Sequence[str] | None = None,
    replicates: int | None = None,
    design: Design | None = None,
    overwrite: bool = False,
) -> bool:
    """Check, writing nothing, that :func:`run_to_bundle` may write ``out``; return whether it would resume.

    Raises
    ------
    BundleExistsError, PartialMismatchError
        As :func:`run_to_bundle` would, before it starts anything.

    """
    n_rep = _n_replicates(scenario, replicates, design)
    chosen = _policy_ranges(scenario, policies, n_rep)
    return PartialRun.check(out, run_identity(scenario, chosen, n_rep, design), overwrite)


def count_experiments(scenario: Scenario, replicates: int | None = None, design: Design | None = None) -> int:
    """Experiments a run of every policy (plus baseline) would make: replicates (or design rows) x policies."""
    n_rep = _n_replicates(scenario, replicates, design)
    return n_rep * len(_policy_ranges(scenario, None, n_rep))


def run_to_bundle(
    scenario: Scenario,
    out: str | Path,
    *,
    policies: Sequence[str] | None = None,
    replicates: int | None = None,
    design: Design | None = None,
    executor: Executor | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> RunSummary:
    """Run a scenario (or a sweep) into the bundle ``out``, resumably and with flat memory.

    Each finished batch is written as a part under ``out.partial/parts/``; a rerun with the same
    scenario text, seed, replicates, policies and design skips the finished parts and computes only the
    rest; at the end the parts are streamed into one ``outcomes.parquet`` and one ``experiments.parquet``
    in experiment order and ``out.partial`` is renamed to ``out``. The tables equal those of an
    uninterrupted run, and those of :func:`run_experiments` saved with :meth:`Results.save`.

    Parameters
    ----------
    scenario : Scenario
        The world and its policies.
    out : str or pathlib.Path
        The bundle directory.
    policies : sequence of str, optional
        Run only these policies (``baseline`` always); ids stay those of the full scenario.
    replicates : int, optional
        Override the scenario's replicates (not with ``design``).
    design : Design, optional
        A sweep: design row r is replicate r; the design goes into the manifest.
    executor : Executor, optional
        Where batches run (default: serial, in this process).
    batch_size : int, optional
        Experiments per batch (and per part); default :func:`auto_batch_size`. Parts from an earlier
        session keep their size; any batch size gives the same tables.
    overwrite : bool
        Replace an existing ``out`` at the end and discard a ``out.partial/`` of another run.
    progress : bool, optional
        Show a progress bar with an ETA (default: when stderr is a terminal).

    Returns
    -------
    RunSummary

    Raises
    ------
    BundleExistsError
        ``out`` exists and ``overwrite`` is False (nothing is written).
    PartialMismatchError
        ``out.partial/`` holds another run and ``overwrite`` is False (nothing is written).
    PartialBusyError
        Another process works on ``out.partial/``.

    """
    t0 = time.perf_counter()
    n_rep = _n_replicates(scenario, replicates, design)
    chosen = _policy_ranges(scenario, policies, n_rep)
    expected = [(pi * n_rep, pi * n_rep + n_rep - 1) for pi, _ in chosen]
    n_total = n_rep * len(chosen)
    schema = experiments_schema(scenario, chosen, n_rep, design)
    executor = executor or SerialExecutor()
    serial = isinstance(executor, SerialExecutor)
    workers = int(getattr(executor, "workers", 1))
    size = auto_batch_size(scenario, n_total, workers) if batch_size is None else int(batch_size)
    if size < 1:
        raise ValueError(f"batch_size must be >= 1 (got {size})")

    part = PartialRun.open(out, run_identity(scenario, chosen, n_rep, design), overwrite)
    try:
        shares = getattr(executor, "shares_path", None)
        parts_dir = str(part.parts.resolve()) if shares is not None and shares(part.run_json) else None
        resumed = part.n_done
        factions = _factions_in_parts(part.parts, part.done) if resumed else []
        failures: list[tuple[int, str, int, str]] = []
        n_failed = 0
        total_weeks = scenario.spinup_weeks + scenario.n_weeks
        show = sys.stderr.isatty() if progress is None else progress
        with _progress_bar(show) as bar:
            label = f"{scenario.name}: {n_total} experiments" + (f" ({resumed} done before)" if resumed else "")
            task = bar.add_task(label, total=n_total, completed=resumed)
            finished = resumed

            def step(job: Job) -> JobResult:
                n = len(job.experiments)
                return run_job(scenario, job, lambda w: bar.advance(task, w * n / total_weeks))

            fn: Callable[[Job], JobResult] = step if serial else functools.partial(run_job, scenario)
            inflight: dict[int, Job] = {}

            def jobs() -> Iterator[Job]:
                for i, job in enumerate(_jobs(scenario, chosen, n_rep, design, size, part.done, parts_dir)):
                    inflight[i] = job
                    yield job

            for i, res in executor.map(fn, jobs()):
                job = inflight.pop(i)
                if isinstance(res, BaseException):  # the executor, not the model, failed: run it here
                    res = run_job(scenario, job)
                if res.outcomes is not None and res.experiments is not None:
                    write_part(part.parts, res.first, res.last, res.outcomes, res.experiments)
                n_failed += len(res.failures)
                factions.extend(res.factions)
                failures.extend(res.failures[: max(0, 20 - len(failures))])
                finished += res.last - res.first + 1
                bar.update(task, completed=finished)
            manifest = make_manifest(
                scenario.text,
                scenario.seed,
                time.perf_counter() - t0,
                {
                    "scenario_name": scenario.name,
                    "start_year": scenario.start.year,
                    "replicates": n_rep,
                    **({"design": design.to_manifest()} if design is not None else {}),
                    "execution": {
                        "executor": type(executor).__name__,
                        "workers": workers,
                        "batch_size": size,
                        "resumed_experiments": resumed,
                    },
                },
            )
            writing = bar.add_task("consolidating parts into outcomes.parquet", total=None)

            def consolidated(done: int, total: int) -> None:
                bar.update(writing, completed=done, total=total)

            path = part.finish(expected, schema, groups_frame(factions), manifest, consolidated)
    finally:
        part.release()
    if resumed:
        n_failed = _count_failed(path)
    return RunSummary(path, n_total, n_failed, failures, resumed, manifest_hash(manifest), time.perf_counter() - t0)


def _factions_in_parts(parts: Path, done: Sequence[tuple[int, int]]) -> list[tuple[int, str]]:
    """``(experiment_id, faction id)`` found in finished parts' outcomes (a resumed run's earlier parts)."""
    import pyarrow.compute as pc

    from cartelsim.partial import _part_stem, _read_arrow

    out: list[tuple[int, str]] = []
    for a, b in done:
        t = _read_arrow(f"{parts / _part_stem(a, b)}.outcomes.arrow").select(["experiment_id", "level", "group"])
        grp = t.column("group").cast(pa.string())
        keep = pc.and_(pc.equal(t.column("level").cast(pa.string()), "cartel"), pc.match_substring(grp, "."))
        sub = pa.table({"e": pc.filter(t.column("experiment_id"), keep), "g": pc.filter(grp, keep)})
        uniq = sub.group_by(["e", "g"]).aggregate([])
        out.extend(zip(uniq.column("e").to_pylist(), uniq.column("g").to_pylist(), strict=True))
    return out


def _count_failed(path: Path) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    status = pq.read_table(path / "experiments.parquet", columns=["status"]).column("status")
    return int(pc.sum(pc.equal(status, "failed")).as_py() or 0)
