"""What a run will cost before it starts: experiments, outcome rows, disk and time.

A pilot runs the scenario's baseline for its first year, once with one replicate and once with
:data:`PILOT_REPLICATES`: rows per experiment-year come from the pilot's outcome table, seconds per
experiment-year from the difference of the two wall times (so that start-up and compilation, paid once,
are not counted per experiment). Both are scaled to the run's years and experiments. ``cartelsim run`` and
``cartelsim sweep`` print the estimate of a large run and refuse one above :data:`MAX_BYTES` or
:data:`MAX_SECONDS` without ``--yes``, and refuse a run whose disk estimate exceeds the free space.

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2014-01-01
... ''')
>>> e = estimate_run(sc, 1000)
>>> e.experiments, e.rows > 0, e.bytes > 0
(1000, True, True)

"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cartelsim.scenario import Scenario

__all__ = ["MAX_BYTES", "MAX_SECONDS", "Estimate", "estimate_run"]

#: Bytes per outcome row in ``outcomes.parquet`` (assumption: measured 4.1 for pc2023 and 5.1 for
#: strike-flows, two replicates each, zstd; rounded up to 6).
BYTES_PER_ROW = 6.0
#: While a run works, its part files (Arrow IPC, LZ4, about the Parquet's size) and the consolidated
#: Parquet coexist until the swap: the peak disk use is about twice the bundle (assumption).
PEAK_FACTOR = 2.0
#: Above these a run needs ``--yes`` (assumption: a bundle larger than most laptops keep free, a run longer
#: than an hour).
MAX_BYTES = 10e9
MAX_SECONDS = 3600.0
#: Replicates of the second pilot run.
PILOT_REPLICATES = 4
#: A floor on the seconds per experiment-year, so that timer noise never makes a run look free (assumption).
MIN_SECONDS_PER_EXPERIMENT_YEAR = 1e-4


@dataclass(frozen=True)
class Estimate:
    """A run's expected size and duration (one process; divide the time by the workers of a pool)."""

    experiments: int
    rows: int
    bytes: float
    seconds: float

    @property
    def needs_yes(self) -> bool:
        """Whether the run is above :data:`MAX_BYTES` or :data:`MAX_SECONDS`."""
        return self.bytes > MAX_BYTES or self.seconds > MAX_SECONDS

    def text(self, workers: int = 1) -> str:
        """One line: experiments, rows, disk at the peak, and time with ``workers`` processes."""
        return (
            f"about {self.experiments:,} experiments, {self.rows:,} outcome rows, {_size(self.bytes)} of disk "
            f"at the peak, {_duration(self.seconds / max(workers, 1))}"
            + (f" on {workers} workers" if workers > 1 else "")
        )


def _size(b: float) -> str:
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if b >= k:
            return f"{b / k:,.1f} {unit}"
    return f"{b / 1e3:,.0f} kB"


def _duration(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:,.1f} days"
    if s >= 3600:
        return f"{s / 3600:,.1f} hours"
    if s >= 60:
        return f"{s / 60:,.0f} minutes"
    return f"{s:,.0f} seconds"


def estimate_run(scenario: Scenario, experiments: int) -> Estimate:
    """Estimate a run of ``experiments`` experiments of ``scenario`` from a one-year pilot of its baseline.

    Raises whatever the pilot raises (a scenario that cannot run); the caller may then go on without an
    estimate, and the run reports its failures.
    """
    import datetime as dt

    from cartelsim.experiments import run_experiments

    years = scenario.end.year - scenario.start.year
    pilot = scenario.replace(end=dt.date(scenario.start.year + 1, 1, 1))
    t0 = time.perf_counter()
    one = run_experiments(pilot, [], replicates=1, progress=False)
    t1 = time.perf_counter()
    run_experiments(pilot, [], replicates=PILOT_REPLICATES, progress=False)
    t2 = time.perf_counter()
    per_year = max(((t2 - t1) - (t1 - t0)) / (PILOT_REPLICATES - 1), MIN_SECONDS_PER_EXPERIMENT_YEAR)
    rows = int(len(one.outcomes) * years * experiments)
    return Estimate(experiments, rows, rows * BYTES_PER_ROW * PEAK_FACTOR, per_year * years * experiments)
