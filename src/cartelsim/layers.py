"""The contract between the weekly loop and its layers: one protocol, and one :class:`Week` handed to each.

The loop (:mod:`cartelsim.simulation`) owns the ecosystem state and the order of the steps (DESIGN.md,
Layers). Every simulated week it

1. asks each layer for its :meth:`Layer.extension` of the ecosystem kernel (the organisation layer's
   factions and conflict multipliers; None for a layer that adds none) and computes the ecosystem's flows;
2. calls :meth:`Layer.step` of each layer, in the scenario's order, with the :class:`Week` (a layer may
   rewrite the flows, keeping national totals, and sets what other layers need this week);
3. records the week, applies the flows (the Euler step), and calls :meth:`Layer.write_back` of each layer
   with the same :class:`Week` (a layer may replace the state, e.g. with faction columns added);

and at the end :meth:`Layer.finish`. What one layer needs from another passes through the :class:`Week`
as arguments of that week, never as attributes one layer sets on another or reads from the recorder:
today the organisation layer's trafficking capacity and its conflict deaths folded onto the network's
groups, which the geography layer reads. Layers import this module, never the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from cartelsim.ecosystem import Extension, Flows
    from cartelsim.recorder import Recorder

__all__ = ["Layer", "Week"]


@dataclass
class Week:
    """One simulated week as the loop hands it to each layer.

    Attributes
    ----------
    t : int
        Absolute week: the random streams' week counter (0 = the calibration origin for a scenario).
    w : int
        Recorded week (negative during the spin-up, when only the ecosystem and geography act).
    state : ndarray, shape (E, N')
        Members per group at the start of the week; after the write-back, the state for next week.
    flows : Flows
        This week's ecosystem flows (a layer's step may rewrite them).
    rec : Recorder
        The batch's recorder.
    deaths : ndarray, shape (E, N), optional
        Conflict deaths per network group (factions folded onto their root group), set by the organisation
        layer's write-back; None: ``flows.deaths`` as they are.
    capacity : ndarray, shape (E,), optional
        The cartels' total trafficking capacity at the start of the week (members' scale), set by the
        organisation layer's step; None when that layer is off or inactive.

    """

    t: int
    w: int
    state: np.ndarray
    flows: Flows
    rec: Recorder
    deaths: np.ndarray | None = None
    capacity: np.ndarray | None = None


class Layer(Protocol):
    """What the loop calls on a layer (the ecosystem itself is the loop's, not a layer)."""

    def extension(self, w: int) -> Extension | None:
        """The layer's addition to the ecosystem kernel for recorded week ``w`` (None: none)."""
        ...

    def step(self, week: Week) -> None:
        """Act after the week's ecosystem flows, before they are recorded and applied."""
        ...

    def write_back(self, week: Week) -> None:
        """Act after the Euler step (``week.state`` is next week's state; a layer may replace it)."""
        ...

    def finish(self, rec: Recorder) -> None:
        """Complete the recorded outcomes after the last week (indices against a reference week)."""
        ...
