"""The ``cartelsim`` command line: a thin adapter over the Python API.

Bad input gets one clear message naming the file, the key and the allowed values, exit code 2, and
nothing written.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from cartelsim.results import Results

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


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r}: not a date; write it as YYYY-MM-DD")


def _load(bundle: Path) -> Results:
    from cartelsim.results import load

    try:
        return load(bundle)
    except FileNotFoundError as e:
        _fail(str(e))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle directory to write.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing bundle.")] = False,
    replicates: Annotated[int | None, typer.Option(help="Override the scenario's replicates.", min=1)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run every policy of SCENARIO (plus baseline) for every replicate and write a result bundle."""
    from cartelsim.experiments import run_experiments
    from cartelsim.scenario import Scenario, ScenarioError

    try:
        sc = Scenario.from_toml(scenario)
    except ScenarioError as e:
        _fail(str(e))
    if out_dir.exists() and not overwrite:
        _fail(f"--out {out_dir}: exists; pass --overwrite to replace it")
    res = run_experiments(sc, replicates=replicates, progress=not quiet and sys.stderr.isatty())
    res.save(out_dir, overwrite=overwrite)
    n_fail = int((res.experiments["status"] == "failed").sum())
    out.print(f"wrote {out_dir} ({len(res.experiments)} experiments, {n_fail} failed; manifest {res.hash})")
    if n_fail:
        for _, r in res.experiments[res.experiments["status"] == "failed"].head(5).iterrows():
            err.print(
                f"  experiment {r['experiment_id']} ({r['policy']}, replicate {r['replicate']}): "
                f"{escape(str(r['message']))}"
            )
        raise typer.Exit(1)


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
    n_rep = int(table["replicates"].max())
    bands = n_rep > 1
    out.print(
        f"[bold]{sc.name}[/]: at {date_of(at_w, sc.start.year)} (week {at_w}), reference "
        f"{date_of(ref_w, sc.start.year)} (week {ref_w}); {n_rep} replicate{'s' if bands else ''}"
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

            t.add_row(
                r["policy"],
                cell("value", False),
                cell("vs_baseline", True) if r["policy"] != "baseline" else "",
                cell("vs_ref", True),
            )
        out.print(t)


@app.command()
def plot(
    bundle: Annotated[Path, typer.Argument(help="Result bundle directory.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the PNGs (default: BUNDLE/figures).")
    ] = None,
) -> None:
    """Write fan charts (PNG) of members and conflict deaths by policy, stamped with the manifest hash."""
    res = _load(bundle)
    try:
        paths = res.plot(out_dir or bundle / "figures", ("n_members", "new_conflict_deaths", "new_victims_est"))
    except KeyError as e:
        _fail(str(e.args[0]))
    for p in paths:
        out.print(f"wrote {p}")


@app.command()
def validate() -> None:
    """Print each reproduction check: the paper's value, the model's, the tolerance and whether it holds."""
    from cartelsim.validation import ecosystem_checks

    checks = ecosystem_checks()
    t = Table(
        title="cartelsim validate: model beside the literature (gaps are shown, never tuned away)",
        title_justify="left",
    )
    for col in ("group", "check", "paper", "model", "unit", "gap", "tolerance", "ok"):
        t.add_column(col, overflow="fold")
    for c in checks:

        def show(v: object) -> str:
            return f"{v:,.4g}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)

        ok = "-" if c.ok is None else "[green]yes[/]" if c.ok else "[red]NO (gap)[/]"
        t.add_row(c.group, c.name, show(c.paper), show(c.model), c.unit, c.gap, c.tolerance, ok)
    out.print(t)
    failed = [c for c in checks if c.ok is False]
    out.print(
        f"{sum(c.ok is True for c in checks)} within tolerance, {len(failed)} outside "
        f"({', '.join(c.group for c in failed) or 'none'}), {sum(c.ok is None for c in checks)} reported only."
    )


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


def main() -> None:  # pragma: no cover - console entry point
    """Entry point."""
    app()
