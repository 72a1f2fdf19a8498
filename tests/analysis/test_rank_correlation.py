"""Spearman and PRCC on functions with known answers."""

import numpy as np
import pandas as pd
import pytest

from cartelsim.analysis.rank_correlation import plot_rank_correlations, rank_correlations


def uniform_frame(n: int, k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, k)), columns=[f"x{i}" for i in range(k)])


def test_monotone_function_of_one_factor_is_exactly_one():
    x = uniform_frame(300, 3, 0)
    t = rank_correlations(x, np.exp(4 * x["x1"])).set_index("factor")
    assert t.loc["x1", "spearman"] == pytest.approx(1.0, abs=1e-12)
    assert t.loc["x1", "prcc"] == pytest.approx(1.0, abs=1e-12)
    dec = rank_correlations(x, -(x["x2"] ** 3)).set_index("factor")
    assert dec.loc["x2", "spearman"] == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_model_with_noise_matches_the_analytic_correlations(seed):
    # y = x0 + x1 + e, x uniform (variance 1/12) and e normal with variance 1/12:
    # corr(x0, y) = 1/sqrt(3) = 0.577 and the partial correlation given x1 is 1/sqrt(2) = 0.707
    # (Pearson values; rank versions agree within about 0.02 at this n, measured over seeds 0-2).
    n = 20000
    x = uniform_frame(n, 3, seed)
    e = np.random.default_rng(100 + seed).normal(0.0, np.sqrt(1 / 12), n)
    t = rank_correlations(x, (x["x0"] + x["x1"]).to_numpy() + e).set_index("factor")
    for f in ("x0", "x1"):
        assert t.loc[f, "spearman"] == pytest.approx(1 / np.sqrt(3), abs=0.02)
        assert t.loc[f, "prcc"] == pytest.approx(1 / np.sqrt(2), abs=0.02)
        assert t.loc[f, "prcc_p"] < 1e-100
    assert abs(t.loc["x2", "prcc"]) < 0.03 and t.loc["x2", "prcc_p"] > 1e-3


def test_prcc_separates_what_spearman_mixes():
    # y = exp(3 x0) + x1: x1's effect is small beside x0's, so its Spearman rho is near 0, but with x0's
    # effect removed its partial rank correlation is large. Ranking: x0, x1, then the inert x2.
    x = uniform_frame(500, 3, 0)
    t = rank_correlations(x, np.exp(3 * x["x0"]) + x["x1"])
    assert abs(t.loc[1, "spearman"]) < 0.1 and t.loc[1, "prcc"] > 0.7
    order = t.reindex(t["prcc"].abs().sort_values(ascending=False).index)["factor"].tolist()
    assert order == ["x0", "x1", "x2"]


def test_constant_factor_and_bad_input():
    x = uniform_frame(50, 2, 0).assign(k=3.0)
    t = rank_correlations(x, x["x0"].to_numpy()).set_index("factor")
    assert np.isnan(t.loc["k", "spearman"]) and np.isnan(t.loc["k", "prcc"])
    assert t.loc["x0", "prcc"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="NaN"):
        rank_correlations(x, np.r_[np.nan, np.zeros(49)])
    with pytest.raises(ValueError, match="one value per row"):
        rank_correlations(x, np.zeros(3))
    with pytest.raises(ValueError, match="at least 6 rows"):
        rank_correlations(x.head(5), np.arange(5.0))
    with pytest.raises(ValueError, match="numeric"):
        rank_correlations(x.assign(s="a"), np.arange(50.0))


def test_plot_writes_png(tmp_path):
    x = uniform_frame(100, 3, 0)
    t = rank_correlations(x, x["x0"] - 0.3 * x["x1"])
    p = plot_rank_correlations(t, tmp_path / "rc.png", title="t", note="manifest abc")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="prcc"):
        plot_rank_correlations(t.drop(columns="prcc"), tmp_path / "x.png")
