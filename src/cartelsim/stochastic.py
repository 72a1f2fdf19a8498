"""Stochastic ecosystem runs (``stochastic = true``): integer members and random weekly flows.

The expected weekly flows of :class:`cartelsim.ecosystem.EcosystemModel` become the means of integer
draws, per experiment and cartel (``models/ecosystem-prieto-curiel-2023.md`` sections 2 and 4):

- recruits ~ Poisson(rho C_i);
- incapacitations ~ Poisson(eta C_i / C), independently per cartel. By the Poisson splitting theorem this
  is the same distribution as a national total ~ Poisson(eta) shared out multinomially by C_i / C, so the
  weekly budget eta is kept in expectation and shared by size (choice of this module; the spec leaves it
  open);
- conflict deaths ~ Poisson(theta C_i (K C)_i);
- saturation exits ~ Poisson(omega C_i^2);
- a cartel never loses more members in a week than it has that week (members at the start plus this
  week's recruits, the bound of the Euler step): when the three removals exceed it they are scaled down
  together to exactly that number (largest remainders, ties in the order incapacitations, deaths, exits);
- initial sizes C_i(0) ~ Poisson(Zipf value), as in the authors' main runs (the fit uses the
  deterministic start; spec section 4).

Common random numbers (DESIGN.md, Randomness): each flow has its own named stream (``eco/recruits``,
``eco/incapacitated``, ``eco/deaths``, ``eco/exits``; ``eco/initial`` for the start, at week 0), drawn from
:class:`cartelsim.rng.Streams` with the experiment's replicate seed and the absolute week since 2012.
Every week each stream gives one uniform per cartel slot and each draw inverts the Poisson CDF at its
own uniform, so a draw depends only on (replicate seed, stream, week, cartel, mean): a replicate gives
the same numbers alone or in any batch, a change to one flow never shifts another's draws, and a small
change in a mean moves a draw by at most a little (a monotone coupling). The uniforms are those of
``Streams(seeds).generator(name, week, replicate).random(n)``, computed inside one compiled kernel for the
whole batch (the same counter-based Philox4x64-10 as NumPy's, re-implemented so that the weekly loop over
replicates and streams leaves Python; ``tests/test_stochastic.py`` checks them bit for bit).

Examples
--------
>>> import numpy as np
>>> poisson_inverse(np.array([0.1, 0.5, 0.9]), np.array([3.0, 3.0, 3.0])).tolist()
[1.0, 3.0, 5.0]

"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from cartelsim.ecosystem import Flows
from cartelsim.philox import fill_uniforms, stream_keys

__all__ = ["FLOW_STREAMS", "INITIAL_STREAM", "StochasticFlows", "poisson_inverse"]

#: Stream names of the weekly flows, in the order of :class:`cartelsim.ecosystem.Flows`.
FLOW_STREAMS: tuple[str, ...] = ("eco/recruits", "eco/incapacitated", "eco/deaths", "eco/exits")
#: Stream of the Poisson initial sizes (drawn at week 0).
INITIAL_STREAM = "eco/initial"

# Below this mean the CDF is summed up from 0 (cost ~ mean); above it the search starts at the mode (cost ~
# sqrt(mean)). Any value gives the same draws up to rounding; 30 is a speed choice (assumption).
_SMALL_MEAN = 30.0


@numba.njit(cache=True, nogil=True)
def _pinv(u: float, lam: float) -> float:  # pragma: no cover - jit
    """Smallest k with P(Poisson(lam) <= k) >= u; NaN for a non-finite mean, 0 for a mean <= 0."""
    if not math.isfinite(lam):
        return math.nan
    if lam <= 0.0:
        return 0.0
    if lam < _SMALL_MEAN:
        if u <= 1.0 - lam:  # exp(-lam) >= 1 - lam: most draws of small means end here without exp()
            return 0.0
        p = math.exp(-lam)
        f = p
        k = 0.0
        while f < u:
            k += 1.0
            p *= lam / k
            if p <= f * 1e-17 and k > lam:  # rounding: F stalls just below 1
                break
            f += p
        return k
    m = math.floor(lam)
    pm = math.exp(m * math.log(lam) - lam - math.lgamma(m + 1.0))
    # F(m), summed down from the mode; terms more than 10 sd + 10 below it are < 1e-22 of the total
    lo = max(0.0, m - math.ceil(10.0 * math.sqrt(lam)) - 10.0)
    f = pm
    p = pm
    k = m
    while k > lo:
        p *= k / lam
        k -= 1.0
        f += p
    k = m
    p = pm
    if u <= f:
        while k > 0.0:
            below = f - p
            if below < u:
                break
            f = below
            p *= k / lam
            k -= 1.0
        return k
    while f < u:
        k += 1.0
        p *= lam / k
        if p <= f * 1e-17:
            break
        f += p
    return k


@numba.njit(cache=True, nogil=True)
def _pinv_array(u, lam, out):  # pragma: no cover - jit
    flat_u = u.ravel()
    flat_l = lam.ravel()
    flat_o = out.ravel()
    for i in range(flat_u.shape[0]):
        flat_o[i] = _pinv(flat_u[i], flat_l[i])


@numba.njit(cache=True, nogil=True)
def _draw(keys, week, state, rec, inc, dth, ext):  # pragma: no cover - jit
    """Replace the expected flows by Poisson draws (stream keys ``keys``, shape (E, 4, 2)); cap the removals."""
    n_e, n = state.shape
    u = np.empty((4, n))
    for e in range(n_e):
        for k in range(4):
            fill_uniforms(keys[e, k, 0], keys[e, k, 1], week, u[k])
        for i in range(n):
            r = _pinv(u[0, i], rec[e, i])
            a = _pinv(u[1, i], inc[e, i])
            d = _pinv(u[2, i], dth[e, i])
            x = _pinv(u[3, i], ext[e, i])
            have = state[e, i] + r
            out = a + d + x
            if out > have:
                # scale the removals to exactly the members the cartel has; whole members by largest remainder
                f = have / out
                fa, fd, fx = a * f, d * f, x * f
                a, d, x = math.floor(fa), math.floor(fd), math.floor(fx)
                left = have - a - d - x
                ra, rd, rx = fa - a, fd - d, fx - x
                while left >= 1.0:
                    if ra >= rd and ra >= rx:
                        a += 1.0
                        ra = -1.0
                    elif rd >= rx:
                        d += 1.0
                        rd = -1.0
                    else:
                        x += 1.0
                        rx = -1.0
                    left -= 1.0
            rec[e, i] = r
            inc[e, i] = a
            dth[e, i] = d
            ext[e, i] = x


def poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Return Poisson(``mean``) draws by inverting the CDF at uniforms ``u``.

    Parameters
    ----------
    u : ndarray
        Uniforms in [0, 1).
    mean : ndarray
        Poisson means (same shape); a mean <= 0 gives 0, a non-finite mean gives NaN.

    Returns
    -------
    ndarray of float64
        Whole numbers, the smallest k with P(Poisson(mean) <= k) >= u (to double precision).

    """
    u = np.ascontiguousarray(u, dtype=np.float64)
    lam = np.ascontiguousarray(np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape))
    out = np.empty_like(u)
    _pinv_array(u, lam, out)
    return out


class StochasticFlows:
    """Integer weekly flows and Poisson initial sizes for a batch of experiments.

    Parameters
    ----------
    seeds : sequence of int
        The experiments' replicate seeds, in batch order.

    Examples
    --------
    >>> import numpy as np
    >>> from cartelsim.ecosystem import EcosystemModel, load_network
    >>> m = EcosystemModel(load_network())
    >>> sampler = StochasticFlows([11, 12])
    >>> c = sampler.initial_state(m.initial_state(np.array([115000.0, 115000.0])))
    >>> bool((c == np.round(c)).all()), c.shape
    (True, (2, 150))
    >>> f = m.flows(c, *(np.full(2, v) for v in (2.527474e-3, 110.0, 1.549231e-8, 4e-8)))
    >>> sampler.sample(f, c, week=0)
    >>> bool((f.deaths == np.round(f.deaths)).all())
    True

    """

    def __init__(self, seeds: Sequence[int]) -> None:
        self.seeds = [int(s) for s in seeds]
        self._keys = np.stack([stream_keys(self.seeds, name) for name in FLOW_STREAMS], axis=1)
        self._keys = self._keys.reshape(len(self.seeds), len(FLOW_STREAMS), 2)

    def uniforms(self, name: str, week: int, n: int) -> np.ndarray:
        """Return the first ``n`` uniforms of stream ``name`` at ``week`` for every experiment: shape (E, n).

        Equal, bit for bit, to ``Streams(seeds).generator(name, week, e).random(n)`` for each experiment e.
        """
        out = np.empty((len(self.seeds), n))
        for e, k in enumerate(stream_keys(self.seeds, name)):
            fill_uniforms(k[0], k[1], week, out[e])
        return out

    def initial_state(self, expected: np.ndarray) -> np.ndarray:
        """Return C_i(0) ~ Poisson(``expected``) (shape (E, N): the deterministic Zipf start)."""
        return poisson_inverse(self.uniforms(INITIAL_STREAM, 0, expected.shape[1]), expected)

    def sample(self, flows: Flows, state: np.ndarray, week: int) -> None:
        """Replace ``flows`` (the expected flows of ``state`` at absolute ``week``) by integer draws, in place.

        ``state`` (shape (E, N)) is not changed; removals are capped at the members each cartel has that
        week (see the module docstring).
        """
        if week < 0:
            raise ValueError(f"week must be >= 0 (got {week})")
        _draw(self._keys, week, state, flows.recruits, flows.incapacitated, flows.deaths, flows.exits)

    @classmethod
    def start(cls, state: np.ndarray, seeds: Sequence[int]) -> StochasticFlows:
        """Draw the Poisson start into ``state`` (in place; it holds the Zipf values) and return a sampler."""
        sampler = cls(seeds)
        state[:] = sampler.initial_state(state)
        return sampler
