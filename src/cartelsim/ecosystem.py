"""The ecosystem layer: the cartel population model of Prieto-Curiel, Campedelli & Hope (Science 2023).

For each cartel i, per week (``models/ecosystem-prieto-curiel-2023.md`` section 2)::

    dC_i/dt = rho C_i - eta C_i / C - theta C_i sum_j K_ij C_j - omega C_i^2

with K_ij = (R_ij + 1) / (a_i + 1) (i != j). The conflict term is computed as a sparse rivalry product
plus a rank-one term, ``(K C)_i = ((R C)_i + C - C_i) / (a_i + 1)``, in one fused loop over the ensemble
(state shape ``(experiments, cartels)``); the explicit Euler step with dt = 1 week is the model the
authors fitted.

The organisation layer may add, per experiment, an :class:`Extension` (passed to
:meth:`EcosystemModel.flows` each week by the loop; the fused ecosystem-only step never uses one):
faction columns beyond the network's 150 groups, extra rivalry weights and alliance strengths per
experiment (a faction's rivalries and alliances), and a conflict multiplier m_i per experiment and
cartel (violence after removals). With multipliers the pair (i, j) fights at m_i + m_j - 1 times its
rate, so a cartel with m_i > 1 suffers and inflicts m_i times its conflict while the others' conflicts
are unchanged::

    deaths_i = theta C_i / (a_i + 1) * (m_i (K' C)_i + (K' g)_i),  g_j = (m_j - 1) C_j

with K' the kernel's numerator (R_ij + 1 plus the experiment's extra rivalry weights).

Examples
--------
>>> import numpy as np
>>> m = EcosystemModel(load_network())
>>> c = m.initial_state(np.array([115000.0]))
>>> f = m.flows(c, rho=np.array([2.527474e-3]), eta=np.array([110.0]),
...             theta=np.array([1.549231e-8]), omega=np.array([4e-8]))
>>> round(float(f.deaths.sum()), 1)   # spec: 67.2 conflict deaths in week 0
67.2

"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from cartelsim.network import Network, load_network

__all__ = ["EcosystemModel", "Extension", "Flows", "load_network"]


@dataclass
class Flows:
    """One week's flows per experiment and cartel, shape ``(E, N)`` (members per week)."""

    recruits: np.ndarray
    incapacitated: np.ndarray
    deaths: np.ndarray
    exits: np.ndarray

    def apply(self, state: np.ndarray) -> None:
        """Advance ``state`` in place by one Euler step (never below zero; see :meth:`EcosystemModel.flows`)."""
        _apply(state, self.recruits, self.incapacitated, self.deaths, self.exits)


#: Total members below which incapacitation (eta C_i / C) is taken as 0: eta / C overflows to infinity
#: once C is subnormal (after decades without recruitment every C_i decays towards 0), and the outflows'
#: scaling then gives inf * 0. Far below a member (assumption: any value far below 1 and above 1e-308).
_TINY = 1e-290


@numba.njit(cache=True, nogil=True, fastmath=True)
def _pressure(ce, rrow, rptr, rcol, rw, s):  # pragma: no cover - jit
    """s_i = (R C)_i + C - C_i for one experiment; return C."""
    ct = 0.0
    for i in range(ce.shape[0]):
        ct += ce[i]
    for i in range(ce.shape[0]):
        s[i] = ct - ce[i]
    for j in range(rrow.shape[0]):
        acc = 0.0
        for k in range(rptr[j], rptr[j + 1]):
            acc += rw[k] * ce[rcol[k]]
        s[rrow[j]] += acc
    return ct


@numba.njit(cache=True, nogil=True, fastmath=True)
def _flows(c, rho, eta, theta, omega, rrow, rptr, rcol, rw, inv_a1, rec, inc, dth, ext):  # pragma: no cover
    n_e, n = c.shape
    s = np.empty(n)
    for e in range(n_e):
        ce = c[e]
        ct = _pressure(ce, rrow, rptr, rcol, rw, s)
        share = eta[e] / ct if ct > _TINY else 0.0  # eta / ct overflows once ct is subnormal
        for i in range(n):
            ci = ce[i]
            r = rho[e] * ci
            a = share * ci
            d = theta[e] * ci * s[i] * inv_a1[i]
            x = omega[e] * ci * ci
            out = a + d + x
            if out > ci + r:
                # a cartel cannot lose more members than it has: scale its outflows down together
                f = (ci + r) / out
                a *= f
                d *= f
                x *= f
            rec[e, i] = r
            inc[e, i] = a
            dth[e, i] = d
            ext[e, i] = x


@numba.njit(cache=True, nogil=True, fastmath=True)
def _step(
    c, cn, rho, eta, theta, omega, rrow, rptr, rcol, rw, inv_a1, counted, nat, acc, accumulate
):  # pragma: no cover
    """Fused Euler step: cn = c + flows, with national sums in ``nat``.

    nat[e] = (C, recruits, incapacitated, deaths, exits, active groups) summed over cartels (active:
    ``counted`` groups with C_i >= 1); with ``accumulate``, acc[e, k, i] += flow k of cartel i (k: recruits,
    incapacitated, deaths, exits).
    """
    n_e, n = c.shape
    s = np.empty(n)
    for e in range(n_e):
        ce = c[e]
        cne = cn[e]
        ct = _pressure(ce, rrow, rptr, rcol, rw, s)
        share = eta[e] / ct if ct > _TINY else 0.0  # eta / ct overflows once ct is subnormal
        th = theta[e]
        om = omega[e]
        rh = rho[e]
        guard = False
        active = 0.0
        for i in range(n):
            if ce[i] >= 1.0:
                active += counted[i]
        for _attempt in range(2):
            sr = 0.0
            sa = 0.0
            sd = 0.0
            sx = 0.0
            ok = True
            for i in range(n):
                ci = ce[i]
                r = rh * ci
                a = share * ci
                d = th * ci * s[i] * inv_a1[i]
                x = om * ci * ci
                if guard:  # a cartel cannot lose more than it has: scale its outflows down together
                    out = a + d + x
                    if out > ci + r:
                        f = (ci + r) / out
                        a *= f
                        d *= f
                        x *= f
                v = ci + r - a - d - x
                ok &= v >= 0.0
                cne[i] = max(v, 0.0)
                sr += r
                sa += a
                sd += d
                sx += x
            if ok or guard:
                break
            guard = True
        if accumulate:
            for i in range(n):
                ci = ce[i]
                r = rh * ci
                a = share * ci
                d = th * ci * s[i] * inv_a1[i]
                x = om * ci * ci
                out = a + d + x
                if guard and out > ci + r:
                    f = (ci + r) / out
                    a *= f
                    d *= f
                    x *= f
                acc[e, 0, i] += r
                acc[e, 1, i] += a
                acc[e, 2, i] += d
                acc[e, 3, i] += x
        nat[e, 0] = ct
        nat[e, 1] = sr
        nat[e, 2] = sa
        nat[e, 3] = sd
        nat[e, 4] = sx
        nat[e, 5] = active


@dataclass
class Extension:
    """Per-experiment additions to the conflict term (set by the organisation layer).

    Attributes
    ----------
    inv_a1 : ndarray of float64, shape (E, N')
        1 / (a_i + 1) per experiment and column (N' >= the network's groups: faction columns follow).
    xptr : ndarray of int64, shape (E + 1,)
        Experiment e's extra rivalry weights are entries ``xptr[e]:xptr[e + 1]`` of ``xrow, xcol, xw``.
    xrow, xcol : ndarray of int64
        Rows i and columns j of the extra weights (each direction listed).
    xw : ndarray of float64
        Extra rivalry weight added to R_ij.
    mult : ndarray of float64, shape (E, N')
        Conflict multipliers m_i (1: none).
    any_mult : ndarray of bool, shape (E,)
        Experiments with some m_i != 1 (the others skip the second pressure).
    ncols : ndarray of int64, shape (E,), optional
        Columns in use per experiment (the rest hold no member): the kernel works on these only, so an
        experiment's numbers do not depend on the columns other experiments of its batch added.

    """

    inv_a1: np.ndarray
    xptr: np.ndarray
    xrow: np.ndarray
    xcol: np.ndarray
    xw: np.ndarray
    mult: np.ndarray
    any_mult: np.ndarray
    ncols: np.ndarray | None = None


@numba.njit(cache=True, nogil=True, fastmath=True)
def _pressure_ext(ce, rrow, rptr, rcol, rw, xrow, xcol, xw, lo, hi, s):  # pragma: no cover - jit
    """s_i = (R C)_i + C - C_i plus experiment extra weights (entries lo..hi); return C."""
    ct = _pressure(ce, rrow, rptr, rcol, rw, s)
    for k in range(lo, hi):
        s[xrow[k]] += xw[k] * ce[xcol[k]]
    return ct


@numba.njit(cache=True, nogil=True, fastmath=True)
def _flows_ext(
    c,
    rho,
    eta,
    theta,
    omega,
    rrow,
    rptr,
    rcol,
    rw,
    inv_a1,
    xptr,
    xrow,
    xcol,
    xw,
    mult,
    any_mult,
    ncols,
    rec,
    inc,
    dth,
    ext,
):  # pragma: no cover - jit
    """As ``_flows``, with per-experiment alliance strengths, extra rivalry weights and multipliers."""
    n_e, width = c.shape
    for e in range(n_e):
        n = ncols[e]
        for i in range(n, width):
            rec[e, i] = 0.0
            inc[e, i] = 0.0
            dth[e, i] = 0.0
            ext[e, i] = 0.0
        s = np.empty(n)
        s2 = np.empty(n)
        g = np.empty(n)
        ce = c[e, :n]
        lo, hi = xptr[e], xptr[e + 1]
        ct = _pressure_ext(ce, rrow, rptr, rcol, rw, xrow, xcol, xw, lo, hi, s)
        if any_mult[e]:
            for i in range(n):
                g[i] = (mult[e, i] - 1.0) * ce[i]
                s[i] *= mult[e, i]
            _pressure_ext(g, rrow, rptr, rcol, rw, xrow, xcol, xw, lo, hi, s2)
            for i in range(n):
                s[i] += s2[i]
        share = eta[e] / ct if ct > _TINY else 0.0  # eta / ct overflows once ct is subnormal
        for i in range(n):
            ci = ce[i]
            r = rho[e] * ci
            a = share * ci
            d = theta[e] * ci * s[i] * inv_a1[e, i]
            if d < 0.0:
                d = 0.0
            x = omega[e] * ci * ci
            out = a + d + x
            if out > ci + r:
                f = (ci + r) / out
                a *= f
                d *= f
                x *= f
            rec[e, i] = r
            inc[e, i] = a
            dth[e, i] = d
            ext[e, i] = x


@numba.njit(cache=True, nogil=True, fastmath=True)
def _apply(c, rec, inc, dth, ext):  # pragma: no cover - jit
    n_e, n = c.shape
    for e in range(n_e):
        for i in range(n):
            v = c[e, i] + rec[e, i] - inc[e, i] - dth[e, i] - ext[e, i]
            c[e, i] = v if v > 0.0 else 0.0


class EcosystemModel:
    """Flows of the Prieto-Curiel et al. (2023) model over an ensemble of experiments.

    Parameters
    ----------
    network : Network
        Groups in model order with rivalry and alliance weights.

    """

    def __init__(self, network: Network) -> None:
        self.network = network
        r = network.rivalry.tocsr()
        r.sort_indices()
        rows = np.flatnonzero(np.diff(r.indptr) > 0)  # only cartels with rivals need the sparse product
        self._csr = (
            rows.astype(np.int64),
            np.append(r.indptr[rows], r.indptr[-1]).astype(np.int64),
            r.indices.astype(np.int64),
            r.data.astype(np.float64),
            1.0 / (network.alliance_strength + 1.0),
        )
        self._counted = network.is_cartel.astype(np.float64)

    @property
    def n(self) -> int:
        """Number of cartels."""
        return self.network.n

    def initial_state(self, total: np.ndarray) -> np.ndarray:
        """Deterministic Zipf start for each experiment's total ``C0``: shape ``(E, N)``."""
        return np.asarray(total, dtype=np.float64)[:, None] * self.network.zipf_initial(1.0)[None, :]

    def flows(
        self,
        state: np.ndarray,
        rho: np.ndarray,
        eta: np.ndarray,
        theta: np.ndarray,
        omega: np.ndarray,
        out: Flows | None = None,
        extension: Extension | None = None,
    ) -> Flows:
        """Return this week's expected flows for every experiment and cartel.

        Parameters
        ----------
        state : ndarray, shape (E, N)
            Members C_i at the start of the week.
        rho, eta, theta, omega : ndarray, shape (E,)
            This week's parameters per experiment (see :mod:`cartelsim.params` for units).
        out : Flows, optional
            Buffers to reuse (new ones are made when their shape differs from ``state``'s).
        extension : Extension, optional
            Per-experiment additions of the organisation layer this week (None: the network's kernel alone).

        Notes
        -----
        Incapacitations are ``eta * C_i / C`` (an absolute weekly budget shared by size). Where a
        cartel's outflows would exceed its members plus recruits (only possible far outside the
        calibrated range), they are scaled down together so that C_i stays >= 0; this never happens in
        the reference runs. With an ``extension``, its alliance strengths, extra rivalry weights and
        conflict multipliers apply (see the module docstring).

        """
        if out is None or out.recruits.shape != state.shape:
            out = Flows(*(np.empty_like(state, dtype=np.float64) for _ in range(4)))
        x = extension
        if x is None:
            if state.shape[1] != self.n:
                raise ValueError(f"state has {state.shape[1]} columns; without an extension it must have {self.n}")
            _flows(state, rho, eta, theta, omega, *self._csr, out.recruits, out.incapacitated, out.deaths, out.exits)
        else:
            _flows_ext(
                state,
                rho,
                eta,
                theta,
                omega,
                *self._csr[:4],
                x.inv_a1,
                x.xptr,
                x.xrow,
                x.xcol,
                x.xw,
                x.mult,
                x.any_mult,
                np.full(state.shape[0], state.shape[1], np.int64) if x.ncols is None else x.ncols,
                out.recruits,
                out.incapacitated,
                out.deaths,
                out.exits,
            )
        return out

    def step(
        self,
        state: np.ndarray,
        new_state: np.ndarray,
        rho: np.ndarray,
        eta: np.ndarray,
        theta: np.ndarray,
        omega: np.ndarray,
        national: np.ndarray,
        by_cartel: np.ndarray | None = None,
    ) -> None:
        """Fused Euler step: write ``state`` + this week's flows into ``new_state``.

        ``national`` (shape (E, 6)) receives C, the summed recruits, incapacitations, conflict deaths
        and exits, and the number of active criminal groups (C_i >= 1); ``by_cartel`` (shape (E, 4, N)),
        when given, accumulates the flows per cartel. Same arithmetic as :meth:`flows` followed by
        :meth:`Flows.apply`, in one pass.
        """
        acc = by_cartel if by_cartel is not None else np.empty((0, 4, 0))
        _step(
            state,
            new_state,
            rho,
            eta,
            theta,
            omega,
            *self._csr,
            self._counted,
            national,
            acc,
            by_cartel is not None,
        )

    def deaths_matrix(self, state: np.ndarray, theta: float) -> np.ndarray:
        """Return theta C_i K_ij C_j for one state vector (deaths suffered by i in fights with j per week)."""
        c = np.asarray(state, dtype=np.float64)
        return theta * c[:, None] * self.network.kernel_dense() * c[None, :]
