"""Refit the ecosystem to the 2012-2021 national series, exactly as the authors did.

The procedure of Prieto-Curiel, Campedelli & Hope (Science 2023), read from their code
``ReclutamientoC.R`` (``models/ecosystem-prieto-curiel-2023.md`` section 4):

- **Target.** Weekly casualties W(t) = 0.1 x (H(t) + M(t)), where H and M are natural cubic splines of the
  yearly homicides / 52 and missing persons / 52 with knots at the integer years 2012..2021, evaluated at
  520 equally spaced points of [2012, 2022] (both ends included), extrapolated **linearly** past 2021 (R's
  natural ``splinefun``; scipy's natural ``CubicSpline`` would extrapolate cubically, so the tail is added
  here by hand).
- **Model.** Explicit Euler with dt = 1 week from the deterministic Zipf start; 520 states, the first the
  initial state; the model's conflict deaths of week t are those of state t.
- **Loss.** sum_t (deaths_t - W_t)^2 over the 520 weeks (the authors compare incapacitations with 5% of
  incarcerations with zero weight, so they are left out).
- **Optimiser.** L-BFGS-B on the scaled vector x = (rho 1e3, eta, theta 1e8, omega 1e6, C0 / 1e3), start
  (2.68, 117.6, 1.59, 0.053, 111.0), bounds (2, 110, 1, 0.04, 110)..(3, 120, 2, 0.1, 115); parameters not
  freed are held (at their defaults unless given). The gradient is R ``optim``'s: central differences with
  step 1e-3 on the scaled vector, shortened at the bounds; memory 5 (R's ``lmm``), up to 100 iterations and
  the convergence factor 1e7 (R's ``maxit`` and ``factr`` defaults).

Freeing rho and theta with eta = 110, omega = 4e-8 and C0 = 115,000 returns the reference values (the
authors' "fixed values"); SSE about 37,960 (spec, [V-run]).

Examples
--------
>>> fit = calibrate()
>>> round(fit.parameters["recruitment_per_member_per_week"] * 1e3, 4), round(fit.loss, -1)  # reference 2.5275
(2.5273, 37960.0)

"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.optimize import minimize

from cartelsim.data import data_path
from cartelsim.ecosystem import EcosystemModel
from cartelsim.network import load_network
from cartelsim.params import PARAMS

__all__ = [
    "ALIASES",
    "DEFAULT_FREE",
    "FIT_PARAMETERS",
    "Fit",
    "calibrate",
    "deaths_path",
    "parse_free",
    "target",
    "trends",
]

PC2023 = "Prieto-Curiel, Campedelli & Hope, Science 381:1312 (2023), code ReclutamientoC.R"

#: The fitted parameters, in the order of the authors' scaled vector.
FIT_PARAMETERS: tuple[str, ...] = (
    "recruitment_per_member_per_week",
    "incapacitation_per_week",
    "conflict_rate_per_member_pair_per_week",
    "saturation_per_member_squared_per_week",
    "initial_members",
)
#: The paper's symbols, accepted by ``--free`` beside the names.
ALIASES: dict[str, str] = dict(zip(("rho", "eta", "theta", "omega", "C0"), FIT_PARAMETERS, strict=True))
#: Freed by default: the least-squares optimum with the others held returns the reference values.
DEFAULT_FREE: tuple[str, ...] = ("recruitment_per_member_per_week", "conflict_rate_per_member_pair_per_week")

# The authors' scaling, start point and bounds (ReclutamientoC.R, via the spec section 4): parameter = x * SCALE.
SCALE = np.array([1e-3, 1.0, 1e-8, 1e-6, 1e3])
START = np.array([2.68, 117.6, 1.59, 0.053, 111.0])
LOWER = np.array([2.0, 110.0, 1.0, 0.04, 110.0])
UPPER = np.array([3.0, 120.0, 2.0, 0.1, 115.0])
#: R ``optim``'s finite-difference step (``ndeps``) on the scaled vector, and its L-BFGS-B defaults.
NDEPS = 1e-3
LMM = 5
MAXIT = 100
FACTR = 1e7

#: Share of homicides plus missing persons who are cartel members (the fit target's 0.1; spec section 2).
VICTIM_SHARE = 0.1
#: First and last knot years and the weeks fitted (t = 0 is 1 January 2012).
FIRST_YEAR, LAST_YEAR, N_WEEKS = 2012, 2021, 520


def trends() -> pd.DataFrame:
    """Return the bundled yearly series (``national_trends``): year, homicides, missing_persons, incarcerations."""
    with open(data_path("national_trends", "trends.csv"), encoding="utf-8", newline="") as f:
        rows = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(f)]
    return pd.DataFrame(rows)


def _natural_linear(years: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Natural cubic spline through (years, values), linear beyond both end knots (R's natural splinefun)."""
    s = CubicSpline(years, values, bc_type="natural")
    y = s(x)
    lo, hi = years[0], years[-1]
    left, right = x < lo, x > hi
    y[left] = s(lo) + s(lo, 1) * (x[left] - lo)
    y[right] = s(hi) + s(hi, 1) * (x[right] - hi)
    return np.asarray(y, dtype=np.float64)


def target(n_points: int = N_WEEKS) -> np.ndarray:
    """Return the weekly fit target W(t) = 0.1 x (H(t) + M(t)) at ``n_points`` equally spaced points of [2012, 2022].

    Returns
    -------
    ndarray, shape (n_points,)
        Cartel-member conflict deaths per week.

    """
    df = trends()
    df = df[(df["year"] >= FIRST_YEAR) & (df["year"] <= LAST_YEAR)]
    years = df["year"].to_numpy(dtype=np.float64)
    x = np.linspace(FIRST_YEAR, LAST_YEAR + 1, n_points)
    h = _natural_linear(years, df["homicides"].to_numpy(dtype=np.float64) / 52.0, x)
    m = _natural_linear(years, df["missing_persons"].to_numpy(dtype=np.float64) / 52.0, x)
    return VICTIM_SHARE * (h + m)


class _Simulator:
    """One deterministic experiment (E = 1) with the fused Euler step: conflict deaths per week."""

    def __init__(self) -> None:
        self.model = EcosystemModel(load_network())
        self.nat = np.empty((1, 6))

    def deaths(self, params: Mapping[str, float], n_weeks: int) -> np.ndarray:
        m = self.model
        c = m.initial_state(np.array([params["initial_members"]]))
        nxt = np.empty_like(c)
        rho, eta, theta, omega = (np.array([params[k]]) for k in FIT_PARAMETERS[:4])
        out = np.empty(n_weeks)
        for t in range(n_weeks):
            m.step(c, nxt, rho, eta, theta, omega, self.nat)
            out[t] = self.nat[0, 3]
            c, nxt = nxt, c
        return out


def deaths_path(params: Mapping[str, float], n_weeks: int = N_WEEKS) -> np.ndarray:
    """Return the model's conflict deaths per week for weeks 0..n_weeks-1 (Euler, deterministic Zipf start).

    Parameters
    ----------
    params : mapping
        The five ecosystem parameters by name (:data:`FIT_PARAMETERS`).
    n_weeks : int
        Weeks to simulate.

    """
    return _Simulator().deaths(params, n_weeks)


def parse_free(names: Iterable[str]) -> tuple[str, ...]:
    """Return the parameter names to free, in fit order, from names or symbols (rho, eta, theta, omega, C0).

    Raises
    ------
    ValueError
        For an unknown, repeated or empty list, naming the allowed names.

    """
    out: list[str] = []
    for raw in names:
        n = raw.strip()
        name = ALIASES.get(n, n)
        if name not in FIT_PARAMETERS:
            allowed = ", ".join(f"{k} ({s})" for s, k in ALIASES.items())
            raise ValueError(f"cannot fit {raw!r}; allowed: {allowed}")
        if name in out:
            raise ValueError(f"{raw!r} is named twice")
        out.append(name)
    if not out:
        raise ValueError(f"name at least one parameter to fit; allowed: {', '.join(FIT_PARAMETERS)}")
    return tuple(k for k in FIT_PARAMETERS if k in out)


@dataclass(frozen=True)
class Fit:
    """A refit of the ecosystem to the national series.

    ``parameters`` holds all five fit parameters (free ones fitted, held ones as given); ``loss`` is the
    sum of squared weekly gaps; ``model`` and ``target`` are the weekly deaths and the target W(t).
    """

    parameters: dict[str, float]
    free: tuple[str, ...]
    loss: float
    success: bool
    message: str
    iterations: int
    evaluations: int
    model: np.ndarray = field(repr=False)
    target: np.ndarray = field(repr=False)

    def table(self) -> pd.DataFrame:
        """Yearly fit table: data 0.1 x (homicides + missing), the target's and the model's yearly deaths."""
        df = trends()
        df = df[(df["year"] >= FIRST_YEAR) & (df["year"] <= LAST_YEAR)].reset_index(drop=True)
        years = len(self.model) // 52
        model = self.model[: years * 52].reshape(years, 52).sum(1)
        tgt = self.target[: years * 52].reshape(years, 52).sum(1)
        out = pd.DataFrame(
            {
                "year": df["year"].to_numpy()[:years],
                "data": VICTIM_SHARE * (df["homicides"] + df["missing_persons"]).to_numpy()[:years],
                "target": tgt,
                "model": model,
            }
        )
        out["gap"] = out["model"] / out["data"] - 1.0
        return out

    def toml(self) -> str:
        """The fitted parameters as a ``[parameters]`` block for a scenario file (DESIGN.md names)."""
        free = ", ".join(self.free)
        lines = [
            f"# cartelsim calibrate: least-squares refit to 0.1 x (homicides + missing persons), 2012-2021 ({PC2023})",
            f"# freed: {free}; sum of squared weekly gaps {self.loss:.6g}",
            "[parameters]",
        ]
        for k in FIT_PARAMETERS:
            note = "fitted" if k in self.free else "held"
            lines.append(f"{k} = {self.parameters[k]!r}  # {note}")
        return "\n".join(lines) + "\n"


def calibrate(
    free: Iterable[str] = DEFAULT_FREE,
    fixed: Mapping[str, float] | None = None,
    start: Mapping[str, float] | None = None,
) -> Fit:
    """Refit the free parameters by the authors' procedure (module docstring) and return the fit.

    Parameters
    ----------
    free : iterable of str
        Parameters to fit (names or symbols; default rho and theta).
    fixed : mapping, optional
        Values of held parameters (default: their spec defaults, the reference values).
    start : mapping, optional
        Start values of free parameters (default: the authors' start point).

    Raises
    ------
    ValueError
        For a bad name, a held value outside the parameter's bounds or a start outside the fit bounds.

    """
    names = parse_free(free)
    held = {k: PARAMS[k].default for k in FIT_PARAMETERS}
    for k, v in (fixed or {}).items():
        name = ALIASES.get(k, k)
        if name not in FIT_PARAMETERS:
            raise ValueError(f"fixed: unknown parameter {k!r}; allowed: {', '.join(FIT_PARAMETERS)}")
        try:
            held[name] = PARAMS[name].check(v)
        except ValueError as e:
            raise ValueError(f"fixed {name}: {e}") from None
    idx = np.array([FIT_PARAMETERS.index(k) for k in names])
    x0 = START[idx].copy()
    for k, v in (start or {}).items():
        name = ALIASES.get(k, k)
        if name not in names:
            raise ValueError(f"start: {k!r} is not a free parameter (free: {', '.join(names)})")
        j = names.index(name)
        x0[j] = float(v) / SCALE[idx[j]]
        if not LOWER[idx[j]] <= x0[j] <= UPPER[idx[j]]:
            raise ValueError(
                f"start {name} = {v!r} outside the fit bounds "
                f"[{LOWER[idx[j]] * SCALE[idx[j]]:g}, {UPPER[idx[j]] * SCALE[idx[j]]:g}]"
            )
    lo, hi = LOWER[idx], UPPER[idx]
    w = target()
    sim = _Simulator()
    n_eval = 0

    def params_of(x: np.ndarray) -> dict[str, float]:
        p = dict(held)
        for j, i in enumerate(idx):
            p[FIT_PARAMETERS[i]] = float(x[j] * SCALE[i])
        return p

    def loss(x: np.ndarray) -> float:
        nonlocal n_eval
        n_eval += 1
        gap = sim.deaths(params_of(x), N_WEEKS) - w
        return float(gap @ gap)

    def grad(x: np.ndarray) -> np.ndarray:
        # R optim's numerical gradient for L-BFGS-B: central differences, each side cut at the bounds
        g = np.empty_like(x)
        for j in range(x.size):
            up, dn = x.copy(), x.copy()
            up[j] = min(x[j] + NDEPS, hi[j])
            dn[j] = max(x[j] - NDEPS, lo[j])
            g[j] = (loss(up) - loss(dn)) / (up[j] - dn[j])
        return g

    res = minimize(
        loss,
        x0,
        jac=grad,
        method="L-BFGS-B",
        bounds=list(zip(lo, hi, strict=True)),
        options={"maxcor": LMM, "maxiter": MAXIT, "ftol": FACTR * np.finfo(float).eps, "gtol": 0.0},
    )
    p = params_of(res.x)
    model = sim.deaths(p, N_WEEKS)
    gap = model - w
    return Fit(
        parameters=p,
        free=names,
        loss=float(gap @ gap),
        success=bool(res.success),
        message=str(res.message),
        iterations=int(res.nit),
        evaluations=n_eval,
        model=model,
        target=w,
    )
