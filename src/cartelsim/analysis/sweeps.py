"""Sweep bundles: one outcome per design row and its sensitivity indices (glue for ``sensitivity``, ``discover``).

:class:`SweepBundle` holds a bundle's experiments, manifest and the outcome rows of the variables asked
for (read with a filter, so a large bundle is not loaded whole). :func:`sweep_outcome` turns a date (or a
window of dates) into one value per replicate (= design row of a sweep), optionally paired against a
second policy, with clear errors for dates that were not recorded. :func:`sensitivity` picks the method
from the design in the manifest: Morris (mu*, sigma), Sobol (S1, ST and, when drawn, S2) or, for a Latin
hypercube, which has neither, rank correlations (Spearman, PRCC; :mod:`.rank_correlation`).

Everything here reads tables; nothing runs a model. The question it serves is which *assumptions* decide
an outcome; it never optimises where or whom to strike (DESIGN.md, "The line we hold").

Examples
--------
>>> import cartelsim, tempfile, pathlib
>>> from cartelsim.sweep import run_sweep, sweep_design
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2014-01-01
... record = { national = 13, groups = "none" }
... [uncertainty]
... victim_share_cartel = { dist = "uniform", low = 0.08, high = 0.12 }
... recruitment_per_member_per_week = { dist = "uniform", low = 2.45e-3, high = 2.6e-3 }
... ''')
>>> d = pathlib.Path(tempfile.mkdtemp()) / "sw"
>>> _ = run_sweep(sc, sweep_design(sc, "morris", 4), d, progress=False)
>>> b = SweepBundle.load(d, ["new_victims_est"])
>>> o = sweep_outcome(b, "new_victims_est", dt.date(2013, 1, 1), "baseline", since=dt.date(2012, 1, 1))
>>> o.values.shape, o.period
((12,), 'summed over weeks 0-51 (2012-01-01 up to 2013-01-01, exclusive)')
>>> s = sensitivity(b, o)
>>> s.method, s.table["factor"].tolist()
('morris', ['victim_share_cartel', 'recruitment_per_member_per_week'])

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cartelsim.analysis.sensitivity import morris_indices, outcome_vector, sobol_indices, sobol_second_order
from cartelsim.sampling import Design
from cartelsim.timeline import date_of, week_of
from cartelsim.variables import VARIABLES

__all__ = ["Sensitivity", "SweepBundle", "SweepError", "SweepOutcome", "sensitivity", "sweep_outcome"]

#: Columns every experiments table has; any other column is a sampled value (a factor or a drawn key).
FIXED_COLUMNS = ("experiment_id", "scenario", "policy", "replicate", "seed", "status", "message")


class SweepError(ValueError):
    """A bundle or a request the sweep analysis cannot answer; the message says why and what is allowed."""


def _manifest_hash(manifest: dict[str, Any]) -> str:
    from cartelsim.results import manifest_hash

    return manifest_hash(manifest)


@dataclass(frozen=True, eq=False)
class SweepBundle:
    """The tables of a result bundle that a sweep analysis needs.

    Attributes
    ----------
    experiments : pandas.DataFrame
        The bundle's experiments table (one row per experiment, with the sampled values).
    outcomes : pandas.DataFrame
        The long outcome rows of the variables loaded (all of them when built from a whole table).
    manifest : dict
        The bundle's manifest (with ``design`` for a sweep).
    variables : tuple of str
        Every variable the bundle records (whether loaded or not), sorted.

    """

    experiments: pd.DataFrame
    outcomes: pd.DataFrame
    manifest: dict[str, Any]
    variables: tuple[str, ...]

    @classmethod
    def load(cls, path: str | Path, variables: Sequence[str] | None = None) -> SweepBundle:
        """Read a bundle directory, loading only the outcome rows of ``variables`` (default: all).

        Raises
        ------
        cartelsim.bundle.BundleError
            If ``path`` is not a complete, undamaged bundle (the message names the file).

        """
        import pyarrow as pa

        from cartelsim.bundle import BundleError, verify

        p = Path(path)
        manifest = verify(p)
        try:
            return cls._read(p, variables, manifest)
        except (OSError, pa.ArrowException) as e:
            raise BundleError(f"{p}: damaged ({str(e)[:80]}); rerun to rebuild it") from None

    @classmethod
    def _read(cls, p: Path, variables: Sequence[str] | None, manifest: dict[str, Any]) -> SweepBundle:
        import pyarrow.parquet as pq

        recorded = pq.read_table(p / "outcomes.parquet", columns=["variable"]).column("variable")
        names = tuple(sorted({str(v) for v in recorded.unique().to_pylist()}))
        filters = None if variables is None else [("variable", "in", sorted(set(variables)))]
        outcomes = pq.read_table(p / "outcomes.parquet", filters=filters).to_pandas()
        return cls(
            experiments=pd.read_parquet(p / "experiments.parquet"),
            outcomes=outcomes,
            manifest=manifest,
            variables=names,
        )

    @classmethod
    def from_tables(cls, experiments: pd.DataFrame, outcomes: pd.DataFrame, manifest: dict[str, Any]) -> SweepBundle:
        """Wrap in-memory tables, e.g. a :class:`~cartelsim.results.Results`' experiments, outcomes, manifest."""
        names = tuple(sorted(map(str, outcomes["variable"].unique())))
        return cls(experiments=experiments, outcomes=outcomes, manifest=dict(manifest), variables=names)

    @property
    def hash(self) -> str:
        """Short manifest hash, stamped on figures."""
        return _manifest_hash(self.manifest)

    @property
    def design(self) -> Design | None:
        """The sweep's design (``None`` for a bundle written by ``cartelsim run``)."""
        m = self.manifest.get("design")
        return None if m is None else Design.from_manifest(m)

    def require_design(self) -> Design:
        """The sweep's design.

        Raises
        ------
        SweepError
            If the bundle is not a sweep (no design in its manifest).

        """
        d = self.design
        if d is None:
            raise SweepError(
                "not a sweep bundle: its manifest holds no design (it was written by `cartelsim run`); "
                "Morris, Sobol and rank-correlation indices need one: run `cartelsim sweep SCENARIO --method "
                "morris|sobol|lhs --samples N --out DIR`"
            )
        return d

    @property
    def policies(self) -> list[str]:
        """Policies in experiment order (``baseline`` first)."""
        return list(dict.fromkeys(self.experiments.sort_values("experiment_id")["policy"].astype(str)))

    def _timeline(self) -> tuple[int, int | None]:
        """Start year and number of weeks of the run (None when the scenario text is unreadable)."""
        from cartelsim.scenario import Scenario, ScenarioError

        try:
            sc = Scenario.from_text(str(self.manifest.get("scenario", "")), source="manifest.json")
        except ScenarioError:
            if "start_year" not in self.manifest:
                raise SweepError("the manifest holds neither the scenario text nor its start year") from None
            return int(self.manifest["start_year"]), None
        return sc.start.year, sc.n_weeks

    def sampled_columns(self) -> list[str]:
        """Columns of the experiments table holding sampled values (factors and drawn keys), in table order."""
        return [str(c) for c in self.experiments.columns if c not in FIXED_COLUMNS]


@dataclass(frozen=True, eq=False)
class SweepOutcome:
    """One outcome value per replicate (= design row), as :func:`sweep_outcome` built it.

    Attributes
    ----------
    values : numpy.ndarray
        float64, shape ``(replicates,)``, by replicate: the value under ``policy``, minus the paired value
        under ``vs`` when given; NaN where an experiment failed.
    variable, policy, vs, level, group : str
        What was taken (``vs`` may be None).
    week : int
        The ``--at`` week (the end of the window, exclusive, when ``since_week`` is set).
    since_week : int or None
        First week of a summed window.
    period : str
        Human description of the week or window, e.g. ``"at 2031-01-01 (week 260)"``.
    when : str
        The same, short (for figure titles), e.g. ``"2026-01-01 to 2031-01-01, summed"``.
    failed : pandas.DataFrame
        ``experiment_id, policy, replicate, message`` of the failed experiments under ``policy`` or ``vs``.
    vs_values : numpy.ndarray or None
        The value under ``vs`` itself, by replicate (NaN where it failed); None without ``vs``.

    """

    values: np.ndarray
    variable: str
    policy: str
    vs: str | None
    level: str
    group: str
    week: int
    since_week: int | None
    period: str
    when: str
    failed: pd.DataFrame
    vs_values: np.ndarray | None = None

    @property
    def description(self) -> str:
        """One line: variable, where, when and which policies, e.g. for a figure's title."""
        where = "" if self.level == "national" else f" ({self.level} {self.group})"
        who = self.policy if self.vs is None else f"{self.policy} minus {self.vs} (paired by replicate)"
        return f"{self.variable}{where} {self.period}: {who}"

    def failed_lines(self, limit: int = 10) -> list[str]:
        """The failed experiments, one line each (at most ``limit``, then a count)."""
        rows = [
            f"experiment {e} ({p}, replicate {r}): {m}"
            for e, p, r, m in self.failed.head(limit)[["experiment_id", "policy", "replicate", "message"]].to_numpy()
        ]
        if len(self.failed) > limit:
            rows.append(f"... and {len(self.failed) - limit} more")
        return rows


def _recorded_weeks(bundle: SweepBundle, variable: str, level: str, group: str) -> np.ndarray:
    if variable not in bundle.variables:
        raise SweepError(f"unknown variable {variable!r}; the bundle records: {', '.join(bundle.variables)}")
    o = bundle.outcomes
    sel = o[o["variable"] == variable]
    if sel.empty:
        raise SweepError(f"variable {variable!r} was not loaded from the bundle")
    at_level = sel[sel["level"] == level]
    if at_level.empty:
        levels = sorted(map(str, sel["level"].unique()))
        raise SweepError(f"variable {variable!r} has no rows at level {level!r}; levels: {', '.join(levels)}")
    rows = at_level[at_level["group"] == group]
    if rows.empty:
        shown = sorted(map(str, at_level["group"].unique()))
        more = f", ... ({len(shown)} groups)" if len(shown) > 12 else ""
        raise SweepError(
            f"no {variable!r} rows for group {group!r} at level {level!r}; groups: {', '.join(shown[:12])}{more}"
        )
    return np.unique(rows["week"].to_numpy(dtype=np.int64))


def _nearest(weeks: np.ndarray, week: int, start_year: int, k: int = 3) -> str:
    near = np.sort(weeks[np.argsort(np.abs(weeks - week), kind="stable")[:k]])
    return ", ".join(f"{date_of(int(w), start_year)} (week {int(w)})" for w in near)


def sweep_outcome(
    bundle: SweepBundle,
    variable: str,
    at: dt.date,
    policy: str,
    *,
    vs: str | None = None,
    level: str = "national",
    group: str = "",
    since: dt.date | None = None,
) -> SweepOutcome:
    """One value of ``variable`` per replicate at ``at`` (or summed from ``since`` up to ``at``), maybe minus ``vs``'s.

    The value under ``vs`` is paired by replicate (the same design row and seed).

    Parameters
    ----------
    bundle : SweepBundle
        The bundle, with ``variable`` loaded.
    variable : str
        Outcome variable (DESIGN.md, Variables), e.g. ``new_deaths_all_est``.
    at : datetime.date
        Without ``since``: a date in a recorded week (its row is taken; a flow row sums the recording
        interval that starts there). With ``since``: the end of the window, exclusive: a recorded week's
        date or the run's end.
    policy : str
        Policy whose values are taken.
    vs : str, optional
        A second policy: the value is ``policy - vs``, paired by replicate (design row).
    level, group : str
        Level and group (``"national"`` and ``""`` by default).
    since : datetime.date, optional
        Sum a flow (``new_...``) over every recorded week from ``since`` (a recorded week) up to ``at``: the
        total over that window, e.g. a campaign's whole toll.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    SweepError
        Unknown variable, level, group or policy (the message names the recorded ones); a date outside the
        run or not recorded (the message names the nearest recorded dates); ``since`` on a stock.

    """
    start_year, n_weeks = bundle._timeline()
    weeks = _recorded_weeks(bundle, variable, level, group)
    policies = bundle.policies
    for name, p in (("--policy", policy), ("--vs", vs)):
        if p is not None and p not in policies:
            raise SweepError(f"{name} {p!r}: unknown policy; the bundle has: {', '.join(policies)}")
    if vs is not None and vs == policy:
        raise SweepError(f"--vs must name another policy than {policy!r}")
    last = n_weeks if n_weeks is not None else int(weeks.max()) + 1
    first_date, end_date = date_of(0, start_year), date_of(last, start_year)

    def week_in_run(d: dt.date, name: str, allow_end: bool) -> int:
        w = week_of(d, start_year)
        if not (0 <= w < last or (allow_end and w == last and d == end_date)):
            raise SweepError(
                f"{name} {d}: outside the run ({first_date} to {end_date}, end exclusive"
                + (f"; {end_date} itself is allowed as the end of a --since window)" if allow_end else ")")
            )
        return w

    def recorded(d: dt.date, w: int, name: str) -> None:
        if w not in weeks:
            raise SweepError(
                f"{name} {d} (week {w}): not recorded for {variable!r}; nearest recorded dates: "
                f"{_nearest(weeks, w, start_year)}"
            )

    at_week = week_in_run(at, "--at", allow_end=since is not None)
    o = bundle.outcomes
    sel = o[(o["variable"] == variable) & (o["level"] == level) & (o["group"] == group)]
    since_week: int | None = None
    flow_kind = variable in VARIABLES and VARIABLES[variable].kind == "flow"
    if since is None:
        recorded(at, at_week, "--at")
        step = int(np.diff(weeks).min()) if weeks.size > 1 else 1
        flow = flow_kind and step > 1
        period = f"at {date_of(at_week, start_year)} (week {at_week}" + (
            f"; the row sums weeks {at_week}-{min(at_week + step, last) - 1})" if flow else ")"
        )
        table = sel
        when = f"at {date_of(at_week, start_year)}"
    else:
        if not flow_kind:
            kind = VARIABLES[variable].kind if variable in VARIABLES else "not a registered flow"
            raise SweepError(f"--since sums a flow over weeks; {variable!r} is a {kind}, not a flow")
        since_week = week_in_run(since, "--since", allow_end=False)
        recorded(since, since_week, "--since")
        if at_week <= since_week:
            raise SweepError(f"--at {at} must come after --since {since}")
        if at_week < last:
            recorded(at, at_week, "--at")
        window = sel[(sel["week"] >= since_week) & (sel["week"] < at_week)]
        n_rows = int(((weeks >= since_week) & (weeks < at_week)).sum())
        agg = window.groupby("experiment_id", observed=True)["value"].agg(["sum", "count"])
        short = agg.index[agg["count"] != n_rows].tolist()
        if short:
            raise SweepError(
                f"experiment(s) {', '.join(map(str, short[:10]))} lack some of the {n_rows} recorded weeks "
                f"of {variable!r} in the window"
            )
        table = pd.DataFrame(
            {
                "experiment_id": agg.index.to_numpy(),
                "week": at_week,
                "level": level,
                "group": group,
                "variable": variable,
                "value": agg["sum"].to_numpy(dtype=np.float64),
            }
        )
        period = (
            f"summed over weeks {since_week}-{at_week - 1} ({date_of(since_week, start_year)} up to "
            f"{date_of(at_week, start_year)}, exclusive)"
        )
        when = f"{date_of(since_week, start_year)} to {date_of(at_week, start_year)}, summed"
    try:
        values = outcome_vector(
            table, bundle.experiments, variable=variable, week=at_week, policy=policy, vs=vs, level=level, group=group
        )
        vs_values = (
            None
            if vs is None
            else outcome_vector(
                table, bundle.experiments, variable=variable, week=at_week, policy=vs, level=level, group=group
            )
        )
    except ValueError as e:
        raise SweepError(str(e)) from None
    ex = bundle.experiments
    failed = ex.loc[
        (ex["status"] == "failed") & ex["policy"].isin([p for p in (policy, vs) if p is not None]),
        ["experiment_id", "policy", "replicate", "message"],
    ].astype({"policy": str})
    return SweepOutcome(
        values=values,
        variable=variable,
        policy=policy,
        vs=vs,
        level=level,
        group=group,
        week=at_week,
        since_week=since_week,
        period=period,
        when=when,
        failed=failed.sort_values("experiment_id").reset_index(drop=True),
        vs_values=vs_values,
    )


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """Sensitivity indices of one outcome over a sweep's design, ranked.

    Attributes
    ----------
    method : str
        ``"morris"``, ``"sobol"`` or ``"lhs"`` (rank correlations).
    table : pandas.DataFrame
        One row per factor, most influential first: Morris ``factor, mu, mu_star, sigma, mu_star_conf``
        (outcome unit per factor range); Sobol ``factor, S1, S1_conf, ST, ST_conf`` (shares of
        variance); LHS ``factor, spearman, prcc, prcc_p`` (dimensionless). A ``rank`` column comes first.
    ranked_by : str
        The column the ranking uses (``mu_star``, ``ST`` or ``|prcc|``).
    second_order : pandas.DataFrame or None
        Sobol ``factor_i, factor_j, S2, S2_conf`` by decreasing S2, when the design has second order.
    n_rows : int
        Design rows used.

    """

    method: str
    table: pd.DataFrame
    ranked_by: str
    second_order: pd.DataFrame | None
    n_rows: int


def sensitivity(bundle: SweepBundle, outcome: SweepOutcome, *, seed: int | None = None) -> Sensitivity:
    """Rank the design's factors by their influence on ``outcome`` (method from the design).

    Parameters
    ----------
    bundle : SweepBundle
        A sweep bundle (with a design in its manifest).
    outcome : SweepOutcome
        One value per design row, from :func:`sweep_outcome`.
    seed : int, optional
        Bootstrap seed of the confidence intervals (default: from the design's seed).

    Returns
    -------
    Sensitivity

    Raises
    ------
    SweepError
        Not a sweep bundle; failed experiments (named: Morris and Sobol need every design row); an outcome
        that is constant over the design (Sobol).

    """
    from cartelsim.analysis.rank_correlation import rank_correlations

    design = bundle.require_design()
    y = outcome.values
    if y.shape != (design.n_rows,):
        raise SweepError(f"the outcome has {y.size} values but the design {design.n_rows} rows")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        lines = outcome.failed_lines()
        detail = ("; " + "; ".join(lines)) if lines else ""
        raise SweepError(
            f"{bad.size} of {y.size} design rows have no value (failed or non-finite experiments){detail}. "
            f"{design.method} indices need every design row: rerun the sweep after fixing the cause"
        )
    s2: pd.DataFrame | None = None
    try:
        if design.method == "morris":
            table, key = morris_indices(design, y, seed=seed), "mu_star"
            table = table.sort_values(key, ascending=False, kind="stable")
        elif design.method == "sobol":
            table, key = sobol_indices(design, y, seed=seed), "ST"
            table = table.sort_values(key, ascending=False, kind="stable")
            if design.options.get("calc_second_order"):
                s2 = sobol_second_order(design, y, seed=seed).sort_values("S2", ascending=False, kind="stable")
                s2 = s2.reset_index(drop=True)
        else:
            table, key = rank_correlations(design.to_frame(), y), "|prcc|"
            order = np.argsort(-np.nan_to_num(np.abs(table["prcc"].to_numpy()), nan=-1.0), kind="stable")
            table = table.iloc[order]
    except ValueError as e:
        raise SweepError(str(e)) from None
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return Sensitivity(design.method, table, key, s2, design.n_rows)
