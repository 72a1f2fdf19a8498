import re

import pytest

from cartelsim.organisation.roles import ROLES, detect_per_sortie, exposure, role_shares
from cartelsim.params import PARAMS, defaults
from cartelsim.params.organisation import ORGANISATION

UNIT = re.compile(r"_per_|_weeks|_share|_probability|_factor|_members|_cv|_max|_scale|_mean|_dispersion")


def test_every_parameter_is_registered_with_source_and_range():
    for p in ORGANISATION:
        assert PARAMS[p.name] is p
        assert p.source == "assumption" or re.search(r"\(\d{4}\)|\d{4}|New America", p.source), p.name
        assert p.low <= p.default <= p.high, p.name
        if p.name != "organisation_scale":
            assert p.range is not None, p.name
            lo, hi = p.range
            assert p.low <= lo <= p.default <= hi <= p.high, p.name
        assert UNIT.search(p.name), p.name  # names say their unit


@pytest.mark.parametrize(
    ("name", "default", "rng"),
    [
        ("cell_size_mean_members", 60.0, (20.0, 200.0)),
        ("safe_houses_per_cell", 2.0, (1.0, 5.0)),
        ("warehouses_per_cell", 1.0, (0.0, 3.0)),
        ("labs_per_cell", 0.5, (0.0, 2.0)),
        ("vehicles_per_cell", 6.0, (2.0, 20.0)),
        ("asset_rebuild_weeks", 8.0, (2.0, 26.0)),
        ("detect_per_sortie_leader", 2e-5, (4e-6, 1e-4)),
        ("detect_per_sortie_plaza_boss", 1e-4, (2e-5, 5e-4)),
        ("detect_per_sortie_warehouse", 5e-4, (1e-4, 2.5e-3)),
        ("detect_per_sortie_vehicle", 2e-4, (4e-5, 1e-3)),
        ("role_share_gunman", 0.35, (0.175, 0.7)),
        ("strike_success_probability", 0.7, (0.4, 0.95)),
        ("misidentification_share", 0.1, (0.02, 0.3)),
        ("civilian_deaths_per_strike_mean", 0.7, (0.14, 2.3)),
        ("civilian_deaths_dispersion", 1.0, (0.3, 5.0)),
        ("unilateral_detection_factor", 0.5, (0.2, 1.0)),
        ("unilateral_backlash_factor", 0.8, (0.5, 1.0)),
    ],
)
def test_spec_defaults_and_ranges(name, default, rng):
    p = PARAMS[name]
    assert p.default == pytest.approx(default)
    assert p.range == pytest.approx(rng)


def test_role_shares_rest_are_gunmen_and_renormalised():
    s = role_shares(defaults())
    assert s.sum() == pytest.approx(1.0)
    assert s[ROLES.index("gunman")] == pytest.approx(0.40)  # 35% plus the 5% rest
    big = defaults({"role_share_gunman": 0.7, "role_share_lookout": 0.5})
    s = role_shares(big)
    assert s.sum() == pytest.approx(1.0)
    assert s[ROLES.index("lookout")] == pytest.approx(0.5 / 1.55)
    assert s[ROLES.index("leader")] == s[ROLES.index("plaza_boss")] == 0.0


def test_exposure_and_detection_vectors():
    w = exposure(defaults({"arrest_exposure_leader_factor": 0.3}))
    assert w.shape == (3, 7)
    assert w[0, ROLES.index("leader")] == 0.3
    assert (w[:, ROLES.index("gunman")] == 1.0).all()
    assert (w[2] == 1.0).all()  # exits fall on every role alike
    member, asset = detect_per_sortie(defaults())
    assert member.tolist() == [2e-5, 1e-4] + [2e-5] * 5
    assert asset.tolist() == [0.0, 5e-4, 5e-4, 2e-4]  # safe houses never detected
