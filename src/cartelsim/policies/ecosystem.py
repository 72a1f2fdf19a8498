"""Interventions on the ecosystem's parameters: recruitment and incapacitation (DESIGN.md, Interventions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cartelsim.policies.base import Intervention, key

__all__ = ["Incapacitation", "Recruitment"]

RHO = "recruitment_per_member_per_week"
ETA = "incapacitation_per_week"


def _path(paths: dict[str, np.ndarray], base: Mapping[str, float], name: str, n: int) -> np.ndarray:
    if name not in paths:
        paths[name] = np.full(n, base[name], dtype=np.float64)
    return paths[name]


@dataclass(frozen=True)
class Recruitment(Intervention):
    """Multiply recruitment (rho) by ``factor``, optionally ramping linearly from 1 over ``ramp_weeks``.

    Examples
    --------
    >>> import datetime as dt
    >>> Recruitment(start=dt.date(2022, 1, 1), factor=0.5).factor
    0.5

    """

    type = "recruitment"
    layer = "ecosystem"
    factor: float = key(
        "number",
        "multiplies recruitment per member (rho)",
        1.0,
        unit="factor",
        low=0.0,
        high=100.0,
        required=True,
    )
    ramp_weeks: float = key(
        "integer", "weeks of a linear ramp from 1 to factor (0: at once)", 0, unit="weeks", low=0, high=5200
    )

    def apply_params(self, paths: dict[str, np.ndarray], base: Mapping[str, float], mask: np.ndarray) -> None:
        """Scale rho in the active weeks, ramping from the first active week."""
        p = _path(paths, base, RHO, mask.size)
        idx = np.flatnonzero(mask)
        f = np.full(idx.size, float(self.factor))
        ramp = int(self.ramp_weeks)
        if ramp > 0 and idx.size:
            k = np.arange(idx.size, dtype=np.float64)
            f = np.where(k < ramp, 1.0 + (float(self.factor) - 1.0) * (k + 1) / ramp, f)
        p[idx] *= f


@dataclass(frozen=True)
class Incapacitation(Intervention):
    """Scale (``factor``) or set (``per_week``) the weekly incapacitation budget eta; exactly one of the two.

    Examples
    --------
    >>> import datetime as dt
    >>> Incapacitation(start=dt.date(2022, 1, 1), factor=2.0).validate()

    """

    type = "incapacitation"
    layer = "ecosystem"
    factor: float | None = key(
        "number", "multiplies incapacitations per week (eta)", None, unit="factor", low=0.0, high=100.0
    )
    per_week: float | None = key(
        "number", "sets incapacitations per week (eta)", None, unit="members per week", low=0.0, high=5000.0
    )

    def validate(self) -> None:
        """Require exactly one of ``factor`` and ``per_week``."""
        if (self.factor is None) == (self.per_week is None):
            raise ValueError("give exactly one of 'factor' or 'per_week'")

    def apply_params(self, paths: dict[str, np.ndarray], base: Mapping[str, float], mask: np.ndarray) -> None:
        """Scale or set eta in the active weeks."""
        p = _path(paths, base, ETA, mask.size)
        if self.per_week is not None:
            p[mask] = float(self.per_week)
        else:
            p[mask] *= float(self.factor)  # type: ignore[arg-type]
