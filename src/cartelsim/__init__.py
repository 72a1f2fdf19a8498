"""cartelsim: an open policy simulator of Mexico's cartel ecosystem.

It weighs policies (strikes, arrests, interdiction, cutting recruitment) with calibrated, reproducible
models; it never carries one out (see DESIGN.md, "The line we hold").

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2013-01-01
... ''')
>>> res = cartelsim.run(sc)
>>> sorted(res.policies)
['baseline']

"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cartelsim._version import __version__

if TYPE_CHECKING:
    from cartelsim.experiments import run, run_experiments
    from cartelsim.results import Results, load
    from cartelsim.scenario import Policy, Scenario, ScenarioError

__all__ = ["Policy", "Results", "Scenario", "ScenarioError", "__version__", "load", "run", "run_experiments"]

#: Where each name of the public API lives: loaded on first use, so that ``import cartelsim.results`` (or
#: the CLI's --help) does not load the model.
_HOME = {
    "run": "cartelsim.experiments",
    "run_experiments": "cartelsim.experiments",
    "Results": "cartelsim.results",
    "load": "cartelsim.results",
    "Policy": "cartelsim.scenario",
    "Scenario": "cartelsim.scenario",
    "ScenarioError": "cartelsim.scenario",
}


def __getattr__(name: str) -> Any:
    if name == "scenarios":  # the shipped scenarios (a subpackage): cartelsim.scenarios.path("pc2023")
        return importlib.import_module("cartelsim.scenarios")
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cartelsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
