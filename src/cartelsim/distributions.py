"""Distribution tables: any numeric key may be a table drawn once per replicate (DESIGN.md, Interventions).

A table is one of ``{dist = "uniform", low, high}``, ``{dist = "triangular", low, mode, high}``,
``{dist = "normal", mean, sd}`` (truncated to the bounds of the quantity it sets),
``{dist = "lognormal", median, sigma}`` (sigma of the log), ``{dist = "negative_binomial", mean,
dispersion}`` (variance = mean + mean^2 / dispersion) or ``{dist = "fixed", value}``.

Examples
--------
>>> import numpy as np
>>> d = parse_distribution({"dist": "uniform", "low": 1.0, "high": 2.0})
>>> 1.0 <= d.sample(np.random.default_rng(0), 0.0, 10.0) <= 2.0
True
>>> parse_distribution({"dist": "uniform", "low": 2.0})
Traceback (most recent call last):
...
ValueError: uniform needs keys high, low (missing: high)

"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = ["DISTRIBUTIONS", "Distribution", "parse_distribution"]

#: Allowed tables and their keys.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "negative_binomial": ("mean", "dispersion"),
    "fixed": ("value",),
}


@dataclass(frozen=True)
class Distribution:
    """A parsed distribution table.

    Parameters
    ----------
    dist : str
        One of :data:`DISTRIBUTIONS`.
    args : tuple of (str, float)
        The table's numeric keys in the order of :data:`DISTRIBUTIONS`.

    """

    dist: str
    args: tuple[tuple[str, float], ...]

    @property
    def kw(self) -> dict[str, float]:
        """The numeric keys as a dict."""
        return dict(self.args)

    def to_dict(self) -> dict[str, Any]:
        """Return the table as it would be written in TOML."""
        return {"dist": self.dist, **self.kw}

    def support(self) -> tuple[float, float]:
        """Return the smallest interval holding every possible draw (before truncation)."""
        k = self.kw
        if self.dist in ("uniform", "triangular"):
            return k["low"], k["high"]
        if self.dist == "fixed":
            return k["value"], k["value"]
        if self.dist == "lognormal":
            return 0.0, math.inf
        if self.dist == "negative_binomial":
            return 0.0, math.inf
        return -math.inf, math.inf

    def ppf(self, u: float, low: float = -math.inf, high: float = math.inf) -> float:
        """Return the quantile at ``u`` in [0, 1]; normal and lognormal tables are truncated to [low, high]."""
        k = self.kw
        if self.dist == "uniform":
            return k["low"] + u * (k["high"] - k["low"])
        if self.dist == "triangular":
            lo, mode, hi = k["low"], k["mode"], k["high"]
            c = (mode - lo) / (hi - lo)
            if u < c:
                return lo + math.sqrt(u * (hi - lo) * (mode - lo))
            return hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        if self.dist == "fixed":
            return k["value"]
        if self.dist in ("normal", "lognormal"):
            if self.dist == "normal":
                mu, sd = k["mean"], k["sd"]
                a = special.ndtr((low - mu) / sd) if math.isfinite(low) else 0.0
                b = special.ndtr((high - mu) / sd) if math.isfinite(high) else 1.0
                return float(mu + sd * special.ndtri(a + u * (b - a)))
            mu, sd = math.log(k["median"]), k["sigma"]
            a = special.ndtr((math.log(low) - mu) / sd) if low > 0 else 0.0
            b = special.ndtr((math.log(high) - mu) / sd) if math.isfinite(high) else 1.0
            return float(math.exp(mu + sd * special.ndtri(a + u * (b - a))))
        # negative binomial with mean m and dispersion r: scipy's (n=r, p=r/(r+m))
        from scipy import stats  # imported here: scipy.stats costs about 0.5 s at start-up

        r, m = k["dispersion"], k["mean"]
        return float(stats.nbinom.ppf(u, r, r / (r + m)))

    def sample(self, rng: np.random.Generator, low: float = -math.inf, high: float = math.inf) -> float:
        """Draw one value with one uniform from ``rng`` (inverse CDF, so one draw per call whatever the table)."""
        return self.ppf(float(rng.random()), low, high)


def parse_distribution(table: Mapping[str, Any]) -> Distribution:
    """Validate a distribution table and return it parsed.

    Raises
    ------
    ValueError
        Naming the unknown ``dist``, missing or extra keys, or inconsistent values.

    """
    dist = table.get("dist")
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        raise ValueError(f"dist must be one of {', '.join(DISTRIBUTIONS)} (got {dist!r})")
    need = DISTRIBUTIONS[dist]
    keys = set(table) - {"dist"}
    missing, extra = sorted(set(need) - keys), sorted(keys - set(need))
    if missing:
        raise ValueError(f"{dist} needs keys {', '.join(sorted(need))} (missing: {', '.join(missing)})")
    if extra:
        raise ValueError(f"{dist} takes keys {', '.join(sorted(need))} (unknown: {', '.join(extra)})")
    vals: dict[str, float] = {}
    for k in need:
        v = table[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{dist}.{k} must be a finite number (got {v!r})")
        vals[k] = float(v)
    if dist == "uniform" and not vals["low"] < vals["high"]:
        raise ValueError(f"uniform needs low < high (got low={vals['low']:g}, high={vals['high']:g})")
    if dist == "triangular" and not (vals["low"] <= vals["mode"] <= vals["high"] and vals["low"] < vals["high"]):
        raise ValueError("triangular needs low <= mode <= high and low < high")
    if dist == "normal" and vals["sd"] <= 0:
        raise ValueError("normal needs sd > 0")
    if dist == "lognormal" and (vals["median"] <= 0 or vals["sigma"] <= 0):
        raise ValueError("lognormal needs median > 0 and sigma > 0")
    if dist == "negative_binomial" and (vals["mean"] < 0 or vals["dispersion"] <= 0):
        raise ValueError("negative_binomial needs mean >= 0 and dispersion > 0")
    return Distribution(dist, tuple((k, vals[k]) for k in need))
