import pytest

from cartelsim.params import ECOSYSTEM, PARAMS, defaults


def test_design_names_defaults_and_bounds():
    want = {
        "recruitment_per_member_per_week": (2.527474e-3, 0, 0.02),
        "incapacitation_per_week": (110, 0, 5000),
        "conflict_rate_per_member_pair_per_week": (1.549231e-8, 0, 1e-6),
        "saturation_per_member_squared_per_week": (4.0e-8, 0, 1e-5),
        "initial_members": (115000, 1e4, 1e6),
        "victim_share_cartel": (0.10, 0.01, 1),
    }
    for name, (d, lo, hi) in want.items():
        p = PARAMS[name]
        assert (p.default, p.low, p.high) == (d, lo, hi)
        assert p.unit and p.doc and p.source
        assert p.range is not None and p.low <= p.range[0] < p.range[1] <= p.high


def test_every_param_cites_or_says_assumption():
    for p in ECOSYSTEM:
        assert "assumption" in p.source or "20" in p.source


def test_check_bounds_and_huge_numbers():
    with pytest.raises(ValueError, match=r"\[0.01, 1\]"):
        PARAMS["victim_share_cartel"].check(5e-324)  # every victim count was infinite
    assert PARAMS["victim_share_cartel"].check(1.0) == 1.0
    with pytest.raises(ValueError, match=r"must be a number .*\(\d+ characters\)"):
        PARAMS["initial_members"].check(10**400)  # float() overflowed: a traceback


def test_defaults_overrides():
    assert defaults({"incapacitation_per_week": 220})["incapacitation_per_week"] == 220
    with pytest.raises(KeyError):
        defaults({"nope": 1})
