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

from cartelsim.experiments import run, run_experiments
from cartelsim.results import Results, load
from cartelsim.scenario import Policy, Scenario, ScenarioError

__version__ = "0.1.0"
__all__ = ["Policy", "Results", "Scenario", "ScenarioError", "__version__", "load", "run", "run_experiments"]
