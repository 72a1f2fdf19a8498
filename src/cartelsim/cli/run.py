"""``run``, ``sweep`` and ``calibrate``: the commands that compute, and the checks and cost estimate before a run."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cartelsim import api
from cartelsim.cli._common import SCENARIO_HELP, YesOption, _fail, _read_scenario, _shorten, err, out

_LIST_FAILED = 20  # failed experiments listed by name after a run; the rest are counted (assumption: a screenful)


def run(
    scenario: Annotated[Path, typer.Argument(help=SCENARIO_HELP)],
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle directory to write.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing bundle.")] = False,
    replicates: Annotated[int | None, typer.Option(help="Override the scenario's replicates.", min=1)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    executor: Annotated[str, typer.Option(help="Where batches run: serial, process or dask.")] = "serial",
    workers: Annotated[
        int | None, typer.Option(help="Workers for --executor process or dask (default: the CPU cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Experiments per batch and per part file (default: automatic).")
    ] = None,
    yes: YesOption = False,
) -> None:
    """Run every policy of SCENARIO (plus baseline) for every replicate and write a result bundle.

    Resumable: finished batches are kept in OUT.partial/ while it runs; after an interruption, the same
    command resumes from there.
    """
    sc = _read_scenario(scenario)
    _run_bundle(sc, out_dir, overwrite, quiet, executor, workers, scheduler, batch_size, replicates=replicates, yes=yes)


def _check_cost(
    sc: api.Scenario,
    out_dir: Path,
    replicates: int | None,
    design: api.Design | None,
    workers: int | None,
    yes: bool,
    quiet: bool,
) -> None:
    """Estimate the run; refuse (exit 2) one above the thresholds without --yes, or one the free disk cannot hold."""
    import os

    est = api.estimate_run(sc, replicates, design)
    if est is None:  # the pilot failed: the run itself will say why, per experiment
        return
    n_workers = workers or os.cpu_count() or 1
    if est.needs_yes and not yes:
        _fail(
            f"this run is large: {est.text(n_workers)} (above {api.MAX_BYTES / 1e9:.0f} GB or "
            f"{api.MAX_SECONDS / 3600:.0f} hour); pass --yes to start it, or lower replicates, end or record"
        )
    free = api.free_bytes(out_dir)
    if est.bytes > free:
        _fail(f"--out {out_dir}: the run needs about {est.bytes / 1e9:,.1f} GB at the peak; {free / 1e9:,.1f} GB free")
    if not quiet and (est.seconds > 60 or est.bytes > 1e9):
        err.print(f"estimate: {est.text(n_workers)}", highlight=False)


def _run_bundle(
    sc: api.Scenario,
    out_dir: Path,
    overwrite: bool,
    quiet: bool,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    batch_size: int | None,
    *,
    replicates: int | None = None,
    design: api.Design | None = None,
    yes: bool = False,
) -> None:
    """Shared by ``run`` and ``sweep``: check everything, estimate the cost, then run resumably into ``out_dir``."""
    if executor not in api.EXECUTORS:
        _fail(f"--executor {executor!r}: unknown; allowed: {', '.join(api.EXECUTORS)}")
    for name, v in (("--workers", workers), ("--batch-size", batch_size)):
        if v is not None and v < 1:
            _fail(f"{name} {v}: must be a whole number >= 1")
    if workers is not None and executor == "serial":
        _fail("--workers applies to --executor process or dask")
    if scheduler and executor != "dask":
        _fail("--scheduler applies to --executor dask only")
    if executor == "dask" and not api.dask_available():
        _fail("--executor dask needs the distributed extra: pip install 'cartelsim[distributed]'")
    try:
        resuming = api.check_run_target(sc, out_dir, overwrite=overwrite, replicates=replicates, design=design)
    except api.BundleExistsError:
        _fail(f"--out {out_dir}: exists; pass --overwrite to replace it")
    except (api.PartialMismatchError, api.BundleRefusedError) as e:
        _fail(str(e))
    if resuming and not quiet:
        err.print(f"resuming from {out_dir}.partial", highlight=False)
    _check_cost(sc, out_dir, replicates, design, workers if executor != "serial" else 1, yes, quiet)
    try:
        pool = api.make_executor(executor, workers, scheduler)
    except api.ExecutorError as e:
        _fail(str(e))
    try:
        summary = api.run_bundle(
            sc,
            out_dir,
            executor=pool,
            replicates=replicates,
            design=design,
            batch_size=batch_size,
            overwrite=overwrite,
            progress=not quiet and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        err.print(
            f"interrupted: finished batches are kept in {out_dir}.partial; run the same command again to resume",
            highlight=False,
        )
        raise typer.Exit(130) from None
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        _fail(
            f"--out {out_dir}: the disk is full; finished batches are kept in {out_dir}.partial: free some space "
            "and run the same command again to resume"
        )
    except (api.PartialBusyError, api.PartialMismatchError, api.BundleExistsError, api.BundleRefusedError) as e:
        _fail(str(e))
    done = f"; {summary.resumed} were done before" if summary.resumed else ""
    out.print(
        f"wrote {out_dir} ({summary.n_experiments} experiments, {summary.n_failed} failed{done}; "
        f"manifest {summary.manifest_hash})",
        highlight=False,
    )
    if summary.n_failed:
        ex = api.failed_experiments(summary.path)
        err.print(f"{len(ex)} experiment{'s' if len(ex) != 1 else ''} failed:", highlight=False)
        for _, r in ex.head(_LIST_FAILED).iterrows():
            err.print(
                f"  experiment {r['experiment_id']} ({r['policy']}, replicate {r['replicate']}): "
                f"{escape(_shorten(str(r['message'])))}",
                highlight=False,
            )
        if len(ex) > _LIST_FAILED:
            err.print(
                f"  and {len(ex) - _LIST_FAILED} more (all in {summary.path}/experiments.parquet)", highlight=False
            )
        raise typer.Exit(1)


def sweep(
    scenario: Annotated[Path, typer.Argument(help=SCENARIO_HELP)],
    method: Annotated[str, typer.Option(help="Design: lhs, morris or sobol.")],
    samples: Annotated[
        int,
        typer.Option(
            help="SALib sample size: rows (lhs), trajectories (morris, (D+1) rows each) or base samples "
            "(sobol: a power of 2, (2D+2) rows each), D factors."
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle directory to write.")],
    executor: Annotated[str, typer.Option(help="Where batches run: serial, process or dask.")] = "serial",
    workers: Annotated[
        int | None, typer.Option(help="Workers for --executor process or dask (default: the CPU cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster).")
    ] = None,
    all_uncertain: Annotated[
        bool,
        typer.Option(
            help="Sweep every parameter with a default range (uniform over it; \\[uncertainty] tables keep theirs)."
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing bundle; discard another run's OUT.partial.")
    ] = False,
    design_seed: Annotated[int | None, typer.Option(help="Seed of the design (default: the scenario's seed).")] = None,
    num_levels: Annotated[int | None, typer.Option(help="Morris grid levels (even; default 4).")] = None,
    second_order: Annotated[
        bool | None, typer.Option("--second-order/--no-second-order", help="Sobol: second-order indices (default on).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Experiments per batch and per part file (default: automatic).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    yes: YesOption = False,
) -> None:
    """Sample SCENARIO's uncertain parameters (LHS, Morris or Sobol) and run every policy for every sample.

    Design row r is replicate r under every policy (paired seeds). The bundle's experiments table holds
    the sampled values, its manifest the design. Resumable: rerun the same command after an interruption.
    """
    sc = _read_scenario(scenario)
    if method not in api.METHODS:
        _fail(f"--method {method!r}: unknown; allowed: {', '.join(api.METHODS)}")
    if samples < 1:
        _fail(f"--samples {samples}: must be a whole number >= 1")
    if design_seed is not None and design_seed < 0:
        _fail(f"--design-seed {design_seed}: must be a whole number >= 0")
    options: dict[str, object] = {}
    if num_levels is not None:
        if method != "morris":
            _fail("--num-levels applies to --method morris only")
        options["num_levels"] = num_levels
    if second_order is not None:
        if method != "sobol":
            _fail("--second-order/--no-second-order applies to --method sobol only")
        options["calc_second_order"] = second_order
    try:
        design = api.sweep_design(sc, method, samples, all_uncertain=all_uncertain, seed=design_seed, **options)
    except ValueError as e:
        _fail(f"{scenario}: {e}")
    if not quiet:
        err.print(
            f"{method} design: {design.n_rows} rows x {len(design.factors)} factors ({', '.join(design.names)}); "
            f"{design.n_rows * len(sc.all_policies)} experiments",
            highlight=False,
        )
    _run_bundle(sc, out_dir, overwrite, quiet, executor, workers, scheduler, batch_size, design=design, yes=yes)


def calibrate(
    free: Annotated[
        str | None,
        typer.Option(
            help="Parameters to fit, comma-separated names or symbols (rho, eta, theta, omega, C0); "
            "the others are held at their defaults. Default: recruitment_per_member_per_week,"
            "conflict_rate_per_member_pair_per_week (returns the reference values)."
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the fitted values as a [parameters] block (TOML).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
) -> None:
    """Refit the ecosystem to 0.1 x (homicides + missing persons), 2012-2021, as Prieto-Curiel et al. (2023) did.

    Explicit Euler from the Zipf start, least squares on weekly deaths, L-BFGS-B within the authors' bounds.
    """
    try:
        names = api.parse_free([x for x in free.split(",") if x.strip()] if free is not None else api.DEFAULT_FREE)
    except ValueError as e:
        _fail(f"--free: {e}")
    if out_file is not None:
        if out_file.exists() and not overwrite:
            _fail(f"--out {out_file}: exists; pass --overwrite to replace it")
        if not out_file.parent.is_dir():
            _fail(f"--out {out_file}: folder {out_file.parent} does not exist")
    with err.status(f"fitting {', '.join(names)} (L-BFGS-B)"):
        fit = api.calibrate(names)
    symbols = dict(zip(api.FIT_PARAMETERS, ("rho", "eta", "theta", "omega", "C0"), strict=True))
    t = Table(title="fitted parameters", title_justify="left")
    for col in ("parameter", "symbol", "value", "reference", "change", "status", "unit"):
        t.add_column(col, justify="right" if col in ("value", "reference", "change") else "left")
    for k in api.FIT_PARAMETERS:
        v, ref = fit.parameters[k], api.PARAMS[k].default
        change = f"{(v / ref - 1) * 100:+.3f}%" if k in fit.free else ""
        status = "fitted" if k in fit.free else "held"
        t.add_row(k, symbols[k], f"{v:.6g}", f"{ref:.6g}", change, status, api.PARAMS[k].unit)
    out.print(t)
    y = Table(
        title="fit by year: cartel-member conflict deaths (data = 0.1 x (homicides + missing persons))",
        title_justify="left",
    )
    for col in ("year", "data", "target (spline)", "model", "model vs data"):
        y.add_column(col, justify="right")
    for _, r in fit.table().iterrows():
        y.add_row(
            str(int(r["year"])), f"{r['data']:,.0f}", f"{r['target']:,.0f}", f"{r['model']:,.0f}", f"{r['gap']:+.1%}"
        )
    out.print(y)
    out.print(
        f"loss (sum over 520 weeks of (model deaths - target)^2): {fit.loss:,.1f}; "
        f"{fit.iterations} iterations, {fit.evaluations} model runs; {fit.message}",
        highlight=False,
    )
    if not fit.success:
        err.print(f"[yellow]warning:[/] the optimiser did not report convergence: {escape(fit.message)}")
    if out_file is not None:
        out_file.write_text(fit.toml(), encoding="utf-8")
        out.print(f"wrote {out_file}")
