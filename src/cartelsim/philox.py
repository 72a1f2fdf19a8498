"""Counter-based random numbers inside compiled kernels: NumPy's Philox4x64-10, keyed as :mod:`cartelsim.rng`.

:class:`cartelsim.rng.Streams` gives the generator of a named decision at week t as
``Generator(Philox(key=SeedSequence([seed, stable_hash(name)]).generate_state(2), counter=(0, 0, 0, t)))``.
The kernels here compute the same numbers without leaving compiled code:

- :func:`fill_uniforms` reproduces ``Streams(...).generator(name, week, r).random(n)`` bit for bit (the
  stochastic ecosystem draws one uniform per cartel slot per week this way);
- :func:`uniform` / :func:`uniform2` put a decision's own coordinates (cartel, removal type, event number,
  member slot, ...) in the other counter words instead of a running position, so a number depends only on
  (replicate seed, name, week, coordinates): draws "for every slot" without storing them (the organisation
  layer's decisions).

Examples
--------
>>> import numpy as np
>>> from cartelsim.rng import Streams
>>> k = stream_keys([7], "demo")
>>> out = np.empty(5)
>>> fill_uniforms(k[0, 0], k[0, 1], 3, out)
>>> bool((out == Streams([7]).generator("demo", 3, 0).random(5)).all())
True
>>> u = uniform(k[0, 0], k[0, 1], 3, 1, 2, 700)
>>> 0.0 <= u < 1.0, u == uniform(k[0, 0], k[0, 1], 3, 1, 2, 700)
(True, True)

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from cartelsim.rng import stable_hash

__all__ = ["fill_uniforms", "philox", "stream_keys", "uniform", "uniform2"]

# Philox4x64-10 (Salmon et al., SC'11, Random123), as NumPy implements it
_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_U11 = np.uint64(11)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53, NumPy's next_double


def stream_keys(seeds: Sequence[int], name: str) -> np.ndarray:
    """Return the Philox keys of decision ``name`` for each replicate seed: shape (E, 2), uint64."""
    h = stable_hash(name)
    return np.array([np.random.SeedSequence([int(s), h]).generate_state(2, np.uint64) for s in seeds], np.uint64)


def _mulhilo_typed(typingctx, a, b):  # pragma: no cover - jit
    """The high and low words of the 128-bit product of two uint64 (one machine multiply)."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        hi = builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))
        lo = builder.trunc(p, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


_mulhilo: Any = intrinsic(_mulhilo_typed)


@numba.njit(cache=True, nogil=True)
def philox(k0, k1, c0, c1, c2, c3):  # pragma: no cover - jit
    """Return the four 64-bit words of Philox4x64-10 for key (k0, k1) and counter (c0, c1, c2, c3)."""
    x0, x1, x2, x3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
    a0, a1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        hi0, lo0 = _mulhilo(_M0, x0)
        hi1, lo1 = _mulhilo(_M1, x2)
        x0, x1, x2, x3 = hi1 ^ x1 ^ a0, lo1, hi0 ^ x3 ^ a1, lo0
        a0 += _W0
        a1 += _W1
    return x0, x1, x2, x3


@numba.njit(cache=True, nogil=True)
def uniform(k0, k1, a, b, c, week):  # pragma: no cover - jit
    """One uniform on [0, 1) for coordinates (a, b, c) of a decision at absolute ``week``."""
    x0, _, _, _ = philox(k0, k1, a, b, c, week)
    return float(x0 >> _U11) * _TO_DOUBLE


@numba.njit(cache=True, nogil=True)
def uniform2(k0, k1, a, b, c, week):  # pragma: no cover - jit
    """Two independent uniforms on [0, 1) for the same coordinates (two words of one Philox block)."""
    x0, x1, _, _ = philox(k0, k1, a, b, c, week)
    return float(x0 >> _U11) * _TO_DOUBLE, float(x1 >> _U11) * _TO_DOUBLE


@numba.njit(cache=True, nogil=True)
def fill_uniforms(k0, k1, week, out):  # pragma: no cover - jit
    """Fill ``out`` as ``Generator(Philox(key=(k0, k1)))`` with counter (0, 0, 0, week) would ``random()``."""
    n = out.shape[0]
    ctr = _ZERO
    i = 0
    while i < n:
        ctr += _ONE  # NumPy increments the counter before each block of four words
        x = philox(k0, k1, ctr, _ZERO, _ZERO, week)
        for j in range(4):
            if i + j < n:
                out[i + j] = float(x[j] >> _U11) * _TO_DOUBLE
        i += 4
