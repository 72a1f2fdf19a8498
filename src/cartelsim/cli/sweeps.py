"""``sensitivity`` and ``discover``: the commands that read one outcome of a sweep bundle."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cartelsim import api
from cartelsim.cli._common import OverwriteFile, _check_files, _date, _fail, _wide, err, out


def _sweep_request(
    bundle: Path, variable: str, at: str, policy: str, vs: str | None, since: str | None, level: str, group: str
) -> tuple[api.SweepBundle, api.SweepOutcome]:
    """Load the bundle's rows of ``variable`` and take one value per replicate (exit 2 on bad input)."""
    at_d, since_d = _date(at, "--at"), _date(since, "--since")
    assert at_d is not None
    try:
        b = api.load_sweep(bundle, [variable])
    except api.BundleError as e:
        _fail(str(e))
    try:
        o = api.sweep_outcome(b, variable, at_d, policy, vs=vs, level=level, group=group, since=since_d)
    except api.SweepError as e:
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
    return "-" if not math.isfinite(x) else f"{x:.4g}"


def _outcome_header(bundle: Path, b: api.SweepBundle, o: api.SweepOutcome) -> None:
    d = b.design
    what = (
        f"{d.method} design, {d.n_rows} rows x {len(d.factors)} factors"
        if d is not None
        else f"{o.values.size} replicates (no design)"
    )
    out.print(f"[bold]{escape(str(bundle))}[/] (manifest {b.hash}): {what}", highlight=False)
    out.print(f"outcome: {escape(o.description)}", highlight=False)
    v = api.outcome_spread(o)
    if v is not None:
        out.print(f"  across replicates: median {_g(v.q50)} [10%: {_g(v.q10)}, 90%: {_g(v.q90)}]", highlight=False)
        if o.vs is not None:
            out.print(
                f"  {o.policy} below {o.vs} in {v.below} of {v.n} replicates ({v.below / v.n:.1%})"
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
    if csv_file is not None and not csv_file.parent.is_dir():
        _fail(f"--csv {csv_file}: folder {csv_file.parent} does not exist")
    stem = f"sensitivity_{variable}_{policy}" + (f"_vs_{vs}" if vs else "")
    path = _figure_path(bundle, out_file, stem)
    b, o = _sweep_request(bundle, variable, at, policy, vs, since, level, group)
    _check_files([path] + ([csv_file] if csv_file is not None else []), overwrite)
    try:
        s = api.sensitivity(b, o)
    except api.SweepError as e:
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
    api.plot_sensitivity(s, path, title=title, note=note)
    out.print(f"wrote {path}")
    if csv_file is not None:
        s.table.to_csv(csv_file, index=False)
        out.print(f"wrote {csv_file}")


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
    m = api.Margin()
    if margin is not None:
        try:
            m = api.Margin.parse(margin)
        except api.SweepError as e:
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
        d = api.discover(b, o, margin=m, threshold=threshold, alpha=alpha, mass_min=mass_min)
    except api.SweepError as e:
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
    api.plot_trajectory(r, path, title=title, note=note)
    out.print(f"wrote {path}")
