import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartelsim.sampling import Design, Factor, make_design

FACTORS = [
    Factor("a", 0.0, 1.0),
    Factor("b", 10.0, 20.0, {"dist": "triangular", "low": 11.0, "mode": 12.0, "high": 19.0}),
    Factor("c", -1.0, 3.0, {"dist": "normal", "mean": 0.0, "sd": 1.0}),
    Factor("d", 0.0, 40.0, {"dist": "negative_binomial", "mean": 5.0, "dispersion": 2.0}),
    Factor("e", 0.01, 100.0, {"dist": "lognormal", "median": 1.0, "sigma": 1.0}),
]
K = len(FACTORS)
CASES = [("lhs", 50, {}), ("morris", 6, {}), ("sobol", 16, {}), ("sobol", 16, {"calc_second_order": False})]


@pytest.mark.parametrize(
    ("method", "n", "opts", "rows"),
    [(*c, r) for c, r in zip(CASES, [50, 6 * (K + 1), 16 * (2 * K + 2), 16 * (K + 2)], strict=True)],
)
def test_shapes_bounds_and_dtype(method, n, opts, rows):
    d = make_design(method, FACTORS, n, seed=3, **opts)
    assert d.samples.shape == d.unit_samples.shape == (rows, K)
    assert d.samples.dtype == np.float64 and d.n_rows == rows and d.n == n
    lows = np.array([f.low for f in FACTORS])
    highs = np.array([f.high for f in FACTORS])
    assert np.all(d.samples >= lows) and np.all(d.samples <= highs)
    assert np.all((d.unit_samples >= 0) & (d.unit_samples <= 1))
    assert list(d.to_frame().columns) == ["a", "b", "c", "d", "e"]
    with pytest.raises(ValueError):
        d.samples[0, 0] = 1.0  # read-only


@pytest.mark.parametrize(("method", "n", "opts"), CASES)
def test_deterministic_given_seed(method, n, opts):
    d1 = make_design(method, FACTORS, n, seed=7, **opts)
    d2 = make_design(method, FACTORS, n, seed=7, **opts)
    d3 = make_design(method, FACTORS, n, seed=8, **opts)
    assert d1 == d2
    assert np.array_equal(d1.samples, d2.samples)
    assert not np.array_equal(d1.samples, d3.samples)


def test_no_global_random_state_touched():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (checks the global state stays untouched)
    for method, n, opts in CASES:
        make_design(method, FACTORS, n, seed=0, **opts)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_lhs_stratified():
    n = 97
    d = make_design("lhs", [Factor("a", 2.0, 5.0), Factor("b", -1.0, 1.0)], n, seed=11)
    for j, (lo, hi) in enumerate([(2.0, 5.0), (-1.0, 1.0)]):
        strata = np.floor((d.samples[:, j] - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))  # exactly one sample per stratum


def test_sobol_needs_power_of_two():
    with pytest.raises(ValueError, match=r"power of 2.*512 and 1024"):
        make_design("sobol", FACTORS, 1000, seed=0)
    assert make_design("sobol", FACTORS, 1024, seed=0, calc_second_order=False).n_rows == 1024 * (K + 2)


def test_distributions_mapped():
    n = 20000
    fs = [
        Factor("tri", 0.0, 1.0, {"dist": "triangular", "low": 0.08, "mode": 0.10, "high": 0.30}),
        Factor("nrm", 0.0, 10.0, {"dist": "normal", "mean": 4.0, "sd": 1.0}),
        Factor("lgn", 0.0, 1e6, {"dist": "lognormal", "median": 3.0, "sigma": 0.5}),
        Factor("nb", 0.0, 1e4, {"dist": "negative_binomial", "mean": 5.0, "dispersion": 2.0}),
        Factor("uni", 0.0, 100.0, {"dist": "uniform", "low": 20.0, "high": 30.0}),
    ]
    x = make_design("lhs", fs, n, seed=5).to_frame()
    assert x["tri"].mean() == pytest.approx((0.08 + 0.10 + 0.30) / 3, rel=1e-3)
    assert x["nrm"].mean() == pytest.approx(4.0, abs=0.01)
    assert x["nrm"].std() == pytest.approx(1.0, rel=0.01)
    assert x["lgn"].median() == pytest.approx(3.0, rel=0.01)
    assert x["nb"].mean() == pytest.approx(5.0, rel=0.02)
    assert x["nb"].var() == pytest.approx(5.0 + 5.0**2 / 2.0, rel=0.05)  # mean + mean^2 / dispersion
    assert np.all(x["nb"] == np.round(x["nb"]))
    assert x["uni"].min() >= 20.0 and x["uni"].max() <= 30.0
    assert x["uni"].mean() == pytest.approx(25.0, abs=0.01)


def test_normal_truncated_to_bounds():
    f = Factor("c", 1.0, 2.0, {"dist": "normal", "mean": 0.0, "sd": 1.0})
    x = f.ppf(np.array([0.0, 0.5, 1.0]))
    assert x[0] == 1.0 and x[2] == 2.0 and 1.0 < x[1] < 1.5  # truncated mass leans to the low end
    morris = make_design("morris", [f, Factor("a", 0, 1)], 4, seed=1)  # levels include 0 and 1
    assert morris.samples[:, 0].min() >= 1.0 and morris.samples[:, 0].max() <= 2.0


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize(("method", "n", "opts"), CASES)
def test_manifest_round_trip(method, n, opts, include):
    d = make_design(method, FACTORS, n, seed=42, **opts)
    text = json.dumps(d.to_manifest(include_samples=include))
    back = Design.from_manifest(json.loads(text))
    assert back == d
    assert np.array_equal(back.samples, d.samples)  # bit-exact
    assert back.options == d.options and back.factors == d.factors


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-6, 1e6, allow_nan=False),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_uniform_bounds_property(low, width, n, seed):
    f = Factor("x", low, low + width)
    d = make_design("lhs", [f, Factor("y", 0.0, 1.0)], n, seed=seed)
    assert np.all(d.samples[:, 0] >= f.low) and np.all(d.samples[:, 0] <= f.high)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_design("grid", FACTORS, 4, seed=0), "unknown design method 'grid'"),  # type: ignore[arg-type]
        (lambda: make_design("lhs", FACTORS, 0, seed=0), "n must be a positive integer"),
        (lambda: make_design("lhs", FACTORS, 4, seed=-1), "seed must be a non-negative"),
        (lambda: make_design("lhs", [], 4, seed=0), "non-empty"),
        (lambda: make_design("lhs", [Factor("a", 0, 1), Factor("a", 0, 2)], 4, seed=0), "duplicate"),
        (lambda: make_design("lhs", FACTORS, 4, seed=0, num_levels=4), "unknown option.*allowed: none"),
        (lambda: make_design("morris", FACTORS, 4, seed=0, num_levels=3), "even integer"),
        (lambda: make_design("morris", FACTORS, 1, seed=0), "at least 2"),
        (lambda: Factor("a", 1.0, 1.0), "low must be below high"),
        (lambda: Factor("a", 0.0, float("inf")), "finite"),
        (lambda: Factor("a", 0, 1, {"dist": "fixed", "value": 0.5}), "fixed value is not uncertain"),
        (lambda: Factor("a", 0, 1, {"dist": "beta", "a": 1}), "unknown dist 'beta'.*allowed"),
        (lambda: Factor("a", 0, 1, {"dist": "normal", "mean": 0.5}), "missing: sd"),
        (lambda: Factor("a", 0, 1, {"dist": "uniform", "low": 0, "high": 2}), "leaves the bounds"),
        (lambda: Factor("a", 0, 1, {"dist": "triangular", "low": 0, "mode": 2, "high": 1}), "mode"),
        (lambda: Factor("a", 0, 1, {"dist": "normal", "mean": 100, "sd": 1}), "no probability mass"),
        (
            lambda: Factor.from_table("a", {"dist": "normal", "mean": 0, "sd": 1}),
            "needs the parameter's bounds",
        ),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_from_table():
    f = Factor.from_table("v", {"dist": "triangular", "low": 0.08, "mode": 0.1, "high": 0.12}, bounds=(0.0, 1.0))
    assert (f.low, f.high) == (0.08, 0.12)
    g = Factor.from_table("eta", {"dist": "normal", "mean": 110, "sd": 20}, bounds=(0.0, 5000.0))
    assert (g.low, g.high) == (0.0, 5000.0)
