"""Violence in space against INEGI homicides (2012-2016 fitting years, 2017-2021 held out) and the
Dell-style diversion experiment; numbers printed (run with -s to see them) and tolerances asserted."""

import pytest

from cartelsim.validation.geography import PERIODS, dell_experiment, geography_checks, state_comparison


@pytest.fixture(scope="module")
def checks():
    return geography_checks()


def test_prints_both_periods_and_the_dell_experiment(checks):
    table = state_comparison()
    print("\n" + table.round(3).to_string(index=False))
    for c in checks:
        print(f"{c.group} | {c.name} | paper: {c.paper} | model: {c.model} {c.unit} | {c.tolerance} | ok: {c.ok}")
    groups = {c.group for c in checks}
    for label, lo, hi in PERIODS:
        assert f"geography: states {label}" in groups
        assert table.loc[table["period"] == label, "year"].tolist() == list(range(lo, hi + 1))
    assert "geography: Dell diversion" in groups


@pytest.mark.parametrize("label", [p[0] for p in PERIODS])
def test_state_tolerances(checks, label):
    rows = [c for c in checks if c.group == f"geography: states {label}" and c.ok is not None]
    assert len(rows) == 3
    rho, beats_null, top5 = rows
    assert rho.model >= 0.70  # stated target: mean yearly Spearman rho >= 0.70 (assumption)
    assert beats_null.ok  # better than spreading deaths by population
    assert abs(top5.model - top5.paper) <= 5.0  # top-5 states' share within 5 pp of INEGI's


def test_dell_experiment_direction_and_order_of_magnitude(checks):
    x = dell_experiment()
    assert x["diverted"] >= 10
    assert 0.2 / 10**0.5 <= x["relative_rise"] <= 0.2 * 10**0.5  # same order as the ~20% quoted [secondary]
    assert x["rest_change"] < 0 and abs(x["rest_change"]) < 0.01  # deaths move; none are created
    dell = [c for c in checks if c.group == "geography: Dell diversion" and c.ok is not None]
    assert len(dell) == 1 and dell[0].ok
