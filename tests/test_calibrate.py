"""The refit to the national series (models/ecosystem-prieto-curiel-2023.md section 4)."""

import tomllib

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import cartelsim
from cartelsim.calibrate import (
    DEFAULT_FREE,
    FIT_PARAMETERS,
    LOWER,
    SCALE,
    UPPER,
    calibrate,
    deaths_path,
    parse_free,
    target,
    trends,
)
from cartelsim.params import defaults

RHO, THETA = "recruitment_per_member_per_week", "conflict_rate_per_member_pair_per_week"


@pytest.fixture(scope="module")
def fit():
    return calibrate()


def test_trends_are_the_spec_table():
    df = trends()
    assert df["year"].tolist() == list(range(2012, 2022))
    assert df.loc[0, ["homicides", "missing_persons"]].tolist() == [25_967, 10_760]
    assert df.loc[9, ["homicides", "missing_persons"]].tolist() == [35_625, 22_470]


def test_target_spline_with_linear_tail():
    w = target()
    x = np.linspace(2012, 2022, 520)
    assert w.shape == (520,)
    assert w[0] == pytest.approx(0.1 * (25_967 + 10_760) / 52, rel=1e-12)  # the 2012 knot
    df = trends()
    total = 0.1 * (df["homicides"] + df["missing_persons"]).to_numpy() / 52
    s = CubicSpline(np.arange(2012, 2022.0), total, bc_type="natural")
    inside = x <= 2021
    np.testing.assert_allclose(w[inside], s(x[inside]), rtol=1e-12)
    tail = ~inside
    np.testing.assert_allclose(w[tail], s(2021.0) + s(2021.0, 1) * (x[tail] - 2021), rtol=1e-12)
    assert np.abs(np.diff(w[tail], 2)).max() < 1e-9  # linear, not scipy's cubic extrapolation
    assert abs(s(2022.0) - w[-1]) > 0.25  # the cubic tail would end 0.28 deaths per week lower


def test_deaths_path_is_the_reference_run():
    d = deaths_path(defaults())
    assert d[0] == pytest.approx(67.2, abs=0.05)  # spec: 67.2 at the start of 2012
    assert d.sum() == pytest.approx(48_032, rel=1e-4)  # spec: summed over weeks 0..519


def test_refit_recovers_the_reference_rho_and_theta(fit):
    ref = defaults()
    assert fit.free == DEFAULT_FREE and fit.success
    assert fit.parameters[RHO] == pytest.approx(ref[RHO], rel=0.005)  # measured: -0.005%
    assert fit.parameters[THETA] == pytest.approx(ref[THETA], rel=0.005)  # measured: -0.02%
    for k in ("incapacitation_per_week", "saturation_per_member_squared_per_week", "initial_members"):
        assert fit.parameters[k] == ref[k]
    assert fit.loss == pytest.approx(37_960, rel=0.01)  # spec: SSE about 37,960
    gap = deaths_path(ref) - target()
    assert fit.loss <= gap @ gap + 1e-6  # no worse than the reference values themselves


def test_fit_table(fit):
    t = fit.table()
    assert t["year"].tolist() == list(range(2012, 2022))
    assert t.loc[0, "data"] == pytest.approx(0.1 * (25_967 + 10_760))
    assert t["model"].sum() == pytest.approx(fit.model.sum())
    assert (t["gap"].abs() < 0.3).all()


def test_toml_block_is_a_valid_parameters_table(fit):
    text = fit.toml()
    parsed = tomllib.loads(text)["parameters"]
    assert list(parsed) == list(FIT_PARAMETERS)
    assert parsed[RHO] == fit.parameters[RHO]
    sc = cartelsim.Scenario.from_text(
        '[scenario]\nname = "refit"\nstart = 2012-01-01\nend = 2013-01-01\n' + text, source="<test>"
    )
    assert sc.parameters[THETA] == fit.parameters[THETA]


def test_all_five_free_stay_within_the_authors_bounds():
    five = calibrate(FIT_PARAMETERS)
    x = np.array([five.parameters[k] for k in FIT_PARAMETERS]) / SCALE
    assert (x >= LOWER - 1e-12).all() and (x <= UPPER + 1e-12).all()
    assert five.loss <= calibrate().loss * 1.001  # more freedom never fits worse (flat surface: spec)


def test_held_values_and_start_are_used():
    f = calibrate(["rho"], fixed={"theta": 1.6e-8}, start={"rho": 2.5e-3})
    assert f.free == (RHO,) and f.parameters[THETA] == 1.6e-8
    assert f.parameters[RHO] < defaults()[RHO]  # more deaths per pair: fewer members fit the target


def test_parse_free():
    assert parse_free(["theta", "rho"]) == (RHO, THETA)  # fit order
    assert parse_free([" C0", "incapacitation_per_week"]) == ("incapacitation_per_week", "initial_members")
    with pytest.raises(ValueError, match=r"cannot fit 'victim_share_cartel'; allowed: recruitment_per_member"):
        parse_free(["victim_share_cartel"])
    with pytest.raises(ValueError, match="named twice"):
        parse_free(["rho", RHO])
    with pytest.raises(ValueError, match="at least one"):
        parse_free([])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(fixed={"speed": 1.0}), "unknown parameter 'speed'"),
        (dict(fixed={"eta": -5.0}), r"fixed incapacitation_per_week: must be within \[0, 5000\]"),
        (dict(start={"theta": 1.5e-8}), "'theta' is not a free parameter"),
        (dict(start={"rho": 0.01}), r"outside the fit bounds \[0.002, 0.003\]"),
    ],
)
def test_bad_inputs(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        calibrate(["rho"], **kwargs)
