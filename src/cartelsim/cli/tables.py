"""``compare``, ``params``, ``scenarios`` and ``validate``: the commands that print tables."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cartelsim import api
from cartelsim.cli._common import _date, _exit_if_failed, _fail, _fmt, _load, err, out

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd


def compare(
    bundle: Annotated[Path, typer.Argument(help="Result bundle directory.")],
    at: Annotated[
        str | None, typer.Option(help="Date to report (YYYY-MM-DD; default: the last recorded week).")
    ] = None,
    ref: Annotated[str | None, typer.Option(help="Reference date (default: the scenario's reference).")] = None,
) -> None:
    """Print each policy's members, conflict deaths and estimated victims at a date, vs baseline and vs --ref."""
    res = _load(bundle)
    try:
        sc = api.scenario_of(res, bundle)
    except api.ScenarioError as e:
        _fail(str(e))
    at_d, ref_d = _date(at, "--at"), _date(ref, "--ref")
    for name, d in (("--at", at_d), ("--ref", ref_d)):
        if d is not None and not sc.start <= d < sc.end:
            _fail(f"{name} {d}: outside the run ({sc.start} to {sc.end}, end exclusive)")
    at_w = sc.week(at_d) if at_d else sc.n_weeks - 1
    ref_w = sc.week(ref_d) if ref_d else sc.reference_week
    table = api.compare(res, at_w, ref_w)
    n_rep = int(table["total"].max())
    bands = n_rep > 1
    short = table["replicates"] < table["total"]
    out.print(
        f"[bold]{sc.name}[/]: at {api.date_of(at_w, sc.start.year)} (week {at_w}), reference "
        f"{api.date_of(ref_w, sc.start.year)} (week {ref_w}); {n_rep} replicate{'s' if bands else ''}"
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


def _print_group(checks: list[api.Check]) -> None:
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


def _summary(checks: list[api.Check]) -> None:
    """Counts by group, then by basis: never a name repeated per row."""
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


def _validation_steps() -> list[tuple[str, Callable[[], list[api.Check]]]]:
    """The validation steps, in order (one name to replace in the tests)."""
    return api.validation_steps()


def validate() -> None:
    """Print each validation check as it completes: reference, model, tolerance, whether it holds, its basis.

    Progress goes to stderr. Each row says its basis: calibrated (a fit read the number), held out (no fit
    reads it), reproduction (the authors' own numbers), by construction (an internal agreement) or reported.
    """
    out.print("[bold]cartelsim validate[/]: model beside the literature (gaps are shown, never tuned away)")
    checks: list[api.Check] = []
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


def scenarios_() -> None:
    """List the shipped scenarios (usable by name: `cartelsim run pc2023 --out DIR`) and where their files are."""
    for name, path, sc in api.shipped_scenarios():
        out.print(f"[bold]{name}[/]: {escape(sc.description or sc.name)}", highlight=False)
        out.print(f"    {path}", highlight=False)


def params() -> None:
    """List every model parameter with unit, default, bounds, uncertainty range and source."""
    for p in api.PARAMS.values():
        rng = f"; default range {p.range[0]:g}..{p.range[1]:g}" if p.range else ""
        out.print(f"[bold]{p.name}[/] = {p.default:g}", highlight=False)
        out.print(f"    {escape(p.doc)}", highlight=False)
        out.print(f"    unit: {p.unit}; bounds {p.low:g}..{p.high:g}{rng}", highlight=False)
        out.print(f"    source: {escape(p.source)}", highlight=False)
