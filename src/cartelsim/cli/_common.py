"""What every command shares: the consoles, one-message failure (exit 2), shared options, reading inputs."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from cartelsim import api

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


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

SCENARIO_HELP = "Scenario file (TOML), or the name of a shipped one (see `cartelsim scenarios`)."


def _check_files(paths: list[Path], overwrite: bool) -> None:
    """Fail (exit 2, nothing written) if a file to be written exists without --overwrite, or is a folder."""
    for p in paths:
        try:
            api.check_file(p, overwrite)
        except (api.BundleExistsError, api.BundleRefusedError) as e:
            _fail(f"--out {e}" if isinstance(e, api.BundleRefusedError) else str(e))


def _read_scenario(arg: Path) -> api.Scenario:
    """Read a scenario file, or a shipped scenario by name (``pc2023``); exit 2 with one message if neither."""
    try:
        return api.read_scenario(arg)
    except (api.UnknownScenarioError, api.ScenarioError) as e:
        _fail(str(e))


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r}: not a date; write it as YYYY-MM-DD")


def _load(bundle: Path) -> api.Results:
    """Load a bundle (exit 2 if damaged); say on stderr, per policy, how many replicates failed."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = api.load(bundle)
    except api.BundleError as e:
        _fail(str(e))
    for w in caught:
        if not issubclass(w.category, api.FailedExperimentsWarning):
            err.print(f"[yellow]warning:[/] {escape(str(w.message))}", highlight=False)
    note = res.failure_note()
    if note is not None:
        err.print(f"[bold red]failed experiments:[/] {escape(note)}", highlight=False)
        if not (res.experiments["status"] == "ok").any():
            _fail(f"{bundle}: every experiment failed; there is nothing to show (see run's messages)", code=1)
    return res


def _exit_if_failed(res: api.Results) -> None:
    """Exit 1 (after the output is written) when the bundle holds failed experiments."""
    if res.failure_note() is not None:
        raise typer.Exit(1)


def _fmt(x: float, rel: bool = False) -> str:
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if rel:
        return f"{x * 100:+.1f}%"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _wide() -> Console:
    """The output console, 130 columns wide when it is not a terminal (pipes and files: no truncated names)."""
    return out if out.is_terminal else Console(width=130, soft_wrap=True)
