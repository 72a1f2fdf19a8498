"""The ``cartelsim`` command line: a thin adapter over the Python API (:mod:`cartelsim.api`, its only way in).

Bad input gets one clear message naming the file, the key and the allowed values, exit code 2, and
nothing written.

One module per command family: ``run`` (run, sweep, calibrate), ``tables`` (compare, params, scenarios,
validate), ``figures`` (plot, routes, map), ``sweeps`` (sensitivity, discover); ``_common`` holds the
consoles, the one-message failure and the shared options. The commands are registered here, in the order
``cartelsim --help`` lists them.
"""

from __future__ import annotations

import typer

from cartelsim.cli import figures, run, sweeps, tables

app = typer.Typer(
    name="cartelsim",
    help="Weigh policies against Mexico's cartels (strikes, arrests, interdiction, prevention) with calibrated, "
    "reproducible models. cartelsim weighs policies; it never carries one out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(run.run)
app.command()(tables.compare)
app.command()(figures.plot)
app.command()(tables.validate)
app.command("scenarios")(tables.scenarios_)
app.command()(tables.params)
app.command()(run.sweep)
app.command()(run.calibrate)
app.command()(figures.routes)
app.command("map")(figures.map_)
app.command()(sweeps.sensitivity)
app.command()(sweeps.discover)

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry point
    """Entry point."""
    app()
