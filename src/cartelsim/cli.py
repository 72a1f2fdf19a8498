"""The ``cartelsim`` command line: a thin adapter over the Python API.

Bad input gets one clear message naming the file, the key and the allowed values, exit code 2, and
nothing written.
"""

from __future__ import annotations

import datetime as dt
import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from cartelsim.analysis.sweeps import SweepBundle, SweepOutcome
    from cartelsim.results import Results
    from cartelsim.sampling import Design
    from cartelsim.scenario import Scenario
    from cartelsim.validation import Check

app = typer.Typer(
    name="cartelsim",
    help="Weigh policies against Mexico's cartels (strikes, arrests, interdiction, prevention) with calibrated, "
    "reproducible models. cartelsim weighs policies; it never carries one out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


_LIST_FAILED = 20  # failed experiments listed by name after a run; the rest are counted (assumption: a screenful)


def _shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[: limit - 40]}... ({len(text):,} characters)"


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


YesOption = Annotated[
    bool, typer.Option("--yes", help="Start a run estimated above 10 GB of disk or an hour (refused without it).")
]
OverwriteFile = Annotated[bool, typer.Option("--overwrite", help="Replace existing files (never a folder).")]


def _check_files(paths: list[Path], overwrite: bool) -> None:
    """Fail (exit 2, nothing written) if a file to be written exists without --overwrite, or is a folder."""
    from cartelsim.bundle import BundleExistsError, BundleRefusedError, check_file

    for p in paths:
        try:
            check_file(p, overwrite)
        except (BundleExistsError, BundleRefusedError) as e:
            _fail(f"--out {e}" if isinstance(e, BundleRefusedError) else str(e))


SCENARIO_HELP = "Scenario file (TOML), or the name of a shipped one (see `cartelsim scenarios`)."


def _read_scenario(arg: Path) -> Scenario:
    """Read a scenario file, or a shipped scenario by name (``pc2023``); exit 2 with one message if neither."""
    from cartelsim import scenarios
    from cartelsim.scenario import Scenario, ScenarioError

    if not arg.exists() and arg.parent == Path(".") and arg.name.removesuffix(".toml") in scenarios.names():
        arg = scenarios.path(arg.name)
    elif not arg.exists() and arg.parent == Path("."):
        _fail(f"{arg}: no such file, and not a shipped scenario (shipped: {', '.join(scenarios.names())})")
    try:
        return Scenario.from_toml(arg)
    except ScenarioError as e:
        _fail(str(e))


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r}: not a date; write it as YYYY-MM-DD")


def _load(bundle: Path) -> Results:
    """Load a bundle (exit 2 if damaged); say on stderr, per policy, how many replicates failed."""
    import warnings

    from cartelsim.bundle import BundleError
    from cartelsim.results import FailedExperimentsWarning, load

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = load(bundle)
    except BundleError as e:
        _fail(str(e))
    for w in caught:
        if not issubclass(w.category, FailedExperimentsWarning):
            err.print(f"[yellow]warning:[/] {escape(str(w.message))}", highlight=False)
    note = res.failure_note()
    if note is not None:
        err.print(f"[bold red]failed experiments:[/] {escape(note)}", highlight=False)
        if not (res.experiments["status"] == "ok").any():
            _fail(f"{bundle}: every experiment failed; there is nothing to show (see run's messages)", code=1)
    return res


def _exit_if_failed(res: Results) -> None:
    """Exit 1 (after the output is written) when the bundle holds failed experiments."""
    if res.failure_note() is not None:
        raise typer.Exit(1)


@app.command()
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


def _fmt(x: float, rel: bool = False) -> str:
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if rel:
        return f"{x * 100:+.1f}%"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


@app.command()
def compare(
    bundle: Annotated[Path, typer.Argument(help="Result bundle directory.")],
    at: Annotated[
        str | None, typer.Option(help="Date to report (YYYY-MM-DD; default: the last recorded week).")
    ] = None,
    ref: Annotated[str | None, typer.Option(help="Reference date (default: the scenario's reference).")] = None,
) -> None:
    """Print each policy's members, conflict deaths and estimated victims at a date, vs baseline and vs --ref."""
    from cartelsim.analysis.compare import compare as _compare
    from cartelsim.scenario import Scenario, ScenarioError
    from cartelsim.timeline import date_of

    res = _load(bundle)
    try:
        sc = Scenario.from_text(res.scenario_text, source=f"{bundle}/manifest.json")
    except ScenarioError as e:
        _fail(str(e))
    at_d, ref_d = _date(at, "--at"), _date(ref, "--ref")
    for name, d in (("--at", at_d), ("--ref", ref_d)):
        if d is not None and not sc.start <= d < sc.end:
            _fail(f"{name} {d}: outside the run ({sc.start} to {sc.end}, end exclusive)")
    at_w = sc.week(at_d) if at_d else sc.n_weeks - 1
    ref_w = sc.week(ref_d) if ref_d else sc.reference_week
    table = _compare(res, at_w, ref_w)
    n_rep = int(table["total"].max())
    bands = n_rep > 1
    short = table["replicates"] < table["total"]
    out.print(
        f"[bold]{sc.name}[/]: at {date_of(at_w, sc.start.year)} (week {at_w}), reference "
        f"{date_of(ref_w, sc.start.year)} (week {ref_w}); {n_rep} replicate{'s' if bands else ''}"
        + (" per policy" if bands else "")
        + (", fewer where a policy says so (failed experiments)" if short.any() else "")
        + ("; median [10%, 90%] across replicates" if bands else ""),
        highlight=False,
    )
    for var, rows in table.groupby("variable", sort=False):
        first = rows.iloc[0]
        t = Table(title=f"{var}: {first['label']} ({first['unit']})", title_justify="left")
        t.add_column("policy", no_wrap=True)
        for c in ("value", "vs baseline", "vs reference"):
            t.add_column(c, justify="right", no_wrap=True)
        for _, r in rows.iterrows():

            def cell(prefix: str, rel: bool, r: pd.Series = r) -> str:
                mid = _fmt(r[f"{prefix}_q50"], rel)
                return f"{mid} [{_fmt(r[f'{prefix}_q10'], rel)}, {_fmt(r[f'{prefix}_q90'], rel)}]" if bands else mid

            name = r["policy"]
            if r["replicates"] == 0:
                t.add_row(f"{name} [red](FAILED: 0 of {r['total']})[/]", "-", "-", "-")
                continue
            if r["replicates"] < r["total"]:
                name = f"{name} [yellow]({r['replicates']} of {r['total']})[/]"
            t.add_row(
                name,
                cell("value", False),
                cell("vs_baseline", True) if r["policy"] != "baseline" else "",
                cell("vs_ref", True),
            )
        out.print(t)
    _exit_if_failed(res)


@app.command()
def plot(
    bundle: Annotated[Path, typer.Argument(help="Result bundle directory.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the PNGs (default: BUNDLE/figures).")
    ] = None,
    overwrite: OverwriteFile = False,
) -> None:
    """Write fan charts (PNG) of members and conflict deaths by policy, stamped with the manifest hash."""
    res = _load(bundle)
    folder = out_dir or bundle / "figures"
    names = ("n_members", "new_conflict_deaths", "new_victims_est")
    if folder.exists() and not folder.is_dir():
        _fail(f"--out {folder}: is a file, not a folder")
    _check_files([folder / f"{v}.png" for v in names], overwrite)
    try:
        paths = res.plot(folder, names)
    except KeyError as e:
        _fail(str(e.args[0]))
    for p in paths:
        out.print(f"wrote {p}")
    _exit_if_failed(res)


def _pair(a: object, b: object) -> tuple[str, str]:
    """Two values of one row in one format, chosen by their magnitude together (173,800 beside 173,837)."""
    nums = [abs(float(x)) for x in (a, b) if isinstance(x, int | float) and not isinstance(x, bool)]
    big = max(nums, default=0.0)
    tiny = min((x for x in nums if x), default=1.0)
    whole = all(float(x).is_integer() for x in (a, b) if isinstance(x, int | float) and not isinstance(x, bool))

    def one(x: object) -> str:
        if not isinstance(x, int | float) or isinstance(x, bool):
            return str(x)
        if big >= 1e7 or tiny < 1e-3:
            return f"{x:.4g}"
        if big >= 100:
            return f"{x:,.0f}" if whole else f"{x:,.1f}"
        return f"{x:.4g}"

    return one(a), one(b)


def _print_group(checks: list[Check]) -> None:
    """One block per check: readable at any terminal width; the reference's kind said per row."""
    group = None
    for c in checks:
        if c.group != group:
            group = c.group
            out.print(f"\n[bold underline]{escape(group)}[/]")
        mark = "[dim]  -  [/]" if c.ok is None else "[green] ok  [/]" if c.ok else "[red] GAP [/]"
        out.print(f"{mark} {escape(c.name)} [dim]({c.basis.replace('_', ' ')})[/]", highlight=False)
        unit = f" {c.unit}" if c.unit else ""
        gap = f"  gap {c.gap}" if c.gap else ""
        tol = f"  tolerance {c.tolerance}" if c.tolerance not in ("", "-") else ""
        ref = "reference (model)" if c.basis == "by_construction" else "literature"
        paper, model = _pair(c.paper, c.model)
        shown = f"{ref} {escape(paper)} | " if c.paper not in ("-", "") else ""
        out.print(f"      {shown}model {escape(model)}{unit}{gap}{tol}", highlight=False)
        if c.source and c.source != "model output":
            out.print(f"      [dim]{escape(c.source)}[/]", highlight=False)


def _summary(checks: list[Check]) -> None:
    """Counts by group, then by basis: never a name repeated per row."""
    from collections import Counter

    out.print("\n[bold]summary[/] (within tolerance / checked; reported rows have no target)")
    groups = list(dict.fromkeys(c.group for c in checks))
    for g in groups:
        rows = [c for c in checks if c.group == g]
        judged = [c for c in rows if c.ok is not None]
        ok = sum(bool(c.ok) for c in judged)
        gaps = f", [red]{len(judged) - ok} outside[/]" if ok < len(judged) else ""
        rep = sum(c.ok is None for c in rows)
        parts = [f"{ok} of {len(judged)} within tolerance{gaps}"] if judged else []
        parts += [f"{rep} reported"] if rep else []
        out.print(f"  {escape(g)}: {'; '.join(parts)}", highlight=False)
    by = Counter(c.basis for c in checks)
    out.print("  by basis: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in by.items()), highlight=False)
    failed = [c for c in checks if c.ok is False]
    out.print(
        f"{sum(c.ok is True for c in checks)} within tolerance, {len(failed)} outside, "
        f"{sum(c.ok is None for c in checks)} reported only.",
        highlight=False,
    )


def _validation_steps() -> list[tuple[str, Callable[[], list[Check]]]]:
    from cartelsim.validation import ecosystem_checks
    from cartelsim.validation.geography import geography_checks
    from cartelsim.validation.organisation import organisation_steps

    return [
        ("ecosystem: the paper's reference run, policies, solver and refit", ecosystem_checks),
        ("geography: state totals and the Dell-style diversion", geography_checks),
        *organisation_steps(),
    ]


@app.command()
def validate() -> None:
    """Print each validation check as it completes: reference, model, tolerance, whether it holds, its basis.

    Progress goes to stderr. Each row says its basis: calibrated (a fit read the number), held out (no fit
    reads it), reproduction (the authors' own numbers), by construction (an internal agreement) or reported.
    """
    import time

    out.print("[bold]cartelsim validate[/]: model beside the literature (gaps are shown, never tuned away)")
    checks: list[Check] = []
    t_all = time.perf_counter()
    steps = _validation_steps()
    for k, (what, step) in enumerate(steps, 1):
        err.print(f"[{k}/{len(steps)}] {what} ...", highlight=False)
        t0 = time.perf_counter()
        got = step()
        err.print(f"      {len(got)} checks in {time.perf_counter() - t0:,.0f} s", highlight=False)
        _print_group(got)
        checks += got
    _summary(checks)
    err.print(f"done in {time.perf_counter() - t_all:,.0f} s", highlight=False)


@app.command("scenarios")
def scenarios_() -> None:
    """List the shipped scenarios (usable by name: `cartelsim run pc2023 --out DIR`) and where their files are."""
    from cartelsim import scenarios
    from cartelsim.scenario import Scenario

    for name in scenarios.names():
        sc = Scenario.from_toml(scenarios.path(name))
        out.print(f"[bold]{name}[/]: {escape(sc.description or sc.name)}", highlight=False)
        out.print(f"    {scenarios.path(name)}", highlight=False)


@app.command()
def params() -> None:
    """List every model parameter with unit, default, bounds, uncertainty range and source."""
    from cartelsim.params import PARAMS

    for p in PARAMS.values():
        rng = f"; default range {p.range[0]:g}..{p.range[1]:g}" if p.range else ""
        out.print(f"[bold]{p.name}[/] = {p.default:g}", highlight=False)
        out.print(f"    {escape(p.doc)}", highlight=False)
        out.print(f"    unit: {p.unit}; bounds {p.low:g}..{p.high:g}{rng}", highlight=False)
        out.print(f"    source: {escape(p.source)}", highlight=False)


def _check_cost(
    sc: Scenario,
    out_dir: Path,
    replicates: int | None,
    design: Design | None,
    workers: int | None,
    yes: bool,
    quiet: bool,
) -> None:
    """Estimate the run; refuse (exit 2) one above the thresholds without --yes, or one the free disk cannot hold."""
    import os
    import shutil

    from cartelsim.estimate import MAX_BYTES, MAX_SECONDS, estimate_run
    from cartelsim.experiments import count_experiments

    try:
        est = estimate_run(sc, count_experiments(sc, replicates, design))
    except Exception:  # the pilot failed: the run itself will say why, per experiment
        return
    n_workers = workers or os.cpu_count() or 1
    if est.needs_yes and not yes:
        _fail(
            f"this run is large: {est.text(n_workers)} (above {MAX_BYTES / 1e9:.0f} GB or "
            f"{MAX_SECONDS / 3600:.0f} hour); pass --yes to start it, or lower replicates, end or record"
        )
    where = next(p for p in (out_dir.absolute(), *out_dir.absolute().parents) if p.exists())
    free = shutil.disk_usage(where).free
    if est.bytes > free:
        _fail(f"--out {out_dir}: the run needs about {est.bytes / 1e9:,.1f} GB at the peak; {free / 1e9:,.1f} GB free")
    if not quiet and (est.seconds > 60 or est.bytes > 1e9):
        err.print(f"estimate: {est.text(n_workers)}", highlight=False)


def _run_bundle(
    sc: Scenario,
    out_dir: Path,
    overwrite: bool,
    quiet: bool,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    batch_size: int | None,
    *,
    replicates: int | None = None,
    design: Design | None = None,
    yes: bool = False,
) -> None:
    """Shared by ``run`` and ``sweep``: check everything, estimate the cost, then run resumably into ``out_dir``."""
    import importlib.util

    from cartelsim.bundle import BundleExistsError, BundleRefusedError, check_target
    from cartelsim.executors import EXECUTORS, ExecutorError, make_executor
    from cartelsim.experiments import check_bundle_target, run_to_bundle
    from cartelsim.partial import PartialBusyError, PartialMismatchError

    if executor not in EXECUTORS:
        _fail(f"--executor {executor!r}: unknown; allowed: {', '.join(EXECUTORS)}")
    for name, v in (("--workers", workers), ("--batch-size", batch_size)):
        if v is not None and v < 1:
            _fail(f"{name} {v}: must be a whole number >= 1")
    if workers is not None and executor == "serial":
        _fail("--workers applies to --executor process or dask")
    if scheduler and executor != "dask":
        _fail("--scheduler applies to --executor dask only")
    if executor == "dask" and importlib.util.find_spec("distributed") is None:
        _fail("--executor dask needs the distributed extra: pip install 'cartelsim[distributed]'")
    try:
        check_target(out_dir, overwrite, protect=[sc.source] if Path(sc.source).is_file() else [])
        resuming = check_bundle_target(sc, out_dir, replicates=replicates, design=design, overwrite=overwrite)
    except BundleExistsError:
        _fail(f"--out {out_dir}: exists; pass --overwrite to replace it")
    except (PartialMismatchError, BundleRefusedError) as e:
        _fail(str(e))
    if resuming and not quiet:
        err.print(f"resuming from {out_dir}.partial", highlight=False)
    _check_cost(sc, out_dir, replicates, design, workers if executor != "serial" else 1, yes, quiet)
    try:
        pool = make_executor(executor, workers, scheduler)
    except ExecutorError as e:
        _fail(str(e))
    try:
        with pool:
            summary = run_to_bundle(
                sc,
                out_dir,
                replicates=replicates,
                design=design,
                executor=pool,
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
    except (PartialBusyError, PartialMismatchError, BundleExistsError, BundleRefusedError) as e:
        _fail(str(e))
    done = f"; {summary.resumed} were done before" if summary.resumed else ""
    out.print(
        f"wrote {out_dir} ({summary.n_experiments} experiments, {summary.n_failed} failed{done}; "
        f"manifest {summary.manifest_hash})",
        highlight=False,
    )
    if summary.n_failed:
        import pandas as pd

        ex = pd.read_parquet(
            summary.path / "experiments.parquet",
            columns=["experiment_id", "policy", "replicate", "message"],
            filters=[("status", "==", "failed")],
        )
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


@app.command()
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
    from cartelsim.sampling import METHODS
    from cartelsim.sweep import sweep_design

    sc = _read_scenario(scenario)
    if method not in METHODS:
        _fail(f"--method {method!r}: unknown; allowed: {', '.join(METHODS)}")
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
        design = sweep_design(sc, method, samples, all_uncertain=all_uncertain, seed=design_seed, **options)
    except ValueError as e:
        _fail(f"{scenario}: {e}")
    if not quiet:
        err.print(
            f"{method} design: {design.n_rows} rows x {len(design.factors)} factors ({', '.join(design.names)}); "
            f"{design.n_rows * len(sc.all_policies)} experiments",
            highlight=False,
        )
    _run_bundle(sc, out_dir, overwrite, quiet, executor, workers, scheduler, batch_size, design=design, yes=yes)


@app.command()
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
    from cartelsim.calibrate import DEFAULT_FREE, FIT_PARAMETERS, parse_free
    from cartelsim.calibrate import calibrate as _calibrate
    from cartelsim.params import PARAMS

    try:
        names = parse_free([x for x in free.split(",") if x.strip()] if free is not None else DEFAULT_FREE)
    except ValueError as e:
        _fail(f"--free: {e}")
    if out_file is not None:
        if out_file.exists() and not overwrite:
            _fail(f"--out {out_file}: exists; pass --overwrite to replace it")
        if not out_file.parent.is_dir():
            _fail(f"--out {out_file}: folder {out_file.parent} does not exist")
    with err.status(f"fitting {', '.join(names)} (L-BFGS-B)"):
        fit = _calibrate(names)
    symbols = dict(zip(FIT_PARAMETERS, ("rho", "eta", "theta", "omega", "C0"), strict=True))
    t = Table(title="fitted parameters", title_justify="left")
    for col in ("parameter", "symbol", "value", "reference", "change", "status", "unit"):
        t.add_column(col, justify="right" if col in ("value", "reference", "change") else "left")
    for k in FIT_PARAMETERS:
        v, ref = fit.parameters[k], PARAMS[k].default
        change = f"{(v / ref - 1) * 100:+.3f}%" if k in fit.free else ""
        status = "fitted" if k in fit.free else "held"
        t.add_row(k, symbols[k], f"{v:.6g}", f"{ref:.6g}", change, status, PARAMS[k].unit)
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


@app.command()
def routes(
    scenario: Annotated[Path, typer.Argument(help=SCENARIO_HELP)],
    at: Annotated[str, typer.Option("--at", help="Date to show (YYYY-MM-DD), within the run.")],
    policy: Annotated[
        str, typer.Option("--policy", help="Policy whose shocks apply (default: baseline).")
    ] = "baseline",
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write a map of the routes (PNG).")] = None,
    overwrite: OverwriteFile = False,
) -> None:
    """Print the predicted trafficking routes at a date (origins' ports and paths, busiest places, port shares).

    With --out FILE.png, also draw them on a map of the municipalities.
    """
    import numpy as np

    from cartelsim import places
    from cartelsim.geography.layer import routes_at
    from cartelsim.policies.geography import Crackdown
    from cartelsim.timeline import date_of

    sc = _read_scenario(scenario)
    d = _date(at, "--at")
    assert d is not None
    if not sc.start <= d < sc.end:
        _fail(f"--at {d}: outside the run; allowed: {sc.start} to {sc.end} (end exclusive)")
    names = [p.name for p in sc.all_policies]
    if policy not in names:
        _fail(f"--policy {policy!r}: not in {scenario}; allowed: {', '.join(names)}")
    if out_file is not None and out_file.suffix.lower() != ".png":
        _fail(f"--out {out_file}: must be a .png file")
    _check_files([out_file] if out_file is not None else [], overwrite)
    week = sc.week(d)
    graph, sol, plain = routes_at(sc, week, policy)
    wide = out if out.is_terminal else Console(width=130, soft_wrap=True)  # pipes and files: no truncated codes
    muni = places.municipalities().set_index("code")
    ports = places.ports().set_index("port_code")
    shocked = sol is not plain
    now = np.array([week])
    active = [iv for iv in sc.policy(policy).interventions if iv.layer == "geography" and iv.active(now, sc.week)[0]]
    out.print(
        f"[bold]{sc.name}[/]: policy {policy} at {date_of(week, sc.start.year)} (week {week}); "
        f"{len(active)} geography intervention{'s' if len(active) != 1 else ''} active"
        + ("" if "geography" in sc.layers else "; note: the scenario's layers do not include geography"),
        highlight=False,
    )
    t = Table(title="Origins (producing regions, an assumption) and their routes", title_justify="left")
    for c in ("origin", "municipality", "state", "port", "path km", "cost km-eq", "steps"):
        t.add_column(c, justify="right" if c in ("path km", "cost km-eq", "steps") else "left", no_wrap=True)
    for k, o in enumerate(sol.origins.tolist()):
        code = str(graph.codes[o])
        p = int(sol.origin_port[k])
        port = f"{graph.port_codes[p]} {ports.loc[graph.port_codes[p], 'port_name']}" if p >= 0 else "no route"
        t.add_row(
            code,
            str(muni.loc[code, "name"]),
            str(muni.loc[code, "state_name"]),
            port,
            _fmt(float(sol.origin_length_km[k])),
            _fmt(float(sol.origin_cost_km[k])) if p >= 0 else "-",
            str(sol.path(k).size),
        )
    wide.print(t)
    busiest = sorted(range(graph.n_municipalities), key=lambda i: (-int(sol.n_routes[i]), str(graph.codes[i])))[:10]
    t = Table(title="Busiest municipalities (n_routes: origin routes through them)", title_justify="left")
    for c in ("code", "municipality", "state", "n_routes", *(["unshocked"] if shocked else [])):
        t.add_column(c, justify="right" if c in ("n_routes", "unshocked") else "left", no_wrap=True)
    for i in busiest:
        code = str(graph.codes[i])
        row = [code, str(muni.loc[code, "name"]), str(muni.loc[code, "state_name"]), str(int(sol.n_routes[i]))]
        t.add_row(*row, *([str(int(plain.n_routes[i]))] if shocked else []))
    wide.print(t)
    t = Table(title="Ports: share of the flow crossing the border", title_justify="left")
    for c in ("port", "name", "twin municipality", "capacity", "flow_share", *(["unshocked"] if shocked else [])):
        t.add_column(c, justify="right" if c in ("capacity", "flow_share", "unshocked") else "left", no_wrap=True)
    for p in sorted(range(graph.n_ports), key=lambda j: (-float(sol.flow_share[j]), str(graph.port_codes[j]))):
        code = str(graph.port_codes[p])
        row = [code, str(ports.loc[code, "port_name"]), str(ports.loc[code, "twin_name"])]
        row += [f"{graph.capacity_share[p]:.1%}", f"{sol.flow_share[p]:.1%}"]
        t.add_row(*row, *([f"{plain.flow_share[p]:.1%}"] if shocked else []))
    wide.print(t)
    diverted = int(((sol.n_routes > 0) & (plain.n_routes == 0)).sum())
    out.print(
        f"{sol.n_municipalities_on_routes} municipalities on routes ({diverted} diverted onto, vs no shocks); "
        f"flow reaching the border after seizures {sol.flow_to_border:.3g} of {sol.supply.sum():.3g} supplied",
        highlight=False,
    )
    if out_file is not None:
        from cartelsim.geography.route_map import plot_routes

        title = f"{sc.name}: {policy}, {date_of(week, sc.start.year)}"
        treated = np.zeros(graph.n_municipalities, dtype=bool)
        for iv in active:
            if isinstance(iv, Crackdown):
                treated |= np.isin(graph.state_codes, iv.states or ()) | np.isin(graph.codes, iv.municipalities or ())
        stamp = f"scenario {scenario.name}"
        plot_routes(graph, sol, out_file, title, plain if shocked else None, treated=treated, stamp=stamp)
        out.print(f"wrote {out_file}")


@app.command("map")
def map_(
    bundle: Annotated[Path, typer.Argument(help="Result bundle directory.")],
    variable: Annotated[str, typer.Option("--variable", help="Outcome to map, e.g. new_conflict_deaths.")],
    at: Annotated[str, typer.Option("--at", help="Date to show (YYYY-MM-DD), within the run.")],
    level: Annotated[str, typer.Option("--level", help="state or municipality.")] = "state",
    policy: Annotated[str, typer.Option("--policy", help="Policy to map (default: baseline).")] = "baseline",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="PNG to write (default: map_<variable>_<level>_<policy>_<date>.png).")
    ] = None,
    vs: Annotated[
        str | None, typer.Option("--vs", help="Map the difference --policy minus this policy (e.g. baseline).")
    ] = None,
    overwrite: OverwriteFile = False,
) -> None:
    """Draw a choropleth of Mexico of one outcome at a date, by state or municipality (flows per week).

    The footer carries the bundle's manifest hash; with several replicates the map shows the median.
    """
    from cartelsim.bundle import BundleExistsError, BundleRefusedError
    from cartelsim.geography.maps import LEVELS, MapError, bundle_map

    if level not in LEVELS:
        _fail(f"--level {level!r}: allowed: {', '.join(LEVELS)}")
    if out_file is not None and out_file.suffix.lower() != ".png":
        _fail(f"--out {out_file}: must be a .png file")
    d = _date(at, "--at")
    assert d is not None
    res = _load(bundle)
    try:
        path = bundle_map(res, variable, d, level, policy, vs, out_file, overwrite=overwrite)
    except MapError as e:
        _fail(f"{bundle}: {e}")
    except (BundleExistsError, BundleRefusedError) as e:
        _fail(str(e))
    out.print(f"wrote {path}")
    _exit_if_failed(res)


def _sweep_request(
    bundle: Path, variable: str, at: str, policy: str, vs: str | None, since: str | None, level: str, group: str
) -> tuple[SweepBundle, SweepOutcome]:
    """Load the bundle's rows of ``variable`` and take one value per replicate (exit 2 on bad input)."""
    from cartelsim.analysis.sweeps import SweepBundle, SweepError, sweep_outcome
    from cartelsim.bundle import BundleError

    at_d, since_d = _date(at, "--at"), _date(since, "--since")
    assert at_d is not None
    try:
        b = SweepBundle.load(bundle, [variable])
    except BundleError as e:
        _fail(str(e))
    try:
        o = sweep_outcome(b, variable, at_d, policy, vs=vs, level=level, group=group, since=since_d)
    except SweepError as e:
        _fail(f"{bundle}: {e}")
    return b, o


def _figure_path(bundle: Path, out_file: Path | None, stem: str) -> Path:
    if out_file is not None:
        if out_file.suffix.lower() != ".png":
            _fail(f"--out {out_file}: must be a .png file")
        if not out_file.parent.is_dir():
            _fail(f"--out {out_file}: folder {out_file.parent} does not exist")
    return out_file if out_file is not None else bundle / "figures" / f"{stem}.png"


def _g(x: float) -> str:
    import math

    return "-" if not math.isfinite(x) else f"{x:.4g}"


def _wide() -> Console:
    """The output console, 130 columns wide when it is not a terminal (pipes and files: no truncated names)."""
    return out if out.is_terminal else Console(width=130, soft_wrap=True)


def _outcome_header(bundle: Path, b: SweepBundle, o: SweepOutcome) -> None:
    import numpy as np

    d = b.design
    what = (
        f"{d.method} design, {d.n_rows} rows x {len(d.factors)} factors"
        if d is not None
        else f"{o.values.size} replicates (no design)"
    )
    out.print(f"[bold]{escape(str(bundle))}[/] (manifest {b.hash}): {what}", highlight=False)
    out.print(f"outcome: {escape(o.description)}", highlight=False)
    v = o.values[np.isfinite(o.values)]
    if v.size:
        q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
        out.print(f"  across replicates: median {_g(q50)} [10%: {_g(q10)}, 90%: {_g(q90)}]", highlight=False)
        if o.vs is not None:
            below = int((v < 0).sum())
            out.print(
                f"  {o.policy} below {o.vs} in {below} of {v.size} replicates ({below / v.size:.1%})"
                + (
                    " (design rows; a Morris design's rows sit on a grid, so this share is coarse)"
                    if d is not None and d.method == "morris"
                    else ""
                ),
                highlight=False,
            )


# Options shared by the commands that read one outcome of a sweep (sensitivity, discover).
SweepVariable = Annotated[str, typer.Option("--variable", help="Outcome, e.g. new_deaths_all_est.")]
SweepAt = Annotated[
    str,
    typer.Option("--at", help="Date (YYYY-MM-DD) of a recorded week; with --since, the end of the window (exclusive)."),
]
SweepSince = Annotated[
    str | None,
    typer.Option("--since", help="Sum a flow (new_...) over the recorded weeks from this date up to --at."),
]
SweepLevel = Annotated[str, typer.Option("--level", help="national, cartel, state, municipality or port.")]
SweepGroup = Annotated[str, typer.Option("--group", help="Group id at --level (empty for national).")]


@app.command()
def sensitivity(
    bundle: Annotated[Path, typer.Argument(help="Sweep bundle directory (from `cartelsim sweep`).")],
    variable: SweepVariable,
    at: SweepAt,
    policy: Annotated[str, typer.Option("--policy", help="Policy whose outcome is analysed.")],
    vs: Annotated[
        str | None,
        typer.Option("--vs", help="Analyse --policy minus this policy (e.g. baseline), paired by replicate."),
    ] = None,
    since: SweepSince = None,
    level: SweepLevel = "national",
    group: SweepGroup = "",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="PNG to write (default: BUNDLE/figures/sensitivity_<variable>_<policy>.png)."),
    ] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the ranked table as CSV.")] = None,
    overwrite: OverwriteFile = False,
) -> None:
    """Rank a sweep's uncertain assumptions by their influence on one outcome (Morris, Sobol or, for LHS, PRCC).

    Morris: mu* (mean absolute elementary effect, outcome unit per factor range) and sigma; Sobol: S1 and ST
    (shares of variance) with bootstrap confidence half-widths, and S2 when the design has second order.
    The plot carries the bundle's manifest hash. Model output under the scenario's stated assumptions.
    """
    from cartelsim.analysis.rank_correlation import plot_rank_correlations
    from cartelsim.analysis.sensitivity import plot_sensitivity
    from cartelsim.analysis.sweeps import SweepError
    from cartelsim.analysis.sweeps import sensitivity as _sensitivity

    if csv_file is not None and not csv_file.parent.is_dir():
        _fail(f"--csv {csv_file}: folder {csv_file.parent} does not exist")
    stem = f"sensitivity_{variable}_{policy}" + (f"_vs_{vs}" if vs else "")
    path = _figure_path(bundle, out_file, stem)
    b, o = _sweep_request(bundle, variable, at, policy, vs, since, level, group)
    _check_files([path] + ([csv_file] if csv_file is not None else []), overwrite)
    try:
        s = _sensitivity(b, o)
    except SweepError as e:
        _fail(f"{bundle}: {e}")
    _outcome_header(bundle, b, o)
    if s.method == "lhs":
        out.print(
            "A Latin hypercube has no Morris or Sobol indices (they need trajectories or Saltelli's matrices); "
            "ranking by partial rank correlation (PRCC) instead, which captures monotone effects only. For "
            "Morris or Sobol indices, rerun the sweep with --method morris or --method sobol.",
            highlight=False,
        )
    heads = {
        "morris": (("mu_star", "mu*"), ("mu_star_conf", "± (95%)"), ("sigma", "sigma"), ("mu", "mu")),
        "sobol": (("ST", "ST"), ("ST_conf", "± (95%)"), ("S1", "S1"), ("S1_conf", "± (95%)")),
        "lhs": (("prcc", "PRCC"), ("prcc_p", "p-value"), ("spearman", "Spearman")),
    }[s.method]
    unit = {
        "morris": "outcome unit per factor range",
        "sobol": "shares of the outcome's variance",
        "lhs": "dimensionless",
    }
    wide = _wide()
    t = Table(
        title=f"{s.method} ranking by {s.ranked_by} ({unit[s.method]}; {s.n_rows} design rows)", title_justify="left"
    )
    t.add_column("rank", justify="right")
    t.add_column("factor", no_wrap=True)
    for _, h in heads:
        t.add_column(h, justify="right", no_wrap=True)
    for r in s.table.itertuples(index=False):
        t.add_row(str(r.rank), str(r.factor), *(_g(float(getattr(r, c))) for c, _ in heads))
    wide.print(t)
    if s.second_order is not None:
        t2 = Table(title="second-order Sobol indices, largest 10 pairs", title_justify="left")
        for c in ("factor_i", "factor_j", "S2", "± (95%)"):
            t2.add_column(c, justify="left" if c.startswith("factor") else "right", no_wrap=True)
        for fi, fj, s2, s2c in s.second_order.head(10)[["factor_i", "factor_j", "S2", "S2_conf"]].to_numpy():
            t2.add_row(str(fi), str(fj), _g(float(s2)), _g(float(s2c)))
        wide.print(t2)
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"{o.variable}, {o.when}\n{o.policy}" + (f" minus {o.vs}" if o.vs else "")
    note = f"{bundle.name} · manifest {b.hash} · model output under stated assumptions"
    if s.method == "lhs":
        plot_rank_correlations(s.table, path, title=title, note=note)
    else:
        plot_sensitivity(s.table, s.method, path, title=title, note=note)  # type: ignore[arg-type]
    out.print(f"wrote {path}")
    if csv_file is not None:
        s.table.to_csv(csv_file, index=False)
        out.print(f"wrote {csv_file}")


@app.command()
def discover(
    bundle: Annotated[Path, typer.Argument(help="Sweep bundle directory (or a run with sampled assumptions).")],
    variable: SweepVariable,
    at: SweepAt,
    policy: Annotated[str, typer.Option("--policy", help="The policy whose value should be lower.")],
    vs: Annotated[str, typer.Option("--vs", help="The policy it is compared with, paired by replicate.")],
    since: SweepSince = None,
    level: SweepLevel = "national",
    group: SweepGroup = "",
    margin: Annotated[
        str | None,
        typer.Option(
            help="Also count cases where --policy is at most this much above --vs: an amount in the outcome's "
            "unit (5000) or a share of --vs's value in the same replicate (2%). Default: strictly below."
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Density the chosen box must reach, in (0, 1].")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Share of the box's cases peeled at each step, in (0, 0.5).")] = 0.05,
    mass_min: Annotated[float, typer.Option(help="Smallest box mass (share of all cases), in (0, 1).")] = 0.05,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="PNG to write (default: BUNDLE/figures/discover_<variable>_<policy>_vs_<vs>.png)."),
    ] = None,
    overwrite: OverwriteFile = False,
) -> None:
    """Scenario discovery (PRIM): which ranges of which assumptions make --policy's value lower than --vs's.

    A case is one replicate (a design row); it is of interest when --policy's value is below --vs's in the
    same replicate. Prints the chosen box (factor, low, high) with its coverage, density and mass, and
    writes the peeling trajectory. Model output under the scenario's stated assumptions; it asks which
    assumptions decide the answer, never where or whom to strike.
    """
    from cartelsim.analysis.discover import Margin
    from cartelsim.analysis.discover import discover as _discover
    from cartelsim.analysis.prim import plot_trajectory
    from cartelsim.analysis.sweeps import SweepError

    m = Margin()
    if margin is not None:
        try:
            m = Margin.parse(margin)
        except SweepError as e:
            _fail(f"--{e}")
    if not 0 < threshold <= 1:
        _fail(f"--threshold {threshold}: must lie in (0, 1]")
    if not 0 < alpha < 0.5:
        _fail(f"--alpha {alpha}: must lie in (0, 0.5)")
    if not 0 < mass_min < 1:
        _fail(f"--mass-min {mass_min}: must lie in (0, 1)")
    path = _figure_path(bundle, out_file, f"discover_{variable}_{policy}_vs_{vs}")
    b, o = _sweep_request(bundle, variable, at, policy, vs, since, level, group)
    _check_files([path], overwrite)
    try:
        d = _discover(b, o, margin=m, threshold=threshold, alpha=alpha, mass_min=mass_min)
    except SweepError as e:
        _fail(f"{bundle}: {e}")
    _outcome_header(bundle, b, o)
    if d.dropped:
        err.print(
            f"[yellow]left out:[/] {len(d.dropped)} replicate(s) with a failed experiment: "
            + "; ".join(escape(x) for x in o.failed_lines()),
            highlight=False,
        )
    below = f"below {o.vs}" + (f" {m}".replace("% of vs", f"% of {o.vs}") if str(m) else "")
    out.print(
        f"cases of interest ({o.policy} {below}): {d.n_interest} of {d.n} ({d.share:.1%}); "
        f"assumptions searched: {len(d.X.columns)}",
        highlight=False,
    )
    r = d.result
    if r is None:
        where = "nowhere" if d.n_interest == 0 else "everywhere"
        out.print(
            f"No box to find: {o.policy} is {below} {where} in the sampled ranges of the assumptions "
            f"({d.n_interest} of {d.n} cases). Nothing written.",
            highlight=False,
        )
        return
    lim = r.limits
    t = Table(
        title=f"chosen box {r.chosen} of {len(r.trajectory)} on the peeling trajectory (threshold {threshold:g})",
        title_justify="left",
    )
    for c in ("factor", "low", "high", "restricted", "sampled range"):
        t.add_column(c, justify="left" if c in ("factor", "restricted") else "right", no_wrap=True)
    for f, lo, hi, side in lim[["factor", "low", "high", "restricted"]].to_numpy():
        col = d.X[f]
        t.add_row(str(f), _g(float(lo)), _g(float(hi)), str(side), f"{_g(col.min())} .. {_g(col.max())}")
    if lim.empty:
        t.add_row("(no restriction)", "", "", "", "")
    _wide().print(t)
    n_box = int(r.trajectory["n"].iloc[r.chosen])
    out.print(
        f"coverage {r.coverage:.1%} (of the cases of interest, inside the box); density {r.density:.1%} (of the "
        f"box's {n_box} cases, of interest); mass {r.mass:.1%} (of all cases); overall share of interest "
        f"{d.share:.1%}",
        highlight=False,
    )
    if not r.meets_threshold:
        err.print(
            f"[yellow]note:[/] no box on the trajectory reaches density {threshold:g}; this is the densest one",
            highlight=False,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"PRIM: where {o.policy}\n{below}\n({o.variable}, {o.when})"
    note = f"{bundle.name} · manifest {b.hash} · model output under stated assumptions"
    plot_trajectory(r, path, title=title, note=note)
    out.print(f"wrote {path}")


def main() -> None:  # pragma: no cover - console entry point
    """Entry point."""
    app()
