"""Congested equilibrium at the border crossings: Frank-Wolfe on the Beckmann potential (Dell 2015, §1.4).

Only the crossing edges congest, ``c_p(F) = d_p + phi_t (F_p / K_p)^P`` with ``P = gamma / 10`` and
``K_p`` the port's capacity times the reference supply; interior costs do not depend on flow. So the
least cost of origin ``o`` at crossing costs ``c`` is ``min_p (D[o, p] + c_p)``, with ``D`` the
interior least costs to each port (:func:`port_costs`, computed once per solve), and each
all-or-nothing step of Frank-Wolfe is a row-wise minimum. The Beckmann potential is the interior cost
of the assignment (linear) plus ``sum_p [d_p F_p + phi_t K_p (F_p/K_p)^(P+1) / (P+1)]``.

The loop is Dell's ``FrankWolfe.m``: all-or-nothing at current costs; gap
``sum (y - F) c(F)``; lower bound ``potential + gap``; relative gap ``-gap / max(lower bounds)``;
stop at ``tolerance``; otherwise an exact line search on the potential along ``y - F``. The
``"conjugate"`` variant (Mitradjieva & Lindberg, Transportation Science 47(2):280, 2013) makes each
direction conjugate to the previous one under the potential's (diagonal) Hessian.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from cartelsim.geography.graph import RouteGraph

__all__ = ["frank_wolfe", "port_costs"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def port_costs(graph: RouteGraph, weights: FloatArray | sp.csr_matrix, origins: npt.ArrayLike) -> FloatArray:
    """Least interior cost from every origin to every port (crossing edge excluded).

    Interior costs do not depend on flow, so the least cost of origin ``o`` at crossing costs ``c``
    is ``min_p (D[o, p] + c[p])``: this matrix turns each all-or-nothing step of Frank-Wolfe into
    a row-wise minimum (equal to one Dijkstra from the sink; a test checks it).

    Parameters
    ----------
    graph : RouteGraph
        The route graph.
    weights : numpy.ndarray or scipy.sparse.csr_matrix
        Directed-edge costs or a ready reversed matrix (crossing costs are ignored).
    origins : array_like of int
        Municipality indices of the origins.

    Returns
    -------
    numpy.ndarray
        ``D``, shape ``(origins, ports)``, km-equivalent; ``inf`` where a port cannot be reached.

    """
    m = weights if sp.issparse(weights) else graph.reversed_matrix(np.asarray(weights))
    # from a port node, the reversed graph only leads into Mexico (the sink is never reached)
    d = dijkstra(m, directed=True, indices=graph.port_nodes)
    return np.ascontiguousarray(np.asarray(d, dtype=np.float64)[:, np.asarray(origins, dtype=np.int64)].T)


def _line_search(slope_at: Callable[[float], tuple[float, float]], g0: float) -> float:
    """Root in [0, 1] of a non-decreasing slope with ``slope(0) = g0 < 0``; 1 if ``slope(1) <= 0``.

    Starts from the secant through both ends, then safeguarded Newton steps.
    """
    g1, _ = slope_at(1.0)
    if g1 <= 0:
        return 1.0
    lo, hi = 0.0, 1.0
    r = -g0 / (g1 - g0)
    for _ in range(200):
        g, dg = slope_at(r)
        if g == 0:
            return r
        if g > 0:
            hi = r
        else:
            lo = r
        nxt = r - g / dg if dg > 0 else 0.5 * (lo + hi)
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - r) <= 1e-12 or hi - lo <= 1e-12:
            return nxt
        r = nxt
    return r


def frank_wolfe(
    d: FloatArray,
    s: FloatArray,
    base: FloatArray,
    phi: float,
    power: float,
    scale: FloatArray,
    tolerance: float,
    max_iterations: int,
    method: str,
    x_init: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, list[float], float, int]:
    """Frank-Wolfe on the port flows.

    Parameters
    ----------
    d : numpy.ndarray
        Interior least costs ``(origins, ports)`` from :func:`port_costs`, km-equivalent.
    s : numpy.ndarray
        Supply of each origin.
    base : numpy.ndarray
        Flow-independent crossing cost of each port (``inf``: closed; closed ports carry nothing).
    phi : float
        ``phi_t``, km-equivalent.
    power : float
        ``gamma / 10``.
    scale : numpy.ndarray
        ``K_p``: capacity share times reference supply.
    tolerance : float
        Stop at this relative gap.
    max_iterations : int
        Cap on iterations.
    method : {"plain", "conjugate"}
        Direction rule.
    x_init : numpy.ndarray, optional
        Warm start: a previous ``(origins, ports)`` split (rows that use now-unreachable ports,
        or whose total no longer matches, restart from all-or-nothing).

    Returns
    -------
    flows : numpy.ndarray
        Equilibrium flow per port.
    split : numpy.ndarray
        ``(origins, ports)``: each origin's supply over the ports.
    costs : numpy.ndarray
        Crossing cost per port at the equilibrium flows (``inf`` if closed).
    history : list of float
        Relative gap at each iteration.
    relative_gap : float
        The last relative gap.
    iterations : int
        Steps taken.

    """
    nports = base.size
    cols = np.flatnonzero(np.isfinite(base))
    rows = np.flatnonzero(np.isfinite(d[:, cols]).any(axis=1) & (s > 0))
    cost_full = np.full(nports, np.inf)
    cost_full[cols] = base[cols]
    x0 = np.zeros((s.size, nports))
    if rows.size == 0 or cols.size == 0:
        return np.zeros(nports), x0, cost_full, [], 0.0, 0
    dr = d[np.ix_(rows, cols)]
    sr = s[rows]
    b = base[cols]
    k = scale[cols]
    n = cols.size
    take = np.arange(rows.size)

    def cost(f: FloatArray) -> FloatArray:
        return b + phi * (f / k) ** power

    def aon(c: FloatArray) -> tuple[FloatArray, IntArray, float]:
        j = np.argmin(dr + c, axis=1)
        f = np.asarray(np.bincount(j, weights=sr, minlength=n), dtype=np.float64)
        return f, j.astype(np.int64), float(np.dot(sr, dr[take, j]))

    def potential(f: FloatArray) -> float:
        return float(np.dot(b, f) + phi * np.sum(k * (f / k) ** (power + 1.0)) / (power + 1.0))

    f0, j0, l0 = aon(cost(np.zeros(n)))
    x = np.zeros((rows.size, n))  # each origin's split over the open ports
    x[take, j0] = sr
    if x_init is not None:
        # warm start: keep a previous split where it only uses ports this origin can still reach
        xi = x_init[np.ix_(rows, cols)]
        tot = x_init[rows].sum(axis=1)
        ok = (tot > 0) & np.isclose(xi.sum(axis=1), tot) & ~np.any((xi > 0) & ~np.isfinite(dr), axis=1)
        x[ok] = xi[ok] * (sr[ok] / tot[ok])[:, None]
        f0 = x.sum(axis=0)
        l0 = float(np.sum(np.where(x > 0, x * np.where(np.isfinite(dr), dr, 0.0), 0.0)))
    history: list[float] = []
    best_lb = -math.inf
    prev: tuple[FloatArray, FloatArray, float] | None = None  # conjugate: last target (flows, split, l)
    it = 0
    rel = math.inf
    while True:
        c0 = cost(f0)
        y, jy, ly = aon(c0)
        gap = (ly - l0) + float(np.dot(y - f0, c0))
        best_lb = max(best_lb, l0 + potential(f0) + gap)
        rel = -gap / best_lb if best_lb > 0 else (0.0 if gap >= 0 else math.inf)
        history.append(rel)
        if rel <= tolerance or it >= max_iterations:
            break
        it += 1
        xy = np.zeros_like(x)
        xy[take, jy] = sr
        t, xt, lt = y, xy, ly
        if method == "conjugate" and prev is not None:
            # the potential's Hessian is diagonal: only the crossing edges are non-linear
            h = phi * power / k * (f0 / k) ** (power - 1.0)
            sp_, xs, ls = prev
            num = float(np.dot((sp_ - f0) * h, y - f0))
            den = float(np.dot((sp_ - f0) * h, y - sp_))
            alpha = min(max(num / den, 0.0), 0.99) if den != 0 else 0.0
            if alpha > 0:
                t, xt, lt = (
                    alpha * sp_ + (1.0 - alpha) * y,
                    alpha * xs + (1.0 - alpha) * xy,
                    alpha * ls + (1.0 - alpha) * ly,
                )
        df = t - f0
        dl = lt - l0
        moved = np.flatnonzero(df)
        g0 = dl + float(np.dot(df[moved], c0[moved]))
        if g0 >= 0:  # not a descent direction: plain step
            t, xt, lt = y, xy, ly
            df, dl = y - f0, ly - l0
            moved = np.flatnonzero(df)
            g0 = gap
        dm = df[moved]
        a, bv = f0[moved] / k[moved], dm / k[moved]
        lin = dl + float(np.dot(dm, b[moved]))
        wg, wd = phi * dm, phi * power * dm * bv

        def slope_at(
            r: float,
            a: FloatArray = a,
            bv: FloatArray = bv,
            lin: float = lin,
            wg: FloatArray = wg,
            wd: FloatArray = wd,
        ) -> tuple[float, float]:
            u = np.maximum(a + r * bv, 0.0)
            up = u ** (power - 1.0)
            return lin + float(np.dot(wg, up * u)), float(np.dot(wd, up))

        rho = _line_search(slope_at, g0)
        prev = (t, xt, lt)
        f0 = f0 + rho * df
        x += rho * (xt - x)
        l0 = l0 + rho * dl
    f_full = np.zeros(nports)
    f_full[cols] = f0
    x0[np.ix_(rows, cols)] = x
    cost_full[cols] = cost(f0)
    return f_full, x0, cost_full, history, rel, it
