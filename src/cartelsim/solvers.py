"""The adaptive ODE solver option for the ecosystem (``solver = "adaptive"`` in ``[scenario]``).

The default weekly step is explicit Euler with dt = 1 week, the model the authors fitted. Their main run
and scenarios integrate the same equations with an adaptive solver, LSODA (R deSolve), over weeks 0..520;
the two agree within 0.05% (``models/ecosystem-prieto-curiel-2023.md`` section 4: 173,800 members with
Euler against 173,837 with LSODA at week 520). This module integrates each experiment's ODE with
:func:`scipy.integrate.solve_ivp` (``method="LSODA"``) over one week at a time, so that interventions, which
set parameters per week, switch exactly at week boundaries and other layers may change the state between
weeks. The cumulative recruits, incapacitations, conflict deaths and exits of each cartel are integrated
alongside the members (as the authors integrate deaths and recruits), and their increments over the week
are reported as that week's flows; members at the end of the week are members at the start plus recruits
minus the three removals, exactly as in the weekly step.

Each experiment is integrated on its own (never as one system with others), so its numbers do not depend
on the batch it runs in.

Examples
--------
>>> import numpy as np
>>> from cartelsim.ecosystem import EcosystemModel, load_network
>>> m = EcosystemModel(load_network())
>>> c = m.initial_state(np.array([115000.0]))
>>> p = [np.array([v]) for v in (2.527474e-3, 110.0, 1.549231e-8, 4e-8)]
>>> f = AdaptiveSolver(m).integrate_week(c, *p)
>>> round(float(f.deaths.sum()), 1)   # week 0: Euler gives 67.2 (deaths at the start of the week)
67.3

"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from cartelsim.ecosystem import EcosystemModel, Flows

__all__ = ["ATOL", "RTOL", "AdaptiveSolver"]

#: Relative and absolute tolerances (members): R deSolve's defaults for ``lsoda``, which the authors'
#: call does not override as far as the spec records (assumption).
RTOL = 1e-6
ATOL = 1e-6


class AdaptiveSolver:
    """Integrate the ecosystem ODE over one week per call, experiment by experiment.

    Parameters
    ----------
    model : EcosystemModel
        Supplies the instantaneous rates (the weekly flows of :meth:`EcosystemModel.flows` are the rates
        per week of the ODE).
    method : str
        A :func:`scipy.integrate.solve_ivp` method; ``"LSODA"`` as the authors (default).
    rtol, atol : float
        Solver tolerances (see :data:`RTOL`, :data:`ATOL`).

    """

    def __init__(self, model: EcosystemModel, method: str = "LSODA", rtol: float = RTOL, atol: float = ATOL) -> None:
        self.model = model
        self.method = method
        self.rtol = rtol
        self.atol = atol

    def _rhs(
        self, n: int, rho: float, eta: float, theta: float, omega: float
    ) -> Callable[[float, np.ndarray], np.ndarray]:
        """The right-hand side dy/dt of (members, cumulative recruits, incapacitations, deaths, exits)."""
        p_rho, p_eta, p_theta, p_omega = (np.array([v], dtype=np.float64) for v in (rho, eta, theta, omega))
        c = np.empty((1, n))
        buf = Flows(*(np.empty((1, n)) for _ in range(4)))
        dy = np.empty(5 * n)

        def rhs(_t: float, y: np.ndarray) -> np.ndarray:
            np.maximum(y[:n], 0.0, out=c[0])
            f = self.model.flows(c, p_rho, p_eta, p_theta, p_omega, out=buf)
            r, a, d, x = f.recruits[0], f.incapacitated[0], f.deaths[0], f.exits[0]
            dy[:n] = r - a - d - x
            dy[n : 2 * n] = r
            dy[2 * n : 3 * n] = a
            dy[3 * n : 4 * n] = d
            dy[4 * n :] = x
            return dy.copy()

        return rhs

    def integrate_week(
        self,
        state: np.ndarray,
        rho: np.ndarray,
        eta: np.ndarray,
        theta: np.ndarray,
        omega: np.ndarray,
        out: Flows | None = None,
        week: int = 0,
    ) -> Flows:
        """Return each experiment's flows over one week, integrated from ``state`` with this week's parameters.

        Parameters
        ----------
        state : ndarray, shape (E, N)
            Members at the start of the week.
        rho, eta, theta, omega : ndarray, shape (E,)
            This week's parameters (constant during the week).
        out : Flows, optional
            Buffers to fill (e.g. the expected flows of the week, which are replaced).
        week : int
            The absolute week (for messages only; the equations do not depend on time).

        Returns
        -------
        Flows
            Recruits, incapacitations, conflict deaths and exits during the week (members; not whole numbers).

        Raises
        ------
        RuntimeError
            If the solver fails for an experiment.

        """
        n_e, n = state.shape
        if out is None:
            out = Flows(*(np.empty((n_e, n)) for _ in range(4)))
        y0 = np.zeros(5 * n)
        for e in range(n_e):
            y0[:n] = state[e]
            y0[n:] = 0.0
            if not np.isfinite(y0[:n]).all():
                for arr in (out.recruits, out.incapacitated, out.deaths, out.exits):
                    arr[e] = np.nan
                continue
            rhs = self._rhs(n, float(rho[e]), float(eta[e]), float(theta[e]), float(omega[e]))
            sol = solve_ivp(rhs, (week, week + 1), y0, method=self.method, rtol=self.rtol, atol=self.atol)
            if not sol.success:
                raise RuntimeError(f"adaptive solver ({self.method}) failed in week {week}: {sol.message}")
            y = sol.y[:, -1]
            out.recruits[e] = y[n : 2 * n]
            out.incapacitated[e] = y[2 * n : 3 * n]
            out.deaths[e] = y[3 * n : 4 * n]
            out.exits[e] = y[4 * n :]
        return out
