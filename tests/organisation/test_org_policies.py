import pytest

import cartelsim
from cartelsim.policies import REGISTRY

from .conftest import org_text


def test_registry_has_the_organisation_interventions():
    assert {"strike_campaign", "targeted_arrests", "cooperation"} <= set(REGISTRY)
    assert REGISTRY["strike_campaign"].layer == "organisation"


def _policy(body: str) -> str:
    return org_text(f'[[policy]]\nname = "p"\n  [[policy.intervention]]\n  start = 2012-06-01\n{body}')


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ('  type = "strike_campaign"\n  strikes_per_week = 1', "sorties_per_week", "required"),
        (
            '  type = "strike_campaign"\n  sorties_per_week = 5\n  strikes_per_week = 1\n  target = "people"',
            "target",
            "leadership, logistics, mixed, opportunistic",
        ),
        ('  type = "strike_campaign"\n  sorties_per_week = 5\n  strikes_per_week = -1', "strikes_per_week", "within"),
        ('  type = "targeted_arrests"\n  target = "leaders"\n  share = 1.5', "share", "within"),
        ('  type = "targeted_arrests"\n  target = "cartels"\n  share = 0.1', "target", "leaders, plaza_bosses"),
        ('  type = "cooperation"\n  mode = "bilateral"\n  detection_factor = 0.5', "cooperation", "unilateral"),
    ],
)
def test_bad_keys_are_refused_with_a_clear_message(body, where, message):
    with pytest.raises(cartelsim.ScenarioError) as e:
        cartelsim.Scenario.from_text(_policy(body))
    assert where in str(e.value) and message in str(e.value)


def test_distribution_tables_are_drawn_per_replicate_and_paired():
    body = (
        '  type = "strike_campaign"\n  sorties_per_week = { dist = "uniform", low = 10, high = 20 }\n'
        "  strikes_per_week = 1\n"
    )
    text = _policy(body).replace("replicates = 1", "replicates = 3")
    res = cartelsim.run_experiments(cartelsim.Scenario.from_text(text), policies=["p"], progress=False)
    col = res.experiments["strike_campaign.sorties_per_week"].dropna()
    assert col.between(10, 20).all() and col.nunique() == 3
