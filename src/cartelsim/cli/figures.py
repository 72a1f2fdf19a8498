"""``plot``, ``routes`` and ``map``: the commands that draw (and ``routes`` its tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cartelsim import api
from cartelsim.cli._common import (
    SCENARIO_HELP,
    OverwriteFile,
    _check_files,
    _date,
    _exit_if_failed,
    _fail,
    _fmt,
    _load,
    _read_scenario,
    _wide,
    out,
)


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
        paths = api.plot(res, folder, names)
    except KeyError as e:
        _fail(str(e.args[0]))
    for p in paths:
        out.print(f"wrote {p}")
    _exit_if_failed(res)


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
    r = api.routes(sc, week, policy)
    graph, sol, plain = r.graph, r.solution, r.unshocked
    wide = _wide()  # pipes and files: no truncated codes
    muni, ports, shocked, active = r.municipalities, r.ports, r.shocked, r.active
    out.print(
        f"[bold]{sc.name}[/]: policy {policy} at {api.date_of(week, sc.start.year)} (week {week}); "
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
        title = f"{sc.name}: {policy}, {api.date_of(week, sc.start.year)}"
        api.plot_routes(r, out_file, title, stamp=f"scenario {scenario.name}")
        out.print(f"wrote {out_file}")


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
    if level not in api.LEVELS:
        _fail(f"--level {level!r}: allowed: {', '.join(api.LEVELS)}")
    if out_file is not None and out_file.suffix.lower() != ".png":
        _fail(f"--out {out_file}: must be a .png file")
    d = _date(at, "--at")
    assert d is not None
    res = _load(bundle)
    try:
        path = api.bundle_map(res, variable, d, level, policy, vs, out_file, overwrite=overwrite)
    except api.MapError as e:
        _fail(f"{bundle}: {e}")
    except (api.BundleExistsError, api.BundleRefusedError) as e:
        _fail(str(e))
    out.print(f"wrote {path}")
    _exit_if_failed(res)
