"""A single leader removal beside its paired counterfactual: the kingpin studies' design, in the model.

For each replicate three experiments share one seed (so the same synthetic members and the same draws
until the removal): a control, a capture and a killing of one leader at week 0 of the run (2012-01-01,
the ecosystem's calibration origin, the closest the model gets to the studies' 2007-2010). The leader's
cartel is drawn in proportion to members (the ecosystem's rule for arrests) and the leader uniformly
within it: a rate applied to synthetic members, never a person. Measured:

- in the removed leader's places (its cell, followed through a fission; :meth:`OrganisationLayer.local_deaths`),
  the cartel's conflict deaths over months 0-6 and 0-12 beside the control's in the same cell, pooled over
  replicates (Calderon et al. 2015; Lindo & Padilla-Romo 2015);
- the national estimated victims (conflict deaths / ``victim_share_cartel``) over four years, treated
  minus control, per removal (Dickenson 2014);
- the share of removals followed by a fission.

Examples
--------
>>> r = single_removal(replicates=2, weeks=30, scale=0.05)
>>> sorted(r.local)
['capture', 'killing']
>>> r.fission_share["capture"] <= 1.0
True

"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from cartelsim.ecosystem import EcosystemModel, Flows
from cartelsim.network import load_network
from cartelsim.organisation.layer import OrganisationLayer
from cartelsim.params import defaults
from cartelsim.rng import Streams, replicate_seeds
from cartelsim.simulation import run_weeks

__all__ = ["MODES", "SingleRemoval", "single_removal"]

MODES: tuple[str, ...] = ("capture", "killing")
WEEKS_6M, WEEKS_12M, WEEKS_4Y = 26, 52, 208


@dataclass
class SingleRemoval:
    """Results of :func:`single_removal`, per mode (``capture``, ``killing``).

    ``local[mode][window]``: the pooled rise of the cartel's conflict deaths in the removed leader's places
    (0.365 = +36.5%) over the window (``"0-6m"``, ``"0-12m"``, ``"6-12m"``); ``extra_victims[mode]``: mean
    estimated victims added nationally per removal over the run (``extra_victims_se``: its standard error
    over replicates); ``fission_share[mode]``: share of removals followed by a fission.
    """

    replicates: int
    weeks: int
    local: dict[str, dict[str, float]] = field(default_factory=dict)
    extra_victims: dict[str, float] = field(default_factory=dict)
    extra_victims_se: dict[str, float] = field(default_factory=dict)
    fission_share: dict[str, float] = field(default_factory=dict)


def single_removal(
    replicates: int = 40,
    weeks: int = WEEKS_4Y,
    scale: float = 0.5,
    seed: int = 20070101,
    overrides: Mapping[str, float] | None = None,
) -> SingleRemoval:
    """Run the paired single-removal experiment (see the module docstring).

    Parameters
    ----------
    replicates : int
        Pairs (each a control, a capture and a killing).
    weeks : int
        Weeks after the removal (208: Dickenson's four years).
    scale : float
        ``organisation_scale`` (agents per member; the local measure is a share, so any scale measures it).
    seed : int
        Master seed of the replicates.
    overrides : mapping, optional
        Parameter values (e.g. candidate values in the calibration).

    """
    p = defaults({"organisation_scale": scale, **(overrides or {})})
    seeds = replicate_seeds(seed, replicates)
    net = load_network()
    c0 = EcosystemModel(net).initial_state(np.array([p["initial_members"]]))[0]
    streams = Streams(seeds)
    cartels = []
    for r in range(replicates):  # the leader's cartel, in proportion to members
        u = streams.generator("validation/kingpin_cartel", 0, r).random()
        cartels.append(int(np.searchsorted(np.cumsum(c0) / c0.sum(), u, side="right")))
    n_e = 3 * replicates
    run_seeds = [s for s in seeds for _ in range(3)]
    where = np.repeat(np.array(cartels, np.int64), 3)
    counts = np.tile(np.array([0, 1, 1], np.int64), replicates)
    killing = np.tile(np.array([False, False, True]), replicates)
    local = np.zeros((n_e, weeks))
    cell = np.full(n_e, -1, np.int64)

    def before(w: int, state: np.ndarray, layer: OrganisationLayer, flows: Flows | None) -> None:
        if w == 0:
            layer.queue_removals(counts, killing, where)

    def after(w: int, state: np.ndarray, layer: OrganisationLayer, flows: Flows | None) -> None:
        assert flows is not None
        if w == 0:  # the removed leaders' cells: the treated experiments' episodes opened this week
            ep = layer.episodes
            for e, c in zip(ep.e.tolist(), ep.cell.tolist(), strict=True):
                if cell[e] < 0:
                    cell[e] = c
            for r in range(replicates):
                k = cell[3 * r + 1]
                cell[3 * r] = k  # the control's same cell (the same members until the removal)
                for j in (0, 1, 2):
                    if cell[3 * r + j] >= 0:
                        layer.tracked[3 * r + j] = int(cell[3 * r + j])
        for e, k in layer.tracked.items():
            local[e, w] = layer.local_deaths(flows.deaths, e, k)

    out = run_weeks(np.tile(c0, (n_e, 1)), [p] * n_e, run_seeds, weeks, before=before, after=after)
    deaths = out.national["new_conflict_deaths"]
    res = SingleRemoval(replicates, weeks)
    ok = cell[0::3] >= 0
    for j, mode in enumerate(MODES, start=1):
        ctrl, trt = local[0::3][ok], local[j::3][ok]
        res.local[mode] = {
            name: float(trt[:, a:b].sum() / ctrl[:, a:b].sum() - 1.0) if ctrl[:, a:b].sum() > 0 else float("nan")
            for name, a, b in (("0-6m", 0, WEEKS_6M), ("0-12m", 0, WEEKS_12M), ("6-12m", WEEKS_6M, WEEKS_12M))
        }
        extra = (deaths[j::3] - deaths[0::3]).sum(1) / p["victim_share_cartel"]
        res.extra_victims[mode] = float(extra.mean())
        res.extra_victims_se[mode] = float(extra.std(ddof=1) / np.sqrt(extra.size)) if extra.size > 1 else float("nan")
        res.fission_share[mode] = float((out.layer.n_fissions[j::3] > 0).mean())
    return res
