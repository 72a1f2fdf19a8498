"""What the model reproduces and what it does not: the rows of ``cartelsim validate``, with their basis.

- :mod:`~cartelsim.validation.ecosystem`: the ecosystem model against its paper (the :class:`Check` row,
  its basis rule and the pc2023 scenario);
- :mod:`~cartelsim.validation.geography`: routes and violence in space;
- :mod:`~cartelsim.validation.organisation`: the kingpin literature, Duijn's recovery and the backcast,
  built on the experiments written in code of :mod:`~cartelsim.validation.kingpin` (one leader removal
  beside its paired counterfactual) and :mod:`~cartelsim.validation.backcast` (2007-2020 with its own start
  state), which run the loop's :func:`cartelsim.simulation.run_weeks`.

Validation may import everything; nothing but the CLI and the API imports validation.
"""

from cartelsim.validation.ecosystem import (
    BASES,
    PC2023_POLICIES,
    Check,
    basis_of,
    ecosystem_checks,
    pc2023_scenario,
    solver_and_fit_checks,
)

__all__ = [
    "BASES",
    "PC2023_POLICIES",
    "Check",
    "basis_of",
    "ecosystem_checks",
    "pc2023_scenario",
    "solver_and_fit_checks",
]
