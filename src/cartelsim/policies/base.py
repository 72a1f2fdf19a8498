"""The intervention base class and key declarations every policy module builds on (imports no policy)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from cartelsim.distributions import Distribution

__all__ = ["Intervention", "KeySpec", "key", "key_specs"]


@dataclass(frozen=True)
class KeySpec:
    """How one intervention key is validated.

    ``kind`` is ``"number"`` (bounds ``low``..``high``, may be a distribution table), ``"choice"`` (one of
    ``choices``), ``"codes"`` (a list of strings matching ``pattern``, or the word in ``choices``) or
    ``"integer"``.
    """

    name: str
    kind: str
    doc: str
    unit: str = ""
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    required: bool = False


def key(kind: str, doc: str, default: Any = None, **meta: Any) -> Any:
    """Declare an intervention key as a dataclass field carrying its :class:`KeySpec` metadata."""
    required = meta.pop("required", False)
    return field(default=default, metadata={"spec": dict(kind=kind, doc=doc, required=required, **meta)})


def key_specs(cls: type) -> list[KeySpec]:
    """Return the key specs of an intervention class, in declaration order (start/end excluded)."""
    return [KeySpec(name=f.name, **f.metadata["spec"]) for f in fields(cls) if "spec" in f.metadata]


@dataclass(frozen=True)
class Intervention:
    """Base of every intervention: the weeks it acts (absolute weeks since the calibration origin).

    Subclasses set ``type`` and ``layer`` and declare their keys with :func:`key`.
    """

    type: ClassVar[str] = ""
    layer: ClassVar[str] = ""
    start: dt.date = dt.date(2012, 1, 1)
    end: dt.date | None = None

    def active(self, weeks: np.ndarray, week_of: Any) -> np.ndarray:
        """Return a boolean mask over absolute ``weeks``: True from ``start`` to before ``end``."""
        mask = weeks >= week_of(self.start)
        if self.end is not None:
            mask &= weeks < week_of(self.end)
        return np.asarray(mask)

    def uncertain_keys(self) -> dict[str, Distribution]:
        """Return the keys given as distribution tables (to be drawn once per replicate)."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Distribution)}

    def validate(self) -> None:
        """Check cross-key rules (e.g. exactly one of two keys); raise ValueError naming the keys."""

    def apply_params(self, paths: dict[str, np.ndarray], base: Mapping[str, float], mask: np.ndarray) -> None:
        """Change parameter paths (one value per week) in place; default: nothing (other layers act)."""
