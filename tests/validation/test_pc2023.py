"""The spec's calibration checks (models/ecosystem-prieto-curiel-2023.md), each within 1%."""

import pytest

from cartelsim.validation import ecosystem_checks


@pytest.fixture(scope="module")
def checks():
    return {c.name: c for c in ecosystem_checks()}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("total members at week 520 (1 Jan 2022), Euler", 173_800),
        ("CJNG members at week 520", 28_673),
        ("Sinaloa members at week 520", 17_741),
        ("conflict deaths per week, week 0 (2012)", 67.2),
        ("conflict deaths per week, week 520 (2022)", 124.3),
        ("conflict deaths summed over weeks 0..519", 48_032),
    ],
)
def test_calibration_within_one_percent(checks, name, value):
    c = checks[name]
    assert c.paper == value
    assert c.model == pytest.approx(value, rel=0.01)
    assert c.ok


def test_top5_order(checks):
    assert checks["top-5 order at week 520"].model == "CJNG, Sinaloa, NFMichoacana, Noreste, UTepito"


def test_non_rival_share_of_deaths_about_70_percent(checks):
    c = next(v for k, v in checks.items() if k.startswith("deaths between non-rival pairs"))
    assert c.model == pytest.approx(70.0, abs=2.0)  # spec: "about 70%" [V-run]


def test_scenario_rows_report_paper_and_model(checks):
    rows = [c for c in checks.values() if c.group == "scenarios"]
    assert len(rows) == 6
    assert all(c.paper not in ("", "-") and c.model not in ("", "-") for c in rows)
    # doubling incapacitation slows growth but members and deaths still rise (the paper's qualitative result)
    assert checks["double incapacitation: members and deaths still rise 2022->2027"].ok
