"""One model parameter's declaration (:class:`ParamSpec`): unit, default, bounds, source, range.

The per-layer lists (:mod:`cartelsim.params.geography`, ``.organisation``, ``.violence``) and the registry
(:mod:`cartelsim.params`) build on it; this module imports nothing of the package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ParamSpec", "short"]


def short(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to about ``limit`` characters with its length said (for error messages)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 10]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class ParamSpec:
    """One model parameter.

    Parameters
    ----------
    name : str
        Machine name; says its unit (``_per_week``, ``_weeks``, ``_share``, ``_probability``, ``_factor``).
    default : float
        Default value.
    low, high : float
        Physical plausibility bounds (inclusive unless ``low_open``).
    unit : str
        Unit in words.
    doc : str
        One-line description.
    source : str
        Citation of the default, or the literal ``"assumption"``.
    range : tuple of float, optional
        Default uncertainty range (uniform) used when every parameter is treated as uncertain.
    low_open : bool
        True when the lower bound is excluded (e.g. a share that must be positive).

    """

    name: str
    default: float
    low: float
    high: float
    unit: str
    doc: str
    source: str
    range: tuple[float, float] | None = None
    low_open: bool = False

    def check(self, value: float) -> float:
        """Return ``value`` as a float, or raise ValueError naming the allowed interval."""
        try:
            v = float(value)
        except (OverflowError, TypeError, ValueError):
            raise ValueError(f"must be a number within [{self.low:g}, {self.high:g}] (got {short(value)})") from None
        lo_ok = v > self.low if self.low_open else v >= self.low
        if math.isnan(v) or not lo_ok or v > self.high:
            left = "(" if self.low_open else "["
            raise ValueError(f"must be within {left}{self.low:g}, {self.high:g}] (got {short(value)})")
        return v

    @property
    def help(self) -> str:
        """One line for CLI help: doc, unit, default, bounds and source."""
        return f"{self.doc} [{self.unit}; default {self.default:g}; bounds {self.low:g}..{self.high:g}; {self.source}]"
