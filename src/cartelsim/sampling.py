"""Experimental designs over named, bounded factors: Latin hypercube, Morris and Sobol (Saltelli).

Every design is drawn on the unit hypercube by SALib with an explicit seed, then mapped factor by factor
to values: uniformly onto ``[low, high]``, or through the inverse CDF of the factor's distribution table
(DESIGN.md "Interventions": ``uniform``, ``triangular``, ``normal``, ``lognormal``,
``negative_binomial``). A design keeps both the unit-cube samples (which the Morris analysis needs: it
reads the direction of each step from them) and the mapped values (which a sweep feeds to the model,
one design row per replicate).

Conventions
-----------
- ``n`` is the SALib sample size, not the row count: LHS gives ``n`` rows; Morris gives ``n``
  trajectories of ``D + 1`` rows; Sobol gives ``n * (2 D + 2)`` rows, or ``n * (D + 2)`` with
  ``calc_second_order=False`` (D factors).
- ``normal``, ``lognormal`` and ``negative_binomial`` are truncated to the factor's ``[low, high]``
  (the truncated inverse CDF, so every unit-cube value maps inside the bounds); ``uniform`` and
  ``triangular`` must lie within them.
- A ``fixed`` table is not an uncertain factor: building a :class:`Factor` from one raises
  ``ValueError``. Set fixed values as parameters and leave them out of the design.
- Nothing here touches the global ``np.random`` state: SALib receives the seed and builds its own
  ``numpy.random.Generator`` (Sobol via ``scipy.stats.qmc.Sobol(seed=...)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["DISTRIBUTIONS", "METHODS", "Design", "Factor", "make_design"]

METHODS: tuple[str, ...] = ("lhs", "morris", "sobol")
"""Design methods accepted by :func:`make_design`."""

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "negative_binomial": ("mean", "dispersion"),
    "fixed": ("value",),
}
"""Distribution tables of DESIGN.md and their keys (besides ``dist``)."""

# Resolved defaults of each method's options; also the list of options allowed.
_OPTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "lhs": {},
    "morris": {"num_levels": 4, "optimal_trajectories": None, "local_optimization": True},
    "sobol": {"calc_second_order": True, "scramble": True},
}

_MANIFEST_FORMAT = "cartelsim.design/1"


def _finite(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"factor {name!r}: {key} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"factor {name!r}: {key} must be finite, got {value!r}")
    return out


@dataclass(frozen=True)
class Factor:
    """One uncertain input of a design: a name, finite bounds and an optional distribution table.

    Parameters
    ----------
    name : str
        Parameter or key name, e.g. ``recruitment_per_member_per_week`` (its unit is in the name).
    low, high : float
        Bounds, in the parameter's unit; ``low < high``, both finite.
    dist : Mapping or None
        A DESIGN.md distribution table, e.g. ``{"dist": "triangular", "low": 0.08, "mode": 0.1,
        "high": 0.12}``. ``None`` means uniform on ``[low, high]``. ``normal``, ``lognormal`` and
        ``negative_binomial`` are truncated to ``[low, high]``; ``uniform`` and ``triangular`` must lie
        within them; ``fixed`` is refused (a fixed value is not uncertain).

    Examples
    --------
    >>> tri = {"dist": "triangular", "low": 0.08, "mode": 0.1, "high": 0.12}
    >>> f = Factor("victim_share_cartel", 0.0, 1.0, tri)
    >>> round(float(f.ppf(np.array([0.5]))[0]), 4)
    0.1
    >>> Factor.from_table("rho", {"dist": "uniform", "low": 2.45e-3, "high": 2.6e-3}).high
    0.0026

    """

    name: str
    low: float
    high: float
    dist: Mapping[str, Any] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"factor name must be a non-empty string, got {self.name!r}")
        low = _finite(self.name, "low", self.low)
        high = _finite(self.name, "high", self.high)
        if not low < high:
            raise ValueError(f"factor {self.name!r}: low must be below high, got low={low}, high={high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if self.dist is not None:
            object.__setattr__(self, "dist", self._check_dist(dict(self.dist)))

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any], bounds: tuple[float, float] | None = None) -> Factor:
        """Build a factor from a distribution table and, where it is unbounded, the parameter's bounds.

        Parameters
        ----------
        name : str
            Parameter or key name.
        table : Mapping
            A DESIGN.md distribution table.
        bounds : tuple of float, optional
            The parameter's ``(low, high)`` bounds (its unit). Required for ``normal``, ``lognormal``
            and ``negative_binomial``; for ``uniform`` and ``triangular`` the table's own ``low`` and
            ``high`` are the factor's bounds (and must lie within ``bounds`` when given).

        Returns
        -------
        Factor

        """
        kind = table.get("dist")
        if kind in ("uniform", "triangular"):
            low, high = table.get("low"), table.get("high")
            if bounds is not None and (
                _finite(name, "low", low) < bounds[0] or _finite(name, "high", high) > bounds[1]
            ):
                raise ValueError(
                    f"factor {name!r}: {kind} range [{low}, {high}] leaves the parameter's bounds {bounds}"
                )
            return cls(name, low, high, table)  # type: ignore[arg-type]
        if kind in ("normal", "lognormal", "negative_binomial") and bounds is None:
            raise ValueError(f"factor {name!r}: a {kind} table needs the parameter's bounds to truncate to")
        if bounds is None:  # unknown dist or fixed: let _check_dist say why
            bounds = (0.0, 1.0)
        return cls(name, bounds[0], bounds[1], table)

    def _check_dist(self, table: dict[str, Any]) -> dict[str, Any]:
        kind = table.get("dist")
        if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
            raise ValueError(f"factor {self.name!r}: unknown dist {kind!r}; allowed: {', '.join(DISTRIBUTIONS)}")
        if kind == "fixed":
            raise ValueError(
                f"factor {self.name!r}: a fixed value is not uncertain; set it as a parameter and leave "
                "it out of the design"
            )
        keys = DISTRIBUTIONS[kind]
        unknown = sorted(set(table) - {"dist", *keys})
        missing = [k for k in keys if k not in table]
        if unknown or missing:
            raise ValueError(
                f"factor {self.name!r}: a {kind} table takes exactly the keys {', '.join(keys)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        p = {k: _finite(self.name, k, table[k]) for k in keys}
        where = f"factor {self.name!r} ({kind})"
        if kind in ("uniform", "triangular"):
            if not p["low"] < p["high"]:
                raise ValueError(f"{where}: low must be below high")
            if kind == "triangular" and not p["low"] <= p["mode"] <= p["high"]:
                raise ValueError(f"{where}: mode must lie in [low, high]")
            if p["low"] < self.low or p["high"] > self.high:
                raise ValueError(f"{where}: [{p['low']}, {p['high']}] leaves the bounds [{self.low}, {self.high}]")
        elif kind == "normal" and not p["sd"] > 0:
            raise ValueError(f"{where}: sd must be positive")
        elif kind == "lognormal" and not (p["median"] > 0 and p["sigma"] > 0):
            raise ValueError(f"{where}: median and sigma must be positive")
        elif kind == "negative_binomial":
            if not (p["mean"] > 0 and p["dispersion"] > 0):
                raise ValueError(f"{where}: mean and dispersion must be positive")
            if math.floor(self.high) < max(0, math.ceil(self.low)):
                raise ValueError(f"{where}: no integer >= 0 lies in [{self.low}, {self.high}]")
        out = {"dist": kind, **p}
        # A truncation that keeps (almost) no probability mass is a mistake in the table or the bounds.
        mass = float(np.diff(self._cdf_bounds(out))[0])
        if not mass > 1e-12:
            raise ValueError(f"{where}: the bounds [{self.low}, {self.high}] hold no probability mass")
        return out

    def _cdf_bounds(self, d: Mapping[str, Any]) -> np.ndarray:
        from scipy import stats

        kind = d["dist"]
        if kind == "normal":
            return np.asarray(stats.norm.cdf([self.low, self.high], d["mean"], d["sd"]))
        if kind == "lognormal":
            return np.asarray(stats.lognorm.cdf([max(self.low, 0.0), self.high], d["sigma"], scale=d["median"]))
        if kind == "negative_binomial":
            nb = stats.nbinom(d["dispersion"], d["dispersion"] / (d["dispersion"] + d["mean"]))
            return np.asarray([nb.cdf(math.ceil(self.low) - 1), nb.cdf(math.floor(self.high))])
        return np.array([0.0, 1.0])

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube values to factor values through the (truncated) inverse CDF.

        Parameters
        ----------
        u : numpy.ndarray
            Values in ``[0, 1]`` (probabilities).

        Returns
        -------
        numpy.ndarray
            float64 values in ``[low, high]``, in the factor's unit; integers (as floats) for
            ``negative_binomial``.

        """
        from scipy import stats

        u = np.asarray(u, dtype=np.float64)
        if np.any((u < 0) | (u > 1)) or not np.all(np.isfinite(u)):
            raise ValueError(f"factor {self.name!r}: unit-cube values must lie in [0, 1]")
        d = self.dist
        kind = None if d is None else d["dist"]
        if kind is None:
            x = self.low + u * (self.high - self.low)
        elif kind == "uniform":
            x = d["low"] + u * (d["high"] - d["low"])  # type: ignore[index]
        elif kind == "triangular":
            lo, mode, hi = d["low"], d["mode"], d["high"]  # type: ignore[index]
            x = stats.triang.ppf(u, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        elif kind == "normal":
            m, s = d["mean"], d["sd"]  # type: ignore[index]
            x = stats.truncnorm.ppf(u, (self.low - m) / s, (self.high - m) / s, loc=m, scale=s)
        elif kind == "lognormal":
            mu, s = math.log(d["median"]), d["sigma"]  # type: ignore[index]
            a = (math.log(self.low) - mu) / s if self.low > 0 else -np.inf
            x = np.exp(stats.truncnorm.ppf(u, a, (math.log(self.high) - mu) / s, loc=mu, scale=s))
        else:  # negative_binomial: variance = mean + mean^2 / dispersion (DESIGN.md)
            k, m = d["dispersion"], d["mean"]  # type: ignore[index]
            f_lo, f_hi = self._cdf_bounds(d)  # type: ignore[arg-type]
            x = stats.nbinom.ppf(f_lo + u * (f_hi - f_lo), k, k / (k + m))
            x = np.clip(x, max(0, math.ceil(self.low)), math.floor(self.high))
        # Rounding in loc + u * scale may step one ulp past a bound.
        return np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"name", "low", "high", "dist"}``."""
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "dist": None if self.dist is None else dict(self.dist),
        }


@dataclass(frozen=True, eq=False)
class Design:
    """An experimental design: one row per model evaluation (one replicate of a sweep).

    Build it with :func:`make_design`; the arrays are read-only.

    Attributes
    ----------
    method : str
        ``"lhs"``, ``"morris"`` or ``"sobol"``.
    factors : tuple of Factor
        The design's factors, in column order.
    samples : numpy.ndarray
        float64, shape ``(n_rows, n_factors)``: factor values in their units.
    options : dict
        The method's resolved options (defaults filled in).
    seed : int
        The seed SALib drew the design with.
    n : int
        The requested SALib sample size (see the module's conventions).
    unit_samples : numpy.ndarray
        The same rows on the unit hypercube, before the distributions were applied.

    Examples
    --------
    >>> d = make_design("lhs", [Factor("a", 0.0, 1.0), Factor("b", 10.0, 20.0)], n=8, seed=1)
    >>> d.samples.shape
    (8, 2)
    >>> Design.from_manifest(d.to_manifest()) == d
    True

    """

    method: str
    factors: tuple[Factor, ...]
    samples: np.ndarray
    options: dict[str, Any]
    seed: int
    n: int
    unit_samples: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Design):
            return NotImplemented
        return (
            (self.method, self.factors, self.options, self.seed, self.n)
            == (other.method, other.factors, other.options, other.seed, other.n)
            and np.array_equal(self.samples, other.samples)
            and np.array_equal(self.unit_samples, other.unit_samples)
        )

    @property
    def names(self) -> list[str]:
        """Factor names, in column order."""
        return [f.name for f in self.factors]

    @property
    def n_rows(self) -> int:
        """Number of rows (model evaluations; replicates of a sweep)."""
        return int(self.samples.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """Return the samples as a DataFrame: one column per factor, one row per design row (replicate)."""
        return pd.DataFrame(self.samples, columns=self.names)

    def problem(self) -> dict[str, Any]:
        """Return the SALib problem on the unit hypercube that the unit samples were drawn from."""
        return {
            "num_vars": len(self.factors),
            "names": self.names,
            "bounds": [[0.0, 1.0]] * len(self.factors),
        }

    def to_manifest(self, include_samples: bool = True) -> dict[str, Any]:
        """JSON-ready description of the design, for the bundle's manifest.

        Parameters
        ----------
        include_samples : bool
            Store both sample arrays (exact round trip through JSON: floats are written with ``repr``
            precision). Without them, :meth:`from_manifest` redraws the design from method, factors,
            ``n``, options and seed, which is exact only under the same SALib and SciPy versions.

        Returns
        -------
        dict

        """
        from importlib.metadata import version

        out: dict[str, Any] = {
            "format": _MANIFEST_FORMAT,
            "method": self.method,
            "n": self.n,
            "n_rows": self.n_rows,
            "seed": self.seed,
            "options": dict(self.options),
            "factors": [f.to_dict() for f in self.factors],
            "salib_version": version("SALib"),
        }
        if include_samples:
            out["samples"] = self.samples.tolist()
            out["unit_samples"] = self.unit_samples.tolist()
        return out

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Design:
        """Rebuild a design written by :meth:`to_manifest`.

        Parameters
        ----------
        manifest : Mapping
            The dict (e.g. as read back from ``manifest.json``).

        Returns
        -------
        Design

        """
        if manifest.get("format") != _MANIFEST_FORMAT:
            raise ValueError(
                f"not a design manifest: format is {manifest.get('format')!r}, expected {_MANIFEST_FORMAT!r}"
            )
        factors = [Factor(f["name"], f["low"], f["high"], f["dist"]) for f in manifest["factors"]]
        if "samples" not in manifest:
            return make_design(manifest["method"], factors, manifest["n"], manifest["seed"], **manifest["options"])
        k = len(factors)
        samples = np.asarray(manifest["samples"], dtype=np.float64).reshape(-1, k)
        unit = np.asarray(manifest["unit_samples"], dtype=np.float64).reshape(-1, k)
        if samples.shape != unit.shape or samples.shape[0] != manifest["n_rows"]:
            raise ValueError(f"design manifest: samples do not have {manifest['n_rows']} rows of {k} factors")
        return _build(
            manifest["method"],
            factors,
            samples,
            unit,
            dict(manifest["options"]),
            manifest["seed"],
            manifest["n"],
        )


def _build(
    method: str,
    factors: Sequence[Factor],
    samples: np.ndarray,
    unit: np.ndarray,
    options: dict[str, Any],
    seed: int,
    n: int,
) -> Design:
    samples.setflags(write=False)
    unit.setflags(write=False)
    return Design(method, tuple(factors), samples, options, int(seed), int(n), unit)


def _resolve_options(method: str, n: int, k: int, options: Mapping[str, Any]) -> dict[str, Any]:
    allowed = _OPTION_DEFAULTS[method]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for method {method!r}; allowed: " + (", ".join(allowed) or "none")
        )
    opts = {**allowed, **options}
    if method == "morris":
        levels = opts["num_levels"]
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
            raise ValueError(f"morris: num_levels must be an even integer >= 2, got {levels!r}")
        if n < 2:
            raise ValueError(f"morris: n is the number of trajectories and must be at least 2, got {n}")
        opt = opts["optimal_trajectories"]
        if opt is not None and (isinstance(opt, bool) or not isinstance(opt, int) or not 2 <= opt < n):
            raise ValueError(f"morris: optimal_trajectories must be None or an integer in [2, n), got {opt!r}")
        opts["local_optimization"] = bool(opts["local_optimization"])
    elif method == "sobol":
        if n & (n - 1):
            lo = 1 << (n.bit_length() - 1)
            raise ValueError(
                f"sobol: n must be a power of 2 (1, 2, 4, ..., 512, 1024, 2048, ...); got {n}, "
                f"the nearest allowed values are {lo} and {2 * lo}"
            )
        opts["calc_second_order"] = bool(opts["calc_second_order"])
        opts["scramble"] = bool(opts["scramble"])
        if opts["calc_second_order"] and k < 2:
            raise ValueError("sobol: calc_second_order needs at least 2 factors")
    return opts


def make_design(
    method: Literal["lhs", "morris", "sobol"],
    factors: Sequence[Factor],
    n: int,
    seed: int,
    **options: Any,
) -> Design:
    """Draw a design with SALib, deterministic given ``seed``.

    Parameters
    ----------
    method : {"lhs", "morris", "sobol"}
        Latin hypercube (``SALib.sample.latin``), Morris trajectories (``SALib.sample.morris``) or
        Saltelli's scheme on a scrambled Sobol' sequence (``SALib.sample.sobol``).
    factors : sequence of Factor
        At least one; names must be unique.
    n : int
        Sample size: rows for LHS; trajectories for Morris (``n * (D + 1)`` rows); base samples for
        Sobol, a power of 2 (``n * (2 D + 2)`` rows, ``n * (D + 2)`` without second order).
    seed : int
        Non-negative integer seed.
    **options
        Morris: ``num_levels`` (even, default 4), ``optimal_trajectories`` (default None),
        ``local_optimization`` (default True). Sobol: ``calc_second_order`` (default True),
        ``scramble`` (default True). LHS: none.

    Returns
    -------
    Design

    Examples
    --------
    >>> d = make_design("sobol", [Factor("a", 0, 1), Factor("b", 0, 1)], n=4, seed=0, calc_second_order=False)
    >>> d.samples.shape
    (16, 2)

    """
    from SALib.sample import latin
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise ValueError(f"unknown design method {method!r}; allowed: {', '.join(METHODS)}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    n, seed = int(n), int(seed)
    factors = list(factors)
    if not factors or not all(isinstance(f, Factor) for f in factors):
        raise ValueError("factors must be a non-empty sequence of Factor")
    names = [f.name for f in factors]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise ValueError(f"duplicate factor names: {', '.join(dupes)}")
    opts = _resolve_options(method, n, len(factors), options)
    problem = {"num_vars": len(factors), "names": names, "bounds": [[0.0, 1.0]] * len(factors)}
    if method == "lhs":
        unit = latin.sample(problem, n, seed=seed)
    elif method == "morris":
        unit = morris_sample.sample(
            problem,
            n,
            num_levels=opts["num_levels"],
            optimal_trajectories=opts["optimal_trajectories"],
            local_optimization=opts["local_optimization"],
            seed=seed,
        )
    else:
        unit = sobol_sample.sample(
            problem, n, calc_second_order=opts["calc_second_order"], scramble=opts["scramble"], seed=seed
        )
    unit = np.ascontiguousarray(np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0))
    samples = np.column_stack([f.ppf(unit[:, j]) for j, f in enumerate(factors)])
    return _build(method, factors, samples, unit, opts, seed, n)
