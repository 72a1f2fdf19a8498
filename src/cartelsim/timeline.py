"""Model time: weeks of a 52-week year (DESIGN.md, Time).

Examples
--------
>>> import datetime as dt
>>> week_of(dt.date(2022, 3, 15), start_year=2012)
530
>>> date_of(530, start_year=2012)
datetime.date(2022, 3, 12)

"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["CALIBRATION_ORIGIN", "WEEKS_PER_YEAR", "date_of", "dates_of", "week_of"]

WEEKS_PER_YEAR = 52
#: Week 0 of the ecosystem calibration (Prieto-Curiel et al. 2023: t = 0 is the start of 2012).
CALIBRATION_ORIGIN = dt.date(2012, 1, 1)


def week_of(d: dt.date, start_year: int) -> int:
    """Return the week index of date ``d`` for a run whose week 0 is 1 January ``start_year``."""
    return WEEKS_PER_YEAR * (d.year - start_year) + min(51, (d.timetuple().tm_yday - 1) // 7)


def date_of(week: int, start_year: int) -> dt.date:
    """Return the date of week ``week``: 1 January of its year plus 7 days per week into the year."""
    return dt.date(start_year + week // WEEKS_PER_YEAR, 1, 1) + dt.timedelta(days=7 * (week % WEEKS_PER_YEAR))


def dates_of(weeks: np.ndarray, start_year: int) -> np.ndarray:
    """Vectorised :func:`date_of`, returning ``datetime64[D]`` values."""
    weeks = np.asarray(weeks, dtype=np.int64)
    years = (start_year + weeks // WEEKS_PER_YEAR - 1970).astype("datetime64[Y]")
    return years.astype("datetime64[D]") + (7 * (weeks % WEEKS_PER_YEAR)).astype("timedelta64[D]")
