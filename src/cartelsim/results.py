"""Result bundles: experiments, outcomes, groups and a manifest, written atomically (DESIGN.md).

A bundle is a directory built as ``DIR.partial/`` and renamed to ``DIR`` when complete:
``experiments.parquet``, ``outcomes.parquet`` (long table sorted by experiment_id, level, group,
variable, week), ``groups.parquet`` and ``manifest.json``.

A resumable run (``cartelsim run``, ``cartelsim sweep``) builds ``DIR.partial/`` from part files and
streams them into these files at the end (:mod:`cartelsim.partial`).

Examples
--------
>>> import cartelsim, tempfile, pathlib
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2013-01-01
... ''')
>>> res = cartelsim.run(sc)
>>> d = pathlib.Path(tempfile.mkdtemp()) / "bundle"
>>> _ = res.save(d)
>>> cartelsim.load(d).outcomes.shape == res.outcomes.shape
True

"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cartelsim.batch import Batch
from cartelsim.bundle import BUNDLE_FORMAT, BundleError, BundleExistsError, check_target, file_checksums, swap, verify
from cartelsim.data import checksums
from cartelsim.network import load_network
from cartelsim.timeline import dates_of

__all__ = [
    "BundleExistsError",
    "FailedExperimentsWarning",
    "Results",
    "batch_factions",
    "batch_table",
    "load",
    "write_bundle",
]

FORMAT_VERSION = "1.0"
OUTCOME_ROW_GROUP = 1 << 20
"""Rows per row group of ``outcomes.parquet`` (every group but the last holds exactly this many)."""
EXPERIMENT_ROW_GROUP = 1 << 16
"""Rows per row group of ``experiments.parquet``."""
OUTCOME_COLUMNS = (
    "experiment_id",
    "scenario",
    "policy",
    "replicate",
    "week",
    "date",
    "level",
    "group",
    "variable",
    "value",
)


def _dict_array(indices: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(list(values), pa.string()))


def batch_table(batch: Batch, scenario_name: str, start_year: int) -> pa.Table:
    """Return the outcome rows of a batch's successful experiments, in the bundle's sort order.

    Per experiment the rows run by level, group and variable in code-point order, then by week. An
    experiment's factions (organisation layer) get cartel-level rows for every recorded week (zeros before
    their fission) in that experiment only.
    """
    ok = [i for i, s in enumerate(batch.experiments) if s.experiment_id not in batch.failed]
    level_names = sorted(batch.levels)
    if not ok or not level_names:
        return OUTCOME_SCHEMA.empty_table()
    if any(batch.factions[i] for i in ok if i < len(batch.factions)):
        return _faction_batch_table(batch, ok, scenario_name, start_year)
    group_names = sorted({g for lev in level_names for g in batch.levels[lev][0]})
    var_names = sorted({v for lev in level_names for v in batch.levels[lev][2]})
    gidx = {g: i for i, g in enumerate(group_names)}
    vidx = {v: i for i, v in enumerate(var_names)}
    cols: dict[str, list[np.ndarray]] = {"level": [], "group": [], "variable": [], "week": []}
    values: list[np.ndarray] = []
    for li, lev in enumerate(level_names):
        groups, weeks, arrs = batch.levels[lev]
        order = np.argsort(np.array(groups))
        vars_ = sorted(arrs)
        g_n, v_n, w_n = len(groups), len(vars_), len(weeks)
        vals = np.stack([arrs[v][ok][:, order, :] for v in vars_], axis=2)  # (E, G, V, W)
        values.append(vals.reshape(len(ok), -1))
        cols["level"].append(np.full(g_n * v_n * w_n, li, np.int32))
        cols["group"].append(np.repeat(np.array([gidx[groups[i]] for i in order], np.int32), v_n * w_n))
        cols["variable"].append(np.tile(np.repeat(np.array([vidx[v] for v in vars_], np.int32), w_n), g_n))
        cols["week"].append(np.tile(weeks.astype(np.int32), g_n * v_n))
    lev_a, grp, var, week = (np.concatenate(cols[k]) for k in ("level", "group", "variable", "week"))
    per = lev_a.size
    specs = [batch.experiments[i] for i in ok]
    n = len(specs)
    pol_names = sorted({s.policy for s in specs})
    return pa.table(
        {
            "experiment_id": np.repeat(np.array([s.experiment_id for s in specs], np.int64), per),
            "scenario": _dict_array(np.zeros(n * per, np.int32), [scenario_name]),
            "policy": _dict_array(
                np.repeat(np.array([pol_names.index(s.policy) for s in specs], np.int32), per), pol_names
            ),
            "replicate": np.repeat(np.array([s.replicate for s in specs], np.int32), per),
            "week": np.tile(week, n),
            "date": pa.array(np.tile(dates_of(week, start_year), n), pa.date32()),
            "level": _dict_array(np.tile(lev_a, n), level_names),
            "group": _dict_array(np.tile(grp, n), group_names),
            "variable": _dict_array(np.tile(var, n), var_names),
            "value": np.concatenate(values, axis=1).ravel().astype(np.float64),
        }
    )


def _faction_batch_table(batch: Batch, ok: list[int], scenario_name: str, start_year: int) -> pa.Table:
    """:func:`batch_table` for a batch whose experiments differ in groups (factions).

    Rows are built per experiment, then sorted by the bundle's keys (the dictionaries are in code-point order).
    """
    level_names = sorted(batch.levels)
    fac = {i: batch.factions[i] for i in ok if i < len(batch.factions) and batch.factions[i]}
    group_names = sorted(
        {g for lev in level_names for g in batch.levels[lev][0]} | {f[1] for v in fac.values() for f in v}
    )
    var_names = sorted({v for lev in level_names for v in batch.levels[lev][2]})
    gidx = {g: i for i, g in enumerate(group_names)}
    vidx = {v: i for i, v in enumerate(var_names)}
    parts: list[tuple[np.ndarray, ...]] = []  # (experiment position, level, group, variable, week, value)
    for pos, i in enumerate(ok):
        for li, lev in enumerate(level_names):
            groups, weeks, arrs = batch.levels[lev]
            vars_ = sorted(arrs)
            vals = np.stack([arrs[v][i] for v in vars_], axis=1)  # (G, V, W)
            g_codes = np.array([gidx[g] for g in groups], np.int32)
            if lev == "cartel" and i in fac:
                cols = np.array([f[0] for f in fac[i]], np.int64) - len(groups)
                extra = np.stack([batch.faction_values[v][i][cols] for v in vars_], axis=1)
                vals = np.concatenate([vals, extra], axis=0)
                g_codes = np.concatenate([g_codes, np.array([gidx[f[1]] for f in fac[i]], np.int32)])
            g_n, v_n, w_n = vals.shape
            parts.append(
                (
                    np.full(g_n * v_n * w_n, pos, np.int32),
                    np.full(g_n * v_n * w_n, li, np.int32),
                    np.repeat(g_codes, v_n * w_n),
                    np.tile(np.repeat(np.array([vidx[v] for v in vars_], np.int32), w_n), g_n),
                    np.tile(weeks.astype(np.int32), g_n * v_n),
                    vals.ravel().astype(np.float64),
                )
            )
    e_pos, lev_a, grp, var, week, value = (np.concatenate([p[k] for p in parts]) for k in range(6))
    order = np.lexsort((week, var, grp, lev_a, e_pos))
    e_pos, lev_a, grp, var, week, value = (a[order] for a in (e_pos, lev_a, grp, var, week, value))
    specs = [batch.experiments[i] for i in ok]
    pol_names = sorted({s.policy for s in specs})
    return pa.table(
        {
            "experiment_id": np.array([s.experiment_id for s in specs], np.int64)[e_pos],
            "scenario": _dict_array(np.zeros(e_pos.size, np.int32), [scenario_name]),
            "policy": _dict_array(np.array([pol_names.index(s.policy) for s in specs], np.int32)[e_pos], pol_names),
            "replicate": np.array([s.replicate for s in specs], np.int32)[e_pos],
            "week": week,
            "date": pa.array(dates_of(week, start_year), pa.date32()),
            "level": _dict_array(lev_a, level_names),
            "group": _dict_array(grp, group_names),
            "variable": _dict_array(var, var_names),
            "value": value,
        }
    )


def _sorted_dictionary(table: pa.Table, name: str) -> pa.Table:
    """Re-encode a dictionary column with its values in code-point order (independent of how batches split)."""
    import pyarrow.compute as pc

    values = table.column(name).cast(pa.string())
    uniq = pc.unique(values).sort()
    idx = pc.index_in(values, value_set=uniq).cast(pa.int32())
    col = pa.chunked_array(
        [pa.DictionaryArray.from_arrays(chunk, uniq) for chunk in idx.chunks], pa.dictionary(pa.int32(), pa.string())
    )
    return table.set_column(table.schema.get_field_index(name), name, col)


def _schema_types() -> dict[str, pa.DataType]:
    d = pa.dictionary(pa.int32(), pa.string())
    return {
        "experiment_id": pa.int64(),
        "scenario": d,
        "policy": d,
        "replicate": pa.int32(),
        "week": pa.int32(),
        "date": pa.date32(),
        "level": d,
        "group": d,
        "variable": d,
        "value": pa.float64(),
    }


OUTCOME_SCHEMA = pa.schema(list(_schema_types().items()))


def experiments_frame(scenario_name: str, batches: Iterable[Batch]) -> pd.DataFrame:
    """Return the experiments table (sorted by experiment_id) of the given batches."""
    rows: list[dict[str, Any]] = []
    for b in batches:
        for spec, drawn in zip(b.experiments, b.draws, strict=True):
            msg = b.failed.get(spec.experiment_id, "")
            rows.append(
                {
                    "experiment_id": spec.experiment_id,
                    "scenario": scenario_name,
                    "policy": spec.policy,
                    "replicate": spec.replicate,
                    "seed": spec.seed,
                    "status": "failed" if msg else "ok",
                    "message": msg,
                    **drawn,
                }
            )
    df = pd.DataFrame(rows).sort_values("experiment_id", kind="stable").reset_index(drop=True)
    for c in ("experiment_id", "replicate", "seed"):
        df[c] = df[c].astype("int64")
    return df


def groups_frame(factions: Iterable[tuple[int, str]] = ()) -> pd.DataFrame:
    """Return the network's groups (``experiment_id`` null) with their neutral labels, then the factions.

    ``factions`` lists ``(experiment_id, faction id)`` pairs: each gets a row with its experiment, neutral
    label, kind and parent (:func:`cartelsim.network.faction_groups`).
    """
    net = load_network()
    df = pd.DataFrame(
        {
            "experiment_id": pd.array([None] * net.n, dtype="Int64"),
            "group": net.ids,
            "label": net.labels,
            "kind": net.kinds,
            "parent": [None] * net.n,
        }
    )
    df = df.sort_values("group", kind="stable").reset_index(drop=True)
    pairs = list(factions)
    if not pairs:
        return df
    from cartelsim.network import faction_groups

    return pd.concat([df, faction_groups(pairs, net)], ignore_index=True)


def batch_factions(batch: Batch) -> list[tuple[int, str]]:
    """``(experiment_id, faction id)`` of a batch's successful experiments (for :func:`groups_frame`)."""
    return [
        (s.experiment_id, f[1])
        for s, facs in zip(batch.experiments, batch.factions, strict=False)
        if s.experiment_id not in batch.failed
        for f in facs
    ]


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def make_manifest(
    scenario_text: str, seed: int, wall_time_s: float, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the manifest: versions, git revision, master seed, scenario text, data checksums, wall time."""
    from cartelsim._version import __version__

    return {
        "format": BUNDLE_FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "git_revision": _git_revision(),
        "master_seed": seed,
        "scenario": scenario_text,
        "data_checksums": checksums(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(wall_time_s, 3),
        **(extra or {}),
    }


def manifest_hash(manifest: dict[str, Any]) -> str:
    """Short hash of the manifest's reproducible part (all but times, how it was run and file checksums)."""
    keep = {
        k: v for k, v in manifest.items() if k not in ("wall_time_s", "write_time_s", "created", "execution", "files")
    }
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:12]


def write_bundle(
    out: str | Path,
    experiments: pd.DataFrame,
    tables: Iterable[pa.Table],
    groups: pd.DataFrame,
    manifest: dict[str, Any],
    overwrite: bool = False,
) -> Path:
    """Write a bundle atomically: everything goes to ``OUT.partial/``, renamed to ``OUT`` at the end.

    Raises
    ------
    BundleExistsError
        If ``out`` exists and ``overwrite`` is False (checked before anything is written).

    """
    out = Path(out)
    check_target(out, overwrite)
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        with _RowGroupWriter(partial / "outcomes.parquet", OUTCOME_SCHEMA, OUTCOME_ROW_GROUP) as w:
            for t in tables:
                w.write(t)
        pq.write_table(pa.Table.from_pandas(experiments, preserve_index=False), partial / "experiments.parquet")
        pq.write_table(pa.Table.from_pandas(groups, preserve_index=False), partial / "groups.parquet")
        manifest = {**manifest, "write_time_s": round(time.perf_counter() - t0, 3)}
        write_manifest(partial, manifest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    swap(partial, out)
    return out


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` into ``folder`` with the checksums of the data files already there."""
    manifest = {**manifest, "files": file_checksums(folder)}
    text = json.dumps(manifest, indent=2, default=str)
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")


class _RowGroupWriter:
    """Stream tables into one Parquet file in row groups of exactly ``rows`` rows (the last may be shorter).

    The file's row groups, and so the dictionaries Parquet readers rebuild per row group, depend only on
    the rows written, never on how they were split into tables; memory stays within about one row group
    plus the table being added.
    """

    def __init__(self, path: Path, schema: pa.Schema, rows: int) -> None:
        self.schema, self.rows = schema, rows
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._buf: list[pa.Table] = []
        self._n = 0

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._buf.append(table.cast(self.schema))
        self._n += table.num_rows
        while self._n >= self.rows:
            joined = pa.concat_tables(self._buf)
            self._writer.write_table(joined.slice(0, self.rows), row_group_size=self.rows)
            rest = joined.slice(self.rows)
            self._buf, self._n = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> None:
        if self._n:
            self._writer.write_table(pa.concat_tables(self._buf), row_group_size=self.rows)
        self._buf, self._n = [], 0
        self._writer.close()

    def __enter__(self) -> _RowGroupWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()


@dataclass
class Results:
    """Outcomes of a scenario's experiments, in memory or loaded from a bundle.

    Attributes
    ----------
    experiments : pandas.DataFrame
        One row per experiment (``experiment_id, scenario, policy, replicate, seed, status, message`` and
        the sampled values).
    groups : pandas.DataFrame
        The groups with their neutral labels.
    manifest : dict
        Provenance (see :func:`make_manifest`).

    """

    experiments: pd.DataFrame
    groups: pd.DataFrame
    manifest: dict[str, Any]
    _batches: list[Batch] | None = None
    _path: Path | None = None
    _outcomes: pd.DataFrame | None = None

    @property
    def scenario_text(self) -> str:
        """The scenario file's text."""
        return str(self.manifest.get("scenario", ""))

    @property
    def outcomes(self) -> pd.DataFrame:
        """The long outcomes table (string columns as categoricals)."""
        if self._outcomes is None:
            self._outcomes = self.arrow().to_pandas()
        return self._outcomes

    def arrow(self) -> pa.Table:
        """The outcomes as a pyarrow Table."""
        if self._batches is not None:
            tabs = [t for t in self.iter_tables() if t.num_rows]
            if not tabs:
                return OUTCOME_SCHEMA.empty_table()
            table = pa.concat_tables(tabs).combine_chunks()
            if any(any(f) for b in self._batches for f in b.factions):  # groups differ by batch: sort them
                table = _sorted_dictionary(table, "group")
            return table
        assert self._path is not None
        return pq.read_table(self._path / "outcomes.parquet")

    def iter_tables(self) -> Iterator[pa.Table]:
        """Yield outcome tables batch by batch, in experiment order (for streaming writes)."""
        if self._batches is not None:
            name = str(self.manifest.get("scenario_name", ""))
            year = int(self.manifest.get("start_year", 2012))
            for b in self._batches:
                yield batch_table(b, name, year).cast(OUTCOME_SCHEMA)
        else:
            yield self.arrow()

    @property
    def hash(self) -> str:
        """Short manifest hash, stamped on figures."""
        return manifest_hash(self.manifest)

    def replicate_counts(self) -> pd.DataFrame:
        """Per policy (experiment order): ``policy, ok, failed, total`` replicates."""
        ex = self.experiments.astype({"policy": str})
        ok = ex["status"] == "ok"
        g = ex.assign(ok=ok, failed=~ok).groupby("policy", sort=False)
        out = pd.DataFrame({"ok": g["ok"].sum(), "failed": g["failed"].sum(), "total": g.size()})
        return (
            out.reindex(self.policies)
            .rename_axis("policy")
            .reset_index()
            .astype({"ok": int, "failed": int, "total": int})
        )

    def failure_note(self) -> str | None:
        """``None`` if every experiment succeeded, else one line per policy with failures ("2 of 3 ...")."""
        c = self.replicate_counts()
        bad = c[c["failed"] > 0]
        if bad.empty:
            return None
        parts = [
            f"{r.policy}: FAILED (0 of {r.total} replicates)"
            if r.ok == 0
            else f"{r.policy}: {r.ok} of {r.total} replicates"
            for r in bad.itertuples()
        ]
        return f"this bundle holds {int(bad['failed'].sum())} failed experiments; " + "; ".join(parts)

    @property
    def policies(self) -> list[str]:
        """Policies in experiment order (``baseline`` first)."""
        return list(dict.fromkeys(self.experiments.sort_values("experiment_id")["policy"]))

    def select(self, variable: str, level: str = "national", group: str = "") -> pd.DataFrame:
        """Return ``experiment_id, policy, replicate, week, date, value`` rows of one variable and group."""
        o = self.outcomes
        m = (o["variable"] == variable) & (o["level"] == level) & (o["group"] == group)
        if not m.any():
            have = sorted(set(o.loc[o["level"] == level, "variable"].astype(str)))
            raise KeyError(f"no outcome {variable!r} at level {level!r}; recorded: {', '.join(have)}")
        return (
            o.loc[m, ["experiment_id", "policy", "replicate", "week", "date", "value"]]
            .astype({"policy": str})
            .reset_index(drop=True)
        )

    def summary(
        self,
        q: Sequence[float] = (0.1, 0.5, 0.9),
        variables: Sequence[str] | None = None,
        level: str = "national",
        group: str = "",
    ) -> pd.DataFrame:
        """Quantiles across replicates by policy, variable and week (median with 10/90% bands by default).

        Returns a DataFrame with columns ``policy, variable, week, date`` and one column per quantile
        (``q10``, ``q50``, ``q90``).
        """
        o = self.outcomes
        m = (o["level"] == level) & (o["group"] == group)
        m &= o["experiment_id"].isin(self.experiments.loc[self.experiments["status"] == "ok", "experiment_id"])
        if variables is not None:
            m &= o["variable"].isin(list(variables))
        sub = o.loc[m, ["policy", "variable", "week", "date", "value"]].astype({"policy": str, "variable": str})
        g = sub.groupby(["policy", "variable", "week", "date"], sort=False)["value"]
        out = pd.concat({f"q{round(x * 100):02d}": g.quantile(x) for x in q}, axis=1).reset_index()
        order = {p: i for i, p in enumerate(self.policies)}
        return out.sort_values(
            ["policy", "variable", "week"], key=lambda s: s.map(order) if s.name == "policy" else s
        ).reset_index(drop=True)

    def plot(self, out_dir: str | Path, variables: Sequence[str] = ("n_members", "new_conflict_deaths")) -> list[Path]:
        """Write fan charts (PNG) of ``variables`` by policy into ``out_dir``; return the files."""
        from cartelsim.plots import fan_charts

        return fan_charts(self, Path(out_dir), variables)

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write the results as a bundle (atomically; see :func:`write_bundle`)."""
        return write_bundle(out, self.experiments, self.iter_tables(), self.groups, self.manifest, overwrite)


def load(path: str | Path) -> Results:
    """Load a bundle written by :meth:`Results.save` or ``cartelsim run``.

    The checksums in the manifest are verified first (a bundle of 0.1, without them, is read with a
    warning).

    Raises
    ------
    BundleError
        If ``path`` is not a complete, undamaged bundle (the message names the file).

    """
    p = Path(path)
    manifest = verify(p)
    tables = {}
    for f in ("experiments", "groups"):
        try:
            tables[f] = pd.read_parquet(p / f"{f}.parquet")
        except (OSError, pa.ArrowException) as e:
            raise BundleError(f"{p}/{f}.parquet: damaged ({str(e)[:80]}); rerun to rebuild it") from None
    try:
        pq.read_metadata(p / "outcomes.parquet")
    except (OSError, pa.ArrowException) as e:
        raise BundleError(f"{p}/outcomes.parquet: damaged ({str(e)[:80]}); rerun to rebuild it") from None
    res = Results(experiments=tables["experiments"], groups=tables["groups"], manifest=manifest, _path=p)
    note = res.failure_note()
    if note is not None:
        warnings.warn(f"{p}: {note}", FailedExperimentsWarning, stacklevel=2)
    return res


class FailedExperimentsWarning(UserWarning):
    """A loaded bundle holds failed experiments (the message says how many per policy)."""
