"""Generate the organisation layer from the ecosystem state at the scenario's start (``models/organisation.md``).

For each experiment and cartel with C members (continuous, from the ecosystem after the spin-up), at
``organisation_scale`` s agents per member:

- round(s C) agents; max(1, round(s C / ``cell_size_mean_members``)) cells (one per plaza; every cartel
  has one), with gamma weights of coefficient of variation ``cell_size_cv`` (mean 1) setting each cell's
  expected share of the cartel's members;
- leaders: 1 plus 1 per ``members_per_extra_leader`` members, at most ``leaders_per_cartel_max``, times s
  (stochastically rounded), in the cartel's first cell; the other agents join cells by weight;
- one plaza boss per non-empty cell; the rest take roles with the ``role_share_*`` probabilities (the rest
  gunmen; :func:`~cartelsim.organisation.roles.role_shares`);
- assets per cell: ``safe_houses_per_cell``, ``warehouses_per_cell``, ``vehicles_per_cell`` and, only when
  the geography layer is on (producing regions), ``labs_per_cell``: the integer part plus one more with
  probability the fractional part.

Everything is synthetic; the generator is the stream ``org/generate`` of each replicate at the start week,
so a replicate generates the same organisation under every policy that leaves the spin-up alone.

Examples
--------
>>> import numpy as np
>>> from cartelsim.params import defaults
>>> m, cells, a = generate(np.array([[120.0, 30.0]]), [defaults()], [7], week=0)
>>> m.counts().tolist(), cells.first.tolist()
([[120, 30]], [[0, 2, 3]])
>>> int(m.role_counts()[0, 0, 0]), int(m.role_counts()[0, :, 1].sum())
(1, 3)

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cartelsim.organisation.assets import Assets
from cartelsim.organisation.cells import Cells
from cartelsim.organisation.members import Members
from cartelsim.organisation.roles import (
    ASSET_KINDS,
    LAB,
    LEADER,
    PLAZA_BOSS,
    role_shares,
)
from cartelsim.rng import Streams

__all__ = ["generate"]

_PER_CELL = {
    "safe_house": "safe_houses_per_cell",
    "warehouse": "warehouses_per_cell",
    "lab": "labs_per_cell",
    "vehicle": "vehicles_per_cell",
}


def _stochastic_round(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
    base = np.floor(x)
    return (base + (g.random(x.shape) < x - base)).astype(np.int64)


def _one(
    c: np.ndarray, p: Mapping[str, float], g: np.random.Generator, labs: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One experiment: agents (cartel, cell, role), cells (cartel, cum, first) and assets (cell, kind)."""
    n = c.size
    s = p["organisation_scale"]
    m = np.maximum(np.rint(s * c), 0).astype(np.int64)
    n_cells = np.maximum(1, np.rint(m / p["cell_size_mean_members"])).astype(np.int64)
    first = np.zeros(n + 1, np.int64)
    first[1:] = np.cumsum(n_cells)
    cell_cartel = np.repeat(np.arange(n), n_cells)
    cv = p["cell_size_cv"]
    w = g.gamma(1.0 / cv**2, cv**2, size=cell_cartel.size) if cv > 0 else np.ones(cell_cartel.size)
    w = w / np.repeat(np.add.reduceat(w, first[:-1]), n_cells)
    cs = np.cumsum(w)
    cum = cs - np.repeat(cs[first[:-1]] - w[first[:-1]], n_cells)
    cum[first[1:] - 1] = 1.0

    lead_members = np.minimum(
        np.floor(p["leaders_per_cartel_max"] + 0.5), 1.0 + np.floor(c / p["members_per_extra_leader"])
    )
    leaders = np.minimum(_stochastic_round(s * np.where(m > 0, lead_members, 0.0), g), m)
    rest = m - leaders
    per_cell = np.zeros(cell_cartel.size, np.int64)
    for i in np.flatnonzero(rest > 0):
        per_cell[first[i] : first[i + 1]] = g.multinomial(rest[i], w[first[i] : first[i + 1]])
    cell = np.repeat(np.arange(cell_cartel.size), per_cell)
    own = cell_cartel[cell]
    role = np.searchsorted(np.cumsum(role_shares(p))[:-1], g.random(own.size), side="right").astype(np.int8)
    role[(np.cumsum(per_cell) - per_cell)[per_cell > 0]] = PLAZA_BOSS  # one per non-empty cell
    lead_cartel = np.repeat(np.arange(n), leaders)
    cartel = np.concatenate([lead_cartel, own])
    cells_of = np.concatenate([first[lead_cartel], cell])
    roles = np.concatenate([np.full(lead_cartel.size, LEADER, np.int8), role])

    a_cell, a_kind = [], []
    for k, name in enumerate(ASSET_KINDS):
        mean = p[_PER_CELL[name]] if (k != LAB or labs) else 0.0
        cnt = _stochastic_round(np.full(cell_cartel.size, mean), g)
        a_cell.append(np.repeat(np.arange(cell_cartel.size), cnt))
        a_kind.append(np.full(int(cnt.sum()), k, np.int8))
    return (
        cartel,
        cells_of,
        roles,
        cell_cartel,
        cum,
        first,
        np.concatenate(a_cell),
        np.concatenate(a_kind),
    )


def generate(
    state: np.ndarray,
    params: Sequence[Mapping[str, float]],
    seeds: Sequence[int],
    week: int,
    labs: bool = False,
) -> tuple[Members, Cells, Assets]:
    """Generate members, cells and assets for every experiment from the ecosystem ``state`` (E, N).

    Parameters
    ----------
    state : ndarray, shape (E, N)
        Members per cartel (continuous) at the start.
    params : sequence of mappings
        Each experiment's parameters.
    seeds : sequence of int
        Replicate seeds (stream ``org/generate`` at ``week``).
    week : int
        Absolute week of the start (the generator's counter).
    labs : bool
        Place labs (only when the geography layer is on).

    """
    n_e, n = state.shape
    streams = Streams(seeds)
    parts = [_one(state[e], params[e], streams.generator("org/generate", week, e), labs) for e in range(n_e)]
    n_cells = max(int(x[5][-1]) for x in parts)
    members = Members.from_arrays([x[0] for x in parts], [x[1] for x in parts], [x[2] for x in parts], n, n_cells)
    cells = Cells(
        cartel=np.full((n_e, n_cells), -1, np.int32),
        cum=np.ones((n_e, n_cells)),
        first=np.stack([x[5] for x in parts]).astype(np.int32),
    )
    for e, x in enumerate(parts):
        cells.cartel[e, : x[3].size] = x[3]
        cells.cum[e, : x[4].size] = x[4]
    assets = Assets.from_arrays([x[6] for x in parts], [x[7] for x in parts], [x[3] for x in parts], n, n_cells)
    return members, cells, assets
