"""The organisation layer's validation rows (``cartelsim validate``): run, with their stated tolerances."""

import numpy as np
import pytest

from cartelsim.validation import Check
from cartelsim.validation import backcast as bc
from cartelsim.validation.organisation import duijn_recovery, organisation_checks


@pytest.fixture(scope="module")
def checks():
    return organisation_checks(quick=True)


def by_name(checks, group, start):
    hits = [c for c in checks if c.group == group and c.name.startswith(start)]
    assert hits, (group, start)
    return hits


def test_every_row_prints_literature_beside_model(checks):
    assert all(isinstance(c, Check) for c in checks)
    groups = {c.group for c in checks}
    assert groups == {
        "organisation: one leader removal",
        "organisation: Duijn recovery",
        "organisation: backcast 2007-2020",
        "organisation: layers agree",
    }
    for c in checks:
        assert c.paper not in ("", None) and c.model not in ("", None), c.name
        assert c.source, c.name
        if c.ok is not None:
            assert c.tolerance not in ("", "-"), c.name  # a judged row states its tolerance


def test_single_removal_rows(checks):
    g = "organisation: one leader removal"
    six = by_name(checks, g, "capture: conflict deaths in the leader's places, months 0-6")[0]
    assert six.paper == 36.5 and six.ok is (7.0 <= six.model <= 75.0)
    assert six.model > 0  # removals raise violence where they happen
    twelve = by_name(checks, g, "capture: the same, months 0-12")[0]
    assert twelve.paper == 80.0 and twelve.ok is (abs(twelve.model - 80.0) <= 30.0)
    assert by_name(checks, g, "capture: still raised in months 6-12")[0].ok
    assert all(c.ok for c in by_name(checks, g, "killing vs capture"))
    dick = by_name(checks, g, "extra estimated victims nationally")[0]
    assert dick.paper == pytest.approx(16.6) and isinstance(dick.ok, bool)  # judged, gap shown either way


def test_duijn_recovery_rows(checks):
    for c in by_name(checks, "organisation: Duijn recovery", ""):
        if c.ok is not None:
            assert c.ok and c.model >= 0.98
    d = duijn_recovery(members=400.0)
    assert d.efficiency["removed"] < d.efficiency["rewired"] < d.efficiency["initial"] <= d.efficiency["recovered"]
    assert d.density["recovered"] >= d.density["initial"]


def test_backcast_rows(checks):
    g = "organisation: backcast 2007-2020"
    years = by_name(checks, g, "national homicides")
    assert [int(c.name.split()[2]) for c in years] == list(range(2007, 2021))
    assert [c.paper for c in years[:5]] == [8867, 14006, 19803, 25757, 27213]  # INEGI 2007-2011 (spec)
    groups = by_name(checks, g, "number of groups")
    assert groups[0].ok  # five organisations in 2007, by construction
    for c in by_name(checks, g, "leaders removed"):
        assert c.ok  # the table's rates are applied (to within one agent)


def test_backcast_start_and_rates():
    total = bc.start_total()
    assert 0.5 * 115000 < total < 115000  # the ecosystem grows to 115,000 by 2012
    c = bc.start_state(total)
    assert (c > 0).sum() == 5 and c.sum() == pytest.approx(total)
    rates = np.array(bc.yearly_removals())
    w = bc.weekly_removals()
    assert w[: bc.week_of(bc.END)].sum() == pytest.approx(5 + 20 + 5 + 8 * 2 / 29 + 108)
    assert rates[-2:].tolist() == [0.0, 0.0]


def test_layers_agree_rows(checks):
    for c in by_name(checks, "organisation: layers agree", ""):
        assert c.ok
