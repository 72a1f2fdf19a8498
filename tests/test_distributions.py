import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartelsim.distributions import parse_distribution


@pytest.mark.parametrize(
    ("table", "msg"),
    [
        ({"dist": "beta", "a": 1}, "dist must be one of"),
        ({"dist": "uniform", "low": 1}, "missing: high"),
        ({"dist": "uniform", "low": 1, "high": 2, "mode": 1}, "unknown: mode"),
        ({"dist": "uniform", "low": 2, "high": 1}, "low < high"),
        ({"dist": "triangular", "low": 0, "mode": 3, "high": 2}, "low <= mode <= high"),
        ({"dist": "normal", "mean": 0, "sd": 0}, "sd > 0"),
        ({"dist": "lognormal", "median": -1, "sigma": 1}, "median > 0"),
        ({"dist": "negative_binomial", "mean": 1, "dispersion": 0}, "dispersion > 0"),
        ({"dist": "fixed", "value": "1"}, "finite number"),
    ],
)
def test_bad_tables(table, msg):
    with pytest.raises(ValueError, match=msg):
        parse_distribution(table)


@given(st.floats(0, 1))
def test_uniform_and_triangular_within_support(u):
    assert 1.0 <= parse_distribution({"dist": "uniform", "low": 1.0, "high": 2.0}).ppf(u) <= 2.0
    assert 1.0 <= parse_distribution({"dist": "triangular", "low": 1.0, "mode": 1.2, "high": 2.0}).ppf(u) <= 2.0


def test_truncated_normal_stays_in_bounds_and_moments():
    d = parse_distribution({"dist": "normal", "mean": 0.1, "sd": 0.05})
    x = np.array([d.ppf(u, 0.0, 1.0) for u in np.linspace(0.0005, 0.9995, 2000)])
    assert x.min() >= 0.0
    assert abs(np.median(x) - 0.1) < 0.002


def test_negative_binomial_mean_and_variance():
    d = parse_distribution({"dist": "negative_binomial", "mean": 0.7, "dispersion": 1.0})
    rng = np.random.default_rng(1)
    x = np.array([d.sample(rng) for _ in range(20000)])
    assert abs(x.mean() - 0.7) < 0.03
    assert abs(x.var() - (0.7 + 0.7**2 / 1.0)) < 0.08


def test_lognormal_median():
    d = parse_distribution({"dist": "lognormal", "median": 2.0, "sigma": 0.5})
    assert math.isclose(d.ppf(0.5), 2.0)
