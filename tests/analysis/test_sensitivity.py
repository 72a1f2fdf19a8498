import numpy as np
import pandas as pd
import pytest

from cartelsim.analysis.sensitivity import (
    morris_indices,
    outcome_vector,
    plot_sensitivity,
    sobol_indices,
    sobol_second_order,
)
from cartelsim.sampling import Factor, make_design

A, B = 7.0, 0.1
PI = np.pi
ISHIGAMI = [Factor(f"x{i}", -PI, PI) for i in range(3)]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_analytic() -> tuple[np.ndarray, np.ndarray, float]:
    # Ishigami & Homma (1990); Saltelli et al. (2008), Global Sensitivity Analysis: The Primer, p. 179.
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    return s1, st, v13 / v


def test_ishigami_analytic_values():
    s1, st, s13 = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)
    assert s13 == pytest.approx(0.2437, abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sobol_ishigami(seed):
    d = make_design("sobol", ISHIGAMI, 2048, seed=seed, calc_second_order=False)
    df = sobol_indices(d, ishigami(d.samples))
    assert list(df.columns) == ["factor", "S1", "S1_conf", "ST", "ST_conf"]
    s1, st, _ = ishigami_analytic()
    np.testing.assert_allclose(df["S1"], s1, atol=0.02)  # measured, seeds 0-2: within 0.0042
    np.testing.assert_allclose(df["ST"], st, atol=0.01)  # measured, seeds 0-2: within 0.0019
    assert np.all(df["S1_conf"] > 0) and np.all(df["S1_conf"] < 0.08)


def test_sobol_second_order_ishigami():
    d = make_design("sobol", ISHIGAMI, 1024, seed=0)
    y = ishigami(d.samples)
    s2 = sobol_second_order(d, y).set_index(["factor_i", "factor_j"])
    _, _, s13 = ishigami_analytic()
    assert s2.loc[("x0", "x2"), "S2"] == pytest.approx(s13, abs=0.05)
    assert abs(s2.loc[("x0", "x1"), "S2"]) < 0.05 and abs(s2.loc[("x1", "x2"), "S2"]) < 0.05
    no_s2 = make_design("sobol", ISHIGAMI, 64, seed=0, calc_second_order=False)
    with pytest.raises(ValueError, match="calc_second_order=True"):
        sobol_second_order(no_s2, ishigami(no_s2.samples))


def test_sobol_seed_zero_leaves_global_random_state():
    # SALib's Sobol analysis would fall back to np.random.randint for seed 0.
    d = make_design("sobol", ISHIGAMI, 64, seed=0, calc_second_order=False)
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (checks the global state stays untouched)
    a = sobol_indices(d, ishigami(d.samples), seed=0)
    b = sobol_indices(d, ishigami(d.samples), seed=0)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    pd.testing.assert_frame_equal(a, b)


def test_morris_inert_and_ranking():
    fs = [Factor("inert", 0.0, 1.0), Factor("weak", 0.0, 1.0), Factor("strong", 0.0, 2.0)]
    d = make_design("morris", fs, 40, seed=3)
    x = d.to_frame()
    y = (-5.0 * x["strong"] + x["weak"] ** 2).to_numpy()
    df = morris_indices(d, y)
    assert list(df.columns) == ["factor", "mu", "mu_star", "sigma", "mu_star_conf"]
    by = df.set_index("factor")
    assert by.loc["inert", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert df.sort_values("mu_star", ascending=False)["factor"].iloc[0] == "strong"
    # Linear: every effect is -5 per unit x 2 units of range = -10 per range; no spread.
    assert by.loc["strong", "mu"] == pytest.approx(-10.0, rel=1e-9)
    assert by.loc["strong", "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert by.loc["weak", "sigma"] > 0  # x^2: effect depends on where the step is taken


def test_morris_on_discrete_and_skewed_factors_reads_direction_from_unit_scale():
    fs = [
        Factor("nb", 0.0, 30.0, {"dist": "negative_binomial", "mean": 3.0, "dispersion": 1.0}),
        Factor("ln", 0.01, 50.0, {"dist": "lognormal", "median": 1.0, "sigma": 1.0}),
        Factor("inert", 0.0, 1.0),
    ]
    d = make_design("morris", fs, 30, seed=9, num_levels=6)
    y = d.samples[:, 0] + 0.01 * d.samples[:, 1]
    df = morris_indices(d, y).set_index("factor")
    assert df.loc["inert", "mu_star"] == 0.0
    assert df.loc["nb", "mu"] > 0 and df.loc["nb", "mu"] == pytest.approx(df.loc["nb", "mu_star"])
    assert df.loc["nb", "mu_star"] > df.loc["ln", "mu_star"] > 0


def test_method_and_length_checks():
    d = make_design("morris", ISHIGAMI, 4, seed=0)
    with pytest.raises(ValueError, match="sobol indices need a sobol design"):
        sobol_indices(d, ishigami(d.samples))
    with pytest.raises(ValueError, match=r"expected shape \(16,\)"):
        morris_indices(d, np.zeros(15))
    s = make_design("sobol", ISHIGAMI, 8, seed=0, calc_second_order=False)
    with pytest.raises(ValueError, match="constant"):
        sobol_indices(s, np.ones(s.n_rows))


# --- outcome_vector on a small synthetic bundle -------------------------------------------------


def tiny_bundle(failed: tuple[tuple[str, int], ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    policies, reps = ["baseline", "strikes"], 4
    exp_rows, out_rows = [], []
    for p_idx, pol in enumerate(policies):
        for r in range(reps):
            eid = p_idx * reps + r
            bad = (pol, r) in failed
            exp_rows.append(
                {
                    "experiment_id": eid,
                    "scenario": "s",
                    "policy": pol,
                    "replicate": r,
                    "seed": 100 + r,
                    "status": "failed" if bad else "ok",
                    "message": "boom" if bad else "",
                }
            )
            if bad:
                continue
            for week in (0, 52):
                for level, group in (("national", ""), ("state", "08")):
                    for var in ("n_members", "new_deaths_all_est"):
                        val = 1000 * p_idx + 10 * r + week / 52 + (0.5 if level == "state" else 0.0)
                        if var == "n_members":
                            val += 1e5
                        out_rows.append(
                            {
                                "experiment_id": eid,
                                "scenario": "s",
                                "policy": pol,
                                "replicate": r,
                                "week": week,
                                "date": pd.Timestamp("2012-01-01").date(),
                                "level": level,
                                "group": group,
                                "variable": var,
                                "value": val,
                            }
                        )
    out = pd.DataFrame(out_rows).sample(frac=1.0, random_state=1)  # order must not matter
    out["variable"] = out["variable"].astype("category")
    exp = pd.DataFrame(exp_rows)
    exp["policy"] = exp["policy"].astype("category")
    return out, exp


def test_outcome_vector_values_and_pairing():
    out, exp = tiny_bundle()
    y = outcome_vector(out, exp, variable="new_deaths_all_est", week=52, policy="strikes")
    np.testing.assert_array_equal(y, [1001.0, 1011.0, 1021.0, 1031.0])
    diff = outcome_vector(out, exp, variable="new_deaths_all_est", week=52, policy="strikes", vs="baseline")
    np.testing.assert_array_equal(diff, [1000.0] * 4)
    st = outcome_vector(out, exp, variable="n_members", week=0, policy="baseline", level="state", group="08")
    np.testing.assert_array_equal(st, [1e5 + 0.5, 1e5 + 10.5, 1e5 + 20.5, 1e5 + 30.5])


def test_outcome_vector_failed_experiments_give_nan_and_analysis_refuses():
    out, exp = tiny_bundle(failed=(("strikes", 1), ("baseline", 3)))
    y = outcome_vector(out, exp, variable="new_deaths_all_est", week=52, policy="strikes", vs="baseline")
    assert np.isnan(y[1]) and np.isnan(y[3]) and np.isfinite(y[[0, 2]]).all()
    d = make_design("lhs", [Factor("a", 0, 1)], 4, seed=0)
    object.__setattr__(d, "method", "morris")  # only the NaN check is under test here
    with pytest.raises(ValueError, match=r"2 missing.*replicates \(design rows\) 1, 3.*failed"):
        morris_indices(d, y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"policy": "drones"}, "unknown policy 'drones'; the bundle has: baseline, strikes"),
        ({"policy": "strikes", "vs": "strikes"}, "another policy"),
        ({"policy": "strikes", "variable": "n_drones"}, "unknown variable 'n_drones'"),
        ({"policy": "strikes", "week": 26}, "week 26 is not recorded.*nearest: 0, 52"),
        ({"policy": "strikes", "level": "port"}, "no rows at level 'port'; levels: national, state"),
        ({"policy": "strikes", "level": "state", "group": "99"}, "group '99'"),
    ],
)
def test_outcome_vector_errors(kwargs, match):
    out, exp = tiny_bundle()
    args = {"variable": "new_deaths_all_est", "week": 52, **kwargs}
    with pytest.raises(ValueError, match=match):
        outcome_vector(out, exp, **args)


def test_outcome_vector_missing_row_for_ok_experiment():
    out, exp = tiny_bundle()
    out = out[~((out["experiment_id"] == 6) & (out["week"] == 52))]
    with pytest.raises(ValueError, match=r"no outcome row .* policy 'strikes' at replicate\(s\) 2"):
        outcome_vector(out, exp, variable="new_deaths_all_est", week=52, policy="strikes")


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_plot_sensitivity_writes_png(tmp_path, method):
    if method == "morris":
        d = make_design("morris", ISHIGAMI, 10, seed=0)
        df = morris_indices(d, ishigami(d.samples))
    else:
        d = make_design("sobol", ISHIGAMI, 64, seed=0, calc_second_order=False)
        df = sobol_indices(d, ishigami(d.samples))
    path = plot_sensitivity(df, method, tmp_path / "s.png", title="Ishigami", note="manifest abc123")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    with pytest.raises(ValueError, match="needs column"):
        plot_sensitivity(df.drop(columns="mu_star" if method == "morris" else "ST"), method, tmp_path / "t.png")
