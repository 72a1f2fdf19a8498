"""The organisation layer gives the same numbers in distribution as its stored reference (issue 15).

The reference (``tests/data/organisation-reference/``: ``replicates.csv.gz`` and ``summary.json``) was made
by ``data-raw/organisation_reference.py`` with the code before the layer's rewrite: the shipped scenario
``strike-campaign``, 200 replicates of each of its 7 policies (baseline included), and per policy, replicate,
window (``year1``, ``all``) and national variable one statistic (a flow's total over the window; a stock's
or an index's last record in it). The tests here run the current code on the same scenario with the first
n replicates (replicate r has the same seed, hence the same parameter and campaign draws, in any run with
more than r replicates: only the layer's own randomness can differ) and compute the same statistic with the
producer's own code (``reference.py`` imports it from the script).

Tolerance (fixed before any result was seen; never widen it to make a run pass). For every policy, window
and variable, with ``se`` a bootstrap standard error of a quantile over replicates (the producer's
``summarise``: 400 resamples), ``q_ref`` and ``se_ref`` from summary.json (all 200 replicates) and
``q_new``, ``se_new`` from the new run:

1. quantiles, q in 10, 50, 90::

       |q_new - q_ref| <= 3 * sqrt(se_ref**2 + se_new**2) + 0.02 * (q90_ref - q10_ref) + 0.5

2. paired, ``d_r = new_r - ref_r`` over the n replicates both runs have (sd with ddof 1; ``mean(ref)`` over
   the same n replicates)::

       |mean(d)| <= 4 * sd(d) / sqrt(n) + 0.01 * |mean(ref)| + 0.5

The 0.5 is half a unit (the outcomes are counts). A (policy, window, variable) on one side only also fails.
All misses are collected and reported once, as a table sorted by how far outside its tolerance each is.

Tests: the default one runs n = 24 (168 experiments; ``slow``, still in the default run), the ``long`` one
n = 200 (the whole reference; ``pytest -m long``), and a cheap one checks that the stored files agree with
each other. Missing reference files fail the tests (they never skip): rerun the producer on the code before
the change.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from cartelsim.api import read_scenario
from cartelsim.organisation.layer import FLOW_VARIABLES, STOCK_VARIABLES
from cartelsim.variables import VARIABLES

from .reference import KEYS, QUANTILE_NAMES, SCENARIO, compare, load_reference, producer, run_current, table

#: National variables the scenario records without the geography layer (which it does not turn on).
GEOGRAPHY = ("flow_to_border_index", "n_municipalities_on_routes")


@pytest.fixture(scope="module")
def current() -> Callable[[int], pd.DataFrame]:
    """The current code's statistics for n replicates per policy, run once per n in this module."""
    runs: dict[int, pd.DataFrame] = {}

    def get(n: int) -> pd.DataFrame:
        if n not in runs:
            t0 = time.perf_counter()
            runs[n] = run_current(n)
            print(f"\nstrike-campaign, {n} replicates per policy: {time.perf_counter() - t0:.0f} s")
        return runs[n]

    return get


def check_against_reference(current: Callable[[int], pd.DataFrame], n: int) -> None:
    ref = load_reference()  # first: a missing reference fails before the run
    assert n <= ref.replicates, f"the reference has {ref.replicates} replicates, fewer than {n}"
    new = current(n)
    made, misses = compare(ref, new)
    print(
        f"organisation reference, n = {n}: {made} comparisons "
        f"({new.groupby(KEYS).ngroups} policy/window/variable, 3 quantiles and a paired mean each), "
        f"{len(misses)} outside the tolerance"
    )
    if misses:
        pytest.fail(
            f"{len(misses)} of {made} comparisons with the organisation reference (n = {n}) are outside the "
            f"tolerance (module docstring):\n{table(misses)}",
            pytrace=False,
        )


@pytest.mark.slow
def test_same_distribution_24(current: Callable[[int], pd.DataFrame]) -> None:
    check_against_reference(current, 24)


@pytest.mark.long
def test_same_distribution_200(current: Callable[[int], pd.DataFrame]) -> None:
    check_against_reference(current, 200)


def test_stored_reference_is_consistent() -> None:
    ref = load_reference()
    stats, n = ref.stats, ref.replicates
    rows = ref.quantiles()
    # every policy (baseline included) and every national variable of the layer and the ecosystem, both windows
    policies = {p.name for p in read_scenario(SCENARIO).all_policies}
    assert set(stats["policy"]) == policies
    assert set(stats["window"]) == set(producer().WINDOWS)
    national = {v.name for v in VARIABLES.values() if "national" in v.levels} - set(GEOGRAPHY)
    layer = {*FLOW_VARIABLES, *STOCK_VARIABLES, "new_fissions", "trafficking_capacity_index"}
    assert layer <= national
    assert set(stats["variable"]) == national, sorted(set(stats["variable"]) ^ national)
    # one value per replicate 0..n-1 of every policy, window and variable
    assert not stats.duplicated([*KEYS, "replicate"]).any()
    assert np.isfinite(stats["value"]).all()
    counts = stats.groupby(KEYS)["replicate"].agg(["count", "min", "max"])
    assert len(counts) == len(policies) * len(producer().WINDOWS) * len(national)
    assert (counts["count"] == n).all() and (counts["min"] == 0).all() and (counts["max"] == n - 1).all()
    # summary.json: the same keys, n, and its quantiles recomputed from the stored values (10 digits)
    assert set(rows.index) == set(counts.index)
    assert (rows["n"] == n).all()
    for key, d in stats.groupby(KEYS):
        q = np.quantile(d.sort_values("replicate")["value"].to_numpy(), producer().QUANTILES)
        stored = rows.loc[key, list(QUANTILE_NAMES)].to_numpy(dtype=float)
        np.testing.assert_allclose(stored, q, rtol=1e-8, atol=1e-6, err_msg=str(key))
        se = rows.loc[key, [f"se_{name}" for name in QUANTILE_NAMES]].to_numpy(dtype=float)
        assert (np.isfinite(se) & (se >= 0)).all(), key
