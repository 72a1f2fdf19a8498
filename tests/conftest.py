from __future__ import annotations

import pytest

import cartelsim

SMALL = """
[scenario]
name = "small"
start = 2012-01-01
end = 2016-01-01
seed = 7
replicates = {replicates}
record = {{ national = 1, groups = 52 }}
reference = 2014-01-01
{extra}
[[policy]]
name = "halve-recruitment"
  [[policy.intervention]]
  type = "recruitment"
  start = 2014-01-01
  factor = 0.5

[[policy]]
name = "double-incapacitation"
  [[policy.intervention]]
  type = "incapacitation"
  start = 2014-01-01
  factor = 2.0
"""

UNCERTAIN = """
[uncertainty]
recruitment_per_member_per_week = { dist = "uniform", low = 2.45e-3, high = 2.6e-3 }
victim_share_cartel = { dist = "triangular", low = 0.08, mode = 0.10, high = 0.12 }
"""


def small_text(replicates: int = 1, extra: str = "") -> str:
    return SMALL.format(replicates=replicates, extra=extra)


@pytest.fixture
def small() -> cartelsim.Scenario:
    return cartelsim.Scenario.from_text(small_text())


@pytest.fixture
def small_uncertain() -> cartelsim.Scenario:
    return cartelsim.Scenario.from_text(small_text(4, UNCERTAIN))
