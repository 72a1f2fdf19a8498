"""What a batch of experiments is and what it leaves behind: its specs and its recorded arrays.

A foundation module: the step loop (:mod:`cartelsim.simulation`) fills a :class:`Batch`, and the bundle
code (:mod:`cartelsim.results`) turns one into rows, without either importing the other's side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from cartelsim.recorder import Recorder

__all__ = ["Batch", "ExperimentSpec"]


@dataclass(frozen=True)
class ExperimentSpec:
    """One (policy, replicate) of a scenario.

    ``overrides`` holds parameter values that replace the replicate's draws and the defaults, as
    ``(name, value)`` pairs: a sweep's design row (DESIGN.md, Experiments), the same under every policy.
    """

    experiment_id: int
    policy_index: int
    policy: str
    replicate: int
    seed: int
    overrides: tuple[tuple[str, float], ...] = ()


@dataclass
class Batch:
    """Recorded outcomes of a batch of experiments.

    ``levels[level]`` is ``(group_ids, weeks, {variable: array of shape (E, groups, weeks)})``;
    ``failed`` maps experiment ids to messages (their rows are never written). The ``cartel`` level holds
    the network's groups; factions (organisation layer) differ per experiment: ``factions[e]`` lists
    experiment e's as ``(column, group, parent, label, kind, week created)`` and ``faction_values[v]``
    (shape (E, faction columns, weeks)) their cartel-level values at column - 150 (zeros before the
    fission, and in columns an experiment does not use).
    """

    experiments: list[ExperimentSpec]
    levels: dict[str, tuple[list[str], np.ndarray, dict[str, np.ndarray]]]
    draws: list[dict[str, float]]
    failed: dict[int, str] = field(default_factory=dict)
    factions: list[list[tuple[int, str, str, str, str, int]]] = field(default_factory=list)
    faction_values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_recorder(
        cls,
        experiments: list[ExperimentSpec],
        rec: Recorder,
        draws: list[dict[str, float]],
        failed: dict[int, str],
    ) -> Batch:
        """Collect a recorder's arrays."""
        levels = {lev: (rec.group_ids[lev], rec.weeks(lev), arrs) for lev, arrs in rec.arrays.items() if arrs}
        return cls(experiments, levels, draws, failed)
