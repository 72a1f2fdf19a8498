"""Violence in space: each cartel's conflict deaths allocated to the municipalities where it operates.

Spec: ``models/routes-dell-2015.md`` ("Violence in space", "How the layer couples", §2.2 data caveats).

**Presence weights.** Each cartel ``i`` gets a weight vector ``P_i`` over the 2,469 municipalities
(summing to 1) built from the bundled UCDP GED conflict events (``ucdp_ged_mexico``) of **2012-2016
only** (:data:`WEIGHT_YEARS`; later events, and all homicide data, never enter the weights):

- every event in which the cartel is a side (either side; a faction counts for its organisation) gets
  a mass ``(1 - lam) / n_i + lam * best_e / B_i`` (``n_i`` its events, ``B_i`` their summed best
  fatality estimates; ``lam`` = ``violence_fatality_weight_share``);
- the mass goes ``1 - s`` to the event's municipality (its INEGI code, matched from UCDP's name; an
  event with only a state is spread over the state) and ``s`` over the event's state, by population
  (``s`` = ``violence_state_spread_share``);
- a share ``b`` (``violence_background_share``) of the cartel's deaths is spread over all
  municipalities by population: violence away from its recorded places.

A group UCDP never records in 2012-2016 (most of the 150) falls back on the state BACRIM lists it
under: a share ``f`` (``violence_listed_state_share``) spread over that state by population (an
assumption: BACRIM's listed state is often not where a group fights), the rest over all municipalities
by population. Populations are the 2020 census (``mx_municipalities``), an assumption for 2012-2016.
The four mixing parameters were fitted on 2012-2016 only (``data-raw/fit_violence_weights.py``).

**Route exposure.** Dell (2015) finds that municipalities onto which trafficking routes are diverted
see more drug-related violence. A municipality *diverted onto* (routes there now, none at the
reference: :func:`cartelsim.geography.routes.diverted_onto`) has its weight multiplied by
``violence_diverted_route_factor`` (assumption, default 1.2) in every cartel's ``P_i``, which is then
renormalised: the uplift moves deaths, it never creates them.

Each row of the result sums to the national deaths of its experiment (to float rounding), and each
state is the sum of its municipalities.

Examples
--------
>>> import numpy as np
>>> from cartelsim.network import load_network
>>> ids = load_network().ids
>>> deaths = np.zeros((1, len(ids)))
>>> deaths[0, ids.index("N10025")] = 100.0  # CJNG
>>> states, munis = allocate_deaths(deaths, ids, None, None, {})
>>> states.shape, munis.shape, round(float(munis.sum()), 9), bool(np.allclose(states.sum(), 100.0))
((1, 32), (1, 2469), 100.0, True)

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartelsim import places
from cartelsim.data import data_path
from cartelsim.geography.routes import diverted_onto
from cartelsim.params.violence import PRESENCE_NAMES, defaults

__all__ = [
    "STATE_CODES",
    "WEIGHT_YEARS",
    "PresenceParts",
    "allocate_deaths",
    "homicides_by_municipality",
    "homicides_by_state",
    "presence_parts",
    "presence_weights",
    "state_totals",
    "ucdp_events",
]

FloatArray = npt.NDArray[np.float64]

#: UCDP events of these years (inclusive) make the presence weights; 2017-2021 is held out for validation.
WEIGHT_YEARS: tuple[int, int] = (2012, 2016)


def _read(dataset: str, filename: str, str_columns: tuple[str, ...]) -> pd.DataFrame:
    with data_path(dataset, filename).open("rb") as fh:
        return pd.read_csv(fh, dtype=dict.fromkeys(str_columns, str), keep_default_na=False, encoding="utf-8")


@lru_cache(maxsize=1)
def _ucdp_events() -> pd.DataFrame:
    return _read(
        "ucdp_ged_mexico",
        "events.csv",
        ("state_code", "municipality_code", "municipality_match", "side_a_node", "side_b_node", "non_bacrim_side"),
    )


def ucdp_events() -> pd.DataFrame:
    """Return the bundled UCDP GED cartel-vs-cartel events, 2012-2019 (all years; ids and codes only).

    Returns
    -------
    pandas.DataFrame
        Columns ``event_id``, ``year``, ``state_code`` (2 digits, ``""`` if none), ``municipality_code``
        (5 digits, ``""`` where unmatched), ``municipality_match``, ``where_prec``, ``side_a_node``,
        ``side_a_is_faction``, ``side_b_node``, ``side_b_is_faction``, ``non_bacrim_side`` and ``best``
        (fatalities). The allocation uses only the years of :data:`WEIGHT_YEARS`.

    """
    return _ucdp_events().copy()


@lru_cache(maxsize=1)
def _homicides_state() -> pd.DataFrame:
    return _read("mx_homicides", "state_year.csv", ("state_code",))


def homicides_by_state() -> pd.DataFrame:
    """Return INEGI homicides by state and year, 2000-2022 (counts; for validation and fitting only).

    Returns
    -------
    pandas.DataFrame
        Columns ``state_code``, ``year``, ``homicides`` (persons, by place of occurrence).

    """
    return _homicides_state().copy()


@lru_cache(maxsize=1)
def _homicides_municipality() -> pd.DataFrame:
    return _read("mx_homicides", "municipality_year.csv", ("code",))


def homicides_by_municipality() -> pd.DataFrame:
    """Return INEGI homicides by municipality and year, 2000-2021 (counts; for validation and fitting only).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (5-digit INEGI code), ``year``, ``homicides`` (persons).

    """
    return _homicides_municipality().copy()


@lru_cache(maxsize=1)
def _geography() -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64], FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Municipality codes, their state positions, within-state population spreads (32, M), national spread, starts."""
    muni = places.municipalities()
    states = places.states()["state_code"].to_numpy(dtype=str)
    codes = muni["code"].to_numpy(dtype=str)
    if not np.all(codes[1:] > codes[:-1]):
        raise ValueError("municipalities must be sorted by code")
    pos = np.searchsorted(states, muni["state_code"].to_numpy(dtype=str)).astype(np.int64)
    pop = muni["pop_2020"].to_numpy(dtype=np.float64)
    spread = np.zeros((states.size, codes.size))
    spread[pos, np.arange(codes.size)] = pop
    spread /= spread.sum(axis=1, keepdims=True)
    starts = np.searchsorted(pos, np.arange(states.size))
    return codes, pos, spread, pop / pop.sum(), starts


#: The 32 state codes, in the order of the allocation's state columns.
STATE_CODES: tuple[str, ...] = tuple(f"{k:02d}" for k in range(1, 33))


def state_totals(municipal: npt.ArrayLike) -> FloatArray:
    """Sum municipal values (last axis in ``mx_municipalities`` order) to the 32 states.

    Parameters
    ----------
    municipal : array_like, shape (..., 2469)
        Values per municipality.

    Returns
    -------
    numpy.ndarray, shape (..., 32)
        Values per state, in :data:`STATE_CODES` order; each is the sum of its municipalities.

    """
    starts = _geography()[4]
    return np.asarray(np.add.reduceat(np.asarray(municipal, dtype=np.float64), starts, axis=-1), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PresenceParts:
    """The building blocks of the presence weights of a list of cartels (one row per cartel).

    Each ``(N, M)`` array has rows summing to 1 (or 0 for a cartel with no such part):
    ``count_municipal`` / ``fatal_municipal`` place each event's mass (equal per event, or by best
    fatalities) in its municipality (or over its state when none is matched); ``count_state`` /
    ``fatal_state`` spread the same masses over the events' states by population; ``listed`` spreads
    over the BACRIM listed state by population; ``national`` spreads over Mexico by population.

    Attributes
    ----------
    cartel_ids : tuple of str
        Node ids (factions ``<parent>.<k>`` take their parent's events and listed state).
    recorded : numpy.ndarray of bool, shape (N,)
        Whether UCDP records the cartel in 2012-2016 (with a state).
    n_events : numpy.ndarray of int64, shape (N,)
        Its events in 2012-2016.
    count_municipal, count_state, fatal_municipal, fatal_state, listed : numpy.ndarray, shape (N, M)
    national : numpy.ndarray, shape (M,)

    """

    cartel_ids: tuple[str, ...]
    recorded: npt.NDArray[np.bool_]
    n_events: npt.NDArray[np.int64]
    count_municipal: FloatArray
    count_state: FloatArray
    fatal_municipal: FloatArray
    fatal_state: FloatArray
    listed: FloatArray
    national: FloatArray

    def weights(
        self,
        fatality_weight_share: float,
        background_share: float,
        listed_state_share: float,
        state_spread_share: float,
    ) -> FloatArray:
        """Return the presence weights ``(N, M)``, each row summing to 1.

        Parameters
        ----------
        fatality_weight_share, background_share, listed_state_share, state_spread_share : float
            The mixing shares (``violence_*`` parameters), each in [0, 1].

        """
        lam, b, f, s = (
            float(x) for x in (fatality_weight_share, background_share, listed_state_share, state_spread_share)
        )
        for name, v in zip(PRESENCE_NAMES, (lam, b, f, s), strict=True):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1] (got {v!r})")
        events = (1 - lam) * ((1 - s) * self.count_municipal + s * self.count_state) + lam * (
            (1 - s) * self.fatal_municipal + s * self.fatal_state
        )
        nat = self.national[None, :]
        rec = self.recorded[:, None]
        return np.where(rec, (1 - b) * events + b * nat, f * self.listed + (1 - f) * nat)


def _parent(node: str) -> str:
    return node.split(".", 1)[0]


def presence_parts(cartel_ids: Sequence[str], events: pd.DataFrame | None = None) -> PresenceParts:
    """Build the presence parts of ``cartel_ids`` from UCDP events of :data:`WEIGHT_YEARS` only.

    Parameters
    ----------
    cartel_ids : sequence of str
        BACRIM node ids (``N10025``) or factions (``N10025.1``, which take their parent's rows).
    events : pandas.DataFrame, optional
        An events table shaped like :func:`ucdp_events` (default: the bundled one). Rows outside
        :data:`WEIGHT_YEARS` are dropped here, whatever they hold.

    Returns
    -------
    PresenceParts

    Raises
    ------
    KeyError
        If an id (or a faction's parent) is not a node of the BACRIM network.

    """
    from cartelsim.network import load_network

    ids = tuple(str(c) for c in cartel_ids)
    net = load_network()
    listed_of = dict(zip(net.ids, net.listed_states, strict=True))
    parents = [_parent(c) for c in ids]
    unknown = sorted({p for p in parents if p not in listed_of})
    if unknown:
        raise KeyError(f"unknown cartel ids (not BACRIM nodes): {', '.join(unknown)}")
    codes, _, spread, national, _ = _geography()
    n_states, m = spread.shape
    state_by_name = dict(zip(places.states()["name"], range(n_states), strict=True))

    ev = ucdp_events() if events is None else events
    lo, hi = WEIGHT_YEARS
    ev = ev[(ev["year"] >= lo) & (ev["year"] <= hi) & (ev["state_code"] != "")]
    ev = ev.sort_values("event_id", kind="stable")
    # one (node, event) pair per side; a node on both sides (a split) counts once
    pairs = pd.concat(
        [
            pd.DataFrame({"node": ev["side_a_node"], "event": np.arange(len(ev))}),
            pd.DataFrame({"node": ev["side_b_node"], "event": np.arange(len(ev))}),
        ]
    )
    pairs = pairs[pairs["node"] != ""].drop_duplicates()
    ev_state = np.searchsorted(np.asarray(STATE_CODES), ev["state_code"].to_numpy(dtype=str))
    mcode = ev["municipality_code"].to_numpy(dtype=str)
    matched = mcode != ""
    ev_muni = np.full(len(ev), -1, dtype=np.int64)
    ev_muni[matched] = np.searchsorted(codes, mcode[matched])
    if matched.any() and not np.array_equal(codes[ev_muni[matched]], mcode[matched]):
        raise ValueError("events hold municipality codes that are not bundled municipalities")
    best = ev["best"].to_numpy(dtype=np.float64)

    uniq = sorted(set(parents))
    row_of = {p: k for k, p in enumerate(uniq)}
    j = len(uniq)
    parts = {k: np.zeros((j, m)) for k in ("cm", "cs", "fm", "fs")}
    n_ev = np.zeros(j, dtype=np.int64)
    node_rows = pairs["node"].map(row_of)
    keep = node_rows.notna().to_numpy()
    rows = node_rows.to_numpy()[keep].astype(np.int64)
    eidx = pairs["event"].to_numpy()[keep].astype(np.int64)
    n_ev = np.bincount(rows, minlength=j).astype(np.int64)
    b_sum = np.bincount(rows, weights=best[eidx], minlength=j)
    w_count = 1.0 / n_ev[rows]
    w_fatal = np.where(b_sum[rows] > 0, best[eidx] / np.where(b_sum[rows] > 0, b_sum[rows], 1.0), w_count)
    for key_m, key_s, w in (("cm", "cs", w_count), ("fm", "fs", w_fatal)):
        at = matched[eidx]
        np.add.at(parts[key_m], (rows[at], ev_muni[eidx[at]]), w[at])
        unplaced = np.zeros((j, n_states))
        np.add.at(unplaced, (rows[~at], ev_state[eidx[~at]]), w[~at])
        parts[key_m] += unplaced @ spread
        in_state = np.zeros((j, n_states))
        np.add.at(in_state, (rows, ev_state[eidx]), w)
        parts[key_s] = in_state @ spread
    listed = np.zeros((j, m))
    for p, k in row_of.items():
        listed[k] = spread[state_by_name[listed_of[p]]]
    sel = np.array([row_of[p] for p in parents], dtype=np.int64)
    return PresenceParts(
        cartel_ids=ids,
        recorded=n_ev[sel] > 0,
        n_events=n_ev[sel],
        count_municipal=parts["cm"][sel],
        count_state=parts["cs"][sel],
        fatal_municipal=parts["fm"][sel],
        fatal_state=parts["fs"][sel],
        listed=listed[sel],
        national=national.copy(),
    )


@lru_cache(maxsize=4)
def _bundled_parts(ids: tuple[str, ...]) -> PresenceParts:
    return presence_parts(ids)


@lru_cache(maxsize=8)
def _bundled_weights(ids: tuple[str, ...], values: tuple[float, ...]) -> FloatArray:
    w = _bundled_parts(ids).weights(*values)
    w.setflags(write=False)
    return w


def presence_weights(
    cartel_ids: Sequence[str],
    params: Mapping[str, float] | None = None,
    events: pd.DataFrame | None = None,
) -> FloatArray:
    """Return the presence weights ``(N, M)`` of ``cartel_ids`` (rows sum to 1).

    Parameters
    ----------
    cartel_ids : sequence of str
        Node ids in the caller's order.
    params : mapping, optional
        Values of the ``violence_*`` mixing parameters (defaults: the fitted values).
    events : pandas.DataFrame, optional
        Events table (default: the bundled one); only :data:`WEIGHT_YEARS` are used.

    Returns
    -------
    numpy.ndarray, shape (N, 2469)

    """
    d = defaults()
    values = tuple(float((params or {}).get(n, d[n])) for n in PRESENCE_NAMES)
    if events is not None:
        return presence_parts(cartel_ids, events).weights(*values)
    return _bundled_weights(tuple(str(c) for c in cartel_ids), values).copy()


def allocate_deaths(
    deaths_by_cartel: npt.ArrayLike,
    cartel_ids: Sequence[str],
    n_routes: npt.ArrayLike | None,
    baseline_routes: npt.ArrayLike | None,
    params: Mapping[str, npt.ArrayLike],
) -> tuple[FloatArray, FloatArray]:
    """Allocate each cartel's conflict deaths to states and municipalities.

    Parameters
    ----------
    deaths_by_cartel : array_like, shape (E, N)
        Conflict deaths over a window (any unit of deaths), experiments by cartels in network order.
    cartel_ids : sequence of str
        The N node ids (``N10025``; factions ``N10025.1`` use their parent's presence).
    n_routes : array_like, shape (E, M), optional
        Route counts per municipality (``mx_municipalities`` order), or None for no route exposure.
    baseline_routes : array_like, shape (E, M), optional
        Route counts in the same week without the policy's geography interventions, to find municipalities
        diverted onto (on routes now, none without the interventions: DESIGN.md); None for no uplift.
    params : mapping of str to array_like
        Per-experiment values ``(E,)`` (or scalars) of the ``violence_*`` parameters; missing names
        take their defaults (:mod:`cartelsim.params.violence`).

    Returns
    -------
    states : numpy.ndarray, shape (E, 32)
        Deaths by state, in :data:`STATE_CODES` order (each the sum of its municipalities).
    municipalities : numpy.ndarray, shape (E, M)
        Deaths by municipality; each row sums to the row's national deaths (to float rounding).

    Raises
    ------
    ValueError
        If shapes disagree or a parameter is out of its bounds.
    KeyError
        If a cartel id is unknown.

    """
    d = np.asarray(deaths_by_cartel, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != len(cartel_ids):
        raise ValueError(f"deaths_by_cartel must have shape (E, {len(cartel_ids)}) (got {d.shape})")
    n_exp = d.shape[0]
    m = _geography()[0].size
    dflt = defaults()
    vals: dict[str, FloatArray] = {}
    for name, default in dflt.items():
        v = np.asarray(params.get(name, default), dtype=np.float64)
        vals[name] = np.broadcast_to(v, (n_exp,)) if v.ndim == 0 else v
        if vals[name].shape != (n_exp,):
            raise ValueError(f"parameter {name} must have shape ({n_exp},) (got {vals[name].shape})")
    factor = vals["violence_diverted_route_factor"]
    if np.any(~(factor >= 1.0)):
        raise ValueError(f"violence_diverted_route_factor must be at least 1 (got {factor.min()!r})")
    uplift: FloatArray | None = None
    if n_routes is not None and baseline_routes is not None:
        nr, br = np.asarray(n_routes), np.asarray(baseline_routes)
        if nr.shape != (n_exp, m) or br.shape != (n_exp, m):
            raise ValueError(f"n_routes and baseline_routes must have shape ({n_exp}, {m})")
        div = diverted_onto(nr, br)
        if div.any() and np.any(factor != 1.0):
            uplift = np.where(div, factor[:, None], 1.0)
    ids = tuple(str(c) for c in cartel_ids)
    keys = np.stack([vals[n] for n in PRESENCE_NAMES], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    muni = np.empty((n_exp, m))
    for k, row in enumerate(uniq):
        sel = np.flatnonzero(inv.ravel() == k)
        w = _bundled_weights(ids, tuple(float(x) for x in row))
        # one experiment at a time: a matrix product's rounding may depend on how many rows it has, and the
        # rows here are the batch's experiments, so a batched product would make outcomes depend on batching
        for e in sel:
            if uplift is None:
                muni[e] = d[e] @ w
            else:
                g = uplift[e]
                z = w @ g  # (N,): each cartel's renormalising constant, >= 1 since g >= 1
                muni[e] = g * ((d[e] / z) @ w)
    # remove the matrix products' rounding so that rows add up to the national deaths
    total, got = d.sum(axis=1), muni.sum(axis=1)
    fix = np.divide(total, got, out=np.ones_like(total), where=got > 0)
    muni *= fix[:, None]
    return state_totals(muni), muni
