"""The facade the command line calls (and, later, a web app): what a command needs from the package, in one place.

``cartelsim.cli`` imports nothing else from the package (an import-linter contract in ``pyproject.toml``
checks it). Here are plain functions and names for each thing a command does: read a scenario by name or
path, load a bundle, check and run a bundle (target, cost, executor), compare, plot, the validation steps,
the shipped scenarios, the parameter table, a sweep's design, calibration, routes, maps, a sweep's outcome,
sensitivity and scenario discovery; and the exceptions that the commands turn into one message each.
Wording, tables and exit codes are the caller's: nothing here prints.

Importing this module is cheap: it loads no numpy, pandas or model (``cartelsim --help`` stays fast). The
names it re-exports load their module on first use (PEP 562, as the package root does), and its own
functions import what they need when called.

Examples
--------
>>> from cartelsim import api
>>> "pc2023" in [name for name, _path, _scenario in api.shipped_scenarios()]
True
>>> api.read_scenario("pc2023").name
'pc2023'
>>> api.read_scenario("no-such-scenario")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cartelsim.api.UnknownScenarioError: no-such-scenario: no such file, and not a shipped scenario (shipped: ...)

"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import pandas as pd

    from cartelsim.analysis.compare import compare
    from cartelsim.analysis.discover import Margin, discover
    from cartelsim.analysis.prim import plot_trajectory
    from cartelsim.analysis.sweeps import Sensitivity, SweepBundle, SweepError, SweepOutcome, sensitivity, sweep_outcome
    from cartelsim.bundle import BundleError, BundleExistsError, BundleRefusedError, check_file
    from cartelsim.calibrate import DEFAULT_FREE, FIT_PARAMETERS, calibrate, parse_free
    from cartelsim.estimate import MAX_BYTES, MAX_SECONDS, Estimate
    from cartelsim.executors import (
        EXECUTORS,
        DaskExecutor,
        ExecutorError,
        ProcessExecutor,
        SerialExecutor,
        make_executor,
    )
    from cartelsim.experiments import RunSummary
    from cartelsim.geography.graph import RouteGraph
    from cartelsim.geography.maps import LEVELS, MapError, bundle_map
    from cartelsim.geography.routes import RouteSolution
    from cartelsim.params import PARAMS
    from cartelsim.partial import PartialBusyError, PartialMismatchError
    from cartelsim.policies.base import Intervention
    from cartelsim.results import FailedExperimentsWarning, Results, load
    from cartelsim.sampling import METHODS, Design
    from cartelsim.scenario import Scenario, ScenarioError
    from cartelsim.sweep import sweep_design
    from cartelsim.timeline import date_of
    from cartelsim.validation import Check

__all__ = [
    "DEFAULT_FREE",
    "EXECUTORS",
    "FIT_PARAMETERS",
    "LEVELS",
    "MAX_BYTES",
    "MAX_SECONDS",
    "METHODS",
    "PARAMS",
    "BundleError",
    "BundleExistsError",
    "BundleRefusedError",
    "Check",
    "Design",
    "Estimate",
    "ExecutorError",
    "FailedExperimentsWarning",
    "MapError",
    "Margin",
    "PartialBusyError",
    "PartialMismatchError",
    "Results",
    "Routes",
    "RunSummary",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "Spread",
    "SweepBundle",
    "SweepError",
    "SweepOutcome",
    "UnknownScenarioError",
    "bundle_map",
    "calibrate",
    "check_file",
    "check_run_target",
    "compare",
    "dask_available",
    "date_of",
    "discover",
    "estimate_run",
    "failed_experiments",
    "free_bytes",
    "load",
    "load_sweep",
    "make_executor",
    "outcome_spread",
    "parse_free",
    "plot",
    "plot_routes",
    "plot_sensitivity",
    "plot_trajectory",
    "read_scenario",
    "routes",
    "run_bundle",
    "scenario_of",
    "sensitivity",
    "shipped_scenarios",
    "sweep_design",
    "sweep_outcome",
    "validation_steps",
]

#: Where each re-exported name lives: loaded on first use, so that importing this module loads no model.
_HOME = {
    # exceptions and warnings the commands catch
    "BundleError": "cartelsim.bundle",
    "BundleExistsError": "cartelsim.bundle",
    "BundleRefusedError": "cartelsim.bundle",
    "ExecutorError": "cartelsim.executors",
    "FailedExperimentsWarning": "cartelsim.results",
    "MapError": "cartelsim.geography.maps",
    "PartialBusyError": "cartelsim.partial",
    "PartialMismatchError": "cartelsim.partial",
    "ScenarioError": "cartelsim.scenario",
    "SweepError": "cartelsim.analysis.sweeps",
    # types
    "Check": "cartelsim.validation",
    "Design": "cartelsim.sampling",
    "Estimate": "cartelsim.estimate",
    "Margin": "cartelsim.analysis.discover",
    "Results": "cartelsim.results",
    "RunSummary": "cartelsim.experiments",
    "Scenario": "cartelsim.scenario",
    "Sensitivity": "cartelsim.analysis.sweeps",
    "SweepBundle": "cartelsim.analysis.sweeps",
    "SweepOutcome": "cartelsim.analysis.sweeps",
    # constants: allowed values and thresholds
    "DEFAULT_FREE": "cartelsim.calibrate",
    "EXECUTORS": "cartelsim.executors",
    "FIT_PARAMETERS": "cartelsim.calibrate",
    "LEVELS": "cartelsim.geography.maps",
    "MAX_BYTES": "cartelsim.estimate",
    "MAX_SECONDS": "cartelsim.estimate",
    "METHODS": "cartelsim.sampling",
    "PARAMS": "cartelsim.params",
    # functions used as they are
    "bundle_map": "cartelsim.geography.maps",
    "calibrate": "cartelsim.calibrate",
    "check_file": "cartelsim.bundle",
    "compare": "cartelsim.analysis.compare",
    "date_of": "cartelsim.timeline",
    "discover": "cartelsim.analysis.discover",
    "load": "cartelsim.results",
    "make_executor": "cartelsim.executors",
    "parse_free": "cartelsim.calibrate",
    "plot_trajectory": "cartelsim.analysis.prim",
    "sensitivity": "cartelsim.analysis.sweeps",
    "sweep_design": "cartelsim.sweep",
    "sweep_outcome": "cartelsim.analysis.sweeps",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cartelsim.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# --- scenarios -----------------------------------------------------------------------------------------


class UnknownScenarioError(ValueError):
    """A scenario given by a bare name is neither a file here nor a shipped scenario (the message lists them)."""


def read_scenario(arg: str | Path) -> Scenario:
    """Read a scenario file, or a shipped scenario by name (``pc2023`` or ``pc2023.toml``).

    A bare name (no folder) that is not a file here is looked up among the shipped scenarios.

    Raises
    ------
    UnknownScenarioError
        A bare name that is neither a file nor a shipped scenario.
    ScenarioError
        The file is missing or invalid (the message names the file, the key and what is allowed).

    """
    from cartelsim import scenarios
    from cartelsim.scenario import Scenario

    arg = Path(arg)
    if not arg.exists() and arg.parent == Path(".") and arg.name.removesuffix(".toml") in scenarios.names():
        arg = scenarios.path(arg.name)
    elif not arg.exists() and arg.parent == Path("."):
        raise UnknownScenarioError(
            f"{arg}: no such file, and not a shipped scenario (shipped: {', '.join(scenarios.names())})"
        )
    return Scenario.from_toml(arg)


def shipped_scenarios() -> Iterator[tuple[str, Path, Scenario]]:
    """The shipped scenarios as ``(name, file, scenario)``, by name, each read as it is reached."""
    from cartelsim import scenarios
    from cartelsim.scenario import Scenario

    for name in scenarios.names():
        yield name, scenarios.path(name), Scenario.from_toml(scenarios.path(name))


def scenario_of(results: Results, bundle: str | Path) -> Scenario:
    """The scenario a bundle was run from, read from its manifest (errors name ``BUNDLE/manifest.json``).

    Raises
    ------
    ScenarioError
        The manifest's scenario text is invalid.

    """
    from cartelsim.scenario import Scenario

    return Scenario.from_text(results.scenario_text, source=f"{bundle}/manifest.json")


# --- running a bundle ----------------------------------------------------------------------------------


def dask_available() -> bool:
    """Whether the ``distributed`` extra (needed by the dask executor) is installed."""
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def check_run_target(
    scenario: Scenario,
    out: str | Path,
    *,
    overwrite: bool,
    replicates: int | None = None,
    design: Design | None = None,
) -> bool:
    """Check, writing nothing, that a run of ``scenario`` may write the bundle ``out``; return whether it resumes.

    The scenario's own file is never replaced, nor a folder that holds it.

    Raises
    ------
    BundleExistsError, BundleRefusedError, PartialMismatchError
        ``out`` exists without ``overwrite``, may not be replaced, or holds another run's ``out.partial``.

    """
    from cartelsim.bundle import check_target
    from cartelsim.experiments import check_bundle_target

    check_target(out, overwrite, protect=[scenario.source] if Path(scenario.source).is_file() else [])
    return check_bundle_target(scenario, out, replicates=replicates, design=design, overwrite=overwrite)


def estimate_run(scenario: Scenario, replicates: int | None = None, design: Design | None = None) -> Estimate | None:
    """The run's expected size and duration, from a short pilot; None when the pilot fails.

    A failed pilot is no verdict: the run itself says why, per experiment.
    """
    from cartelsim.estimate import estimate_run as _estimate_run
    from cartelsim.experiments import count_experiments

    try:
        return _estimate_run(scenario, count_experiments(scenario, replicates, design))
    except Exception:  # the pilot failed: the run itself will say why, per experiment
        return None


def free_bytes(out: str | Path) -> int:
    """Free disk space where ``out`` would be written (its nearest existing folder)."""
    import shutil

    out = Path(out)
    where = next(p for p in (out.absolute(), *out.absolute().parents) if p.exists())
    return shutil.disk_usage(where).free


def run_bundle(
    scenario: Scenario,
    out: str | Path,
    *,
    executor: SerialExecutor | ProcessExecutor | DaskExecutor,
    replicates: int | None = None,
    design: Design | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
) -> RunSummary:
    """Run every policy of ``scenario`` (or a sweep's ``design``) into the bundle ``out``, resumably.

    ``executor`` (from :func:`make_executor`) is entered and closed here. See
    :func:`cartelsim.experiments.run_to_bundle`, which does the work, for the rest.
    """
    from cartelsim.experiments import run_to_bundle

    with executor:
        return run_to_bundle(
            scenario,
            out,
            replicates=replicates,
            design=design,
            executor=executor,
            batch_size=batch_size,
            overwrite=overwrite,
            progress=progress,
        )


def failed_experiments(bundle: str | Path) -> pd.DataFrame:
    """The failed experiments of a bundle: ``experiment_id, policy, replicate, message``, in experiment order."""
    import pandas as pd

    return pd.read_parquet(
        Path(bundle) / "experiments.parquet",
        columns=["experiment_id", "policy", "replicate", "message"],
        filters=[("status", "==", "failed")],
    )


# --- reading a bundle ----------------------------------------------------------------------------------


def plot(results: Results, folder: str | Path, variables: Sequence[str]) -> list[Path]:
    """Write fan charts (PNG) of ``variables`` by policy into ``folder``, stamped with the manifest hash.

    Raises
    ------
    KeyError
        A variable the bundle does not hold (the message names it).

    """
    return results.plot(folder, variables)


def validation_steps() -> list[tuple[str, Callable[[], list[Check]]]]:
    """The validation checks as named steps, in order; each step returns its checks when called."""
    from cartelsim.validation import ecosystem_checks
    from cartelsim.validation.geography import geography_checks
    from cartelsim.validation.organisation import organisation_steps

    return [
        ("ecosystem: the paper's reference run, policies, solver and refit", ecosystem_checks),
        ("geography: state totals and the Dell-style diversion", geography_checks),
        *organisation_steps(),
    ]


# --- routes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routes:
    """The predicted trafficking routes of one policy at one recorded week, with the places they name.

    Attributes
    ----------
    graph : RouteGraph
        The route graph.
    solution : RouteSolution
        The routes under the policy's shocks active that week.
    unshocked : RouteSolution
        The routes without shocks (the same object as ``solution`` when none applies).
    active : list of Intervention
        The policy's geography interventions active that week.
    municipalities : pandas.DataFrame
        The municipalities, indexed by ``code`` (``name``, ``state_name``, ...).
    ports : pandas.DataFrame
        The border ports, indexed by ``port_code`` (``port_name``, ``twin_name``, ...).

    """

    graph: RouteGraph
    solution: RouteSolution
    unshocked: RouteSolution
    active: list[Intervention]
    municipalities: pd.DataFrame
    ports: pd.DataFrame

    @property
    def shocked(self) -> bool:
        """Whether a shock applies (``solution`` differs from ``unshocked``)."""
        return self.solution is not self.unshocked


def routes(scenario: Scenario, week: int, policy: str = "baseline") -> Routes:
    """Solve the routes of ``policy`` at the recorded ``week``, exactly as a run records them."""
    import numpy as np

    from cartelsim import places
    from cartelsim.geography.layer import routes_at

    graph, sol, plain = routes_at(scenario, week, policy)
    muni = places.municipalities().set_index("code")
    ports = places.ports().set_index("port_code")
    now = np.array([week])
    active = [
        iv
        for iv in scenario.policy(policy).interventions
        if iv.layer == "geography" and iv.active(now, scenario.week)[0]
    ]
    return Routes(graph, sol, plain, active, muni, ports)


def plot_routes(routes: Routes, out: str | Path, title: str, *, stamp: str = "") -> Path:
    """Write a PNG map of ``routes``: the unshocked routes beside when shocked, crackdown places marked."""
    import numpy as np

    from cartelsim.geography.route_map import plot_routes as _plot_routes
    from cartelsim.policies.geography import Crackdown

    graph = routes.graph
    treated = np.zeros(graph.n_municipalities, dtype=bool)
    for iv in routes.active:
        if isinstance(iv, Crackdown):
            treated |= np.isin(graph.state_codes, iv.states or ()) | np.isin(graph.codes, iv.municipalities or ())
    unshocked = routes.unshocked if routes.shocked else None
    return _plot_routes(graph, routes.solution, out, title, unshocked, treated=treated, stamp=stamp)


# --- sweeps --------------------------------------------------------------------------------------------


def load_sweep(bundle: str | Path, variables: Sequence[str] | None = None) -> SweepBundle:
    """Read a sweep bundle, loading only the outcome rows of ``variables`` (default: all).

    Raises
    ------
    BundleError
        The bundle is missing or damaged.

    """
    from cartelsim.analysis.sweeps import SweepBundle

    return SweepBundle.load(bundle, variables)


class Spread(NamedTuple):
    """An outcome across its replicates (finite values only): how many, quantiles, how many below zero."""

    n: int
    q10: float
    q50: float
    q90: float
    below: int


def outcome_spread(outcome: SweepOutcome) -> Spread | None:
    """The outcome's finite values across replicates summarised; None when there is none."""
    import numpy as np

    v = outcome.values[np.isfinite(outcome.values)]
    if not v.size:
        return None
    q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
    return Spread(int(v.size), float(q10), float(q50), float(q90), int((v < 0).sum()))


def plot_sensitivity(result: Sensitivity, out: str | Path, *, title: str, note: str) -> Path:
    """Plot a sensitivity ranking: Morris or Sobol indices, or for a Latin hypercube the rank correlations."""
    from cartelsim.analysis.rank_correlation import plot_rank_correlations
    from cartelsim.analysis.sensitivity import plot_sensitivity as _plot_sensitivity

    if result.method == "lhs":
        return plot_rank_correlations(result.table, out, title=title, note=note)
    return _plot_sensitivity(result.table, result.method, out, title=title, note=note)  # type: ignore[arg-type]
