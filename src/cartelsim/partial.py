"""Resumable runs: ``DIR.partial/`` with its identity, lock and part files, consolidated into a bundle.

A resumable run (``cartelsim run``, ``cartelsim sweep``; :class:`PartialRun`) keeps ``DIR.partial/``
while it runs: ``run.json`` (what is being run: scenario text hash, seed, replicates, policies, design
hash, versions), a ``lock`` held while a process works on it, and ``parts/`` with one pair of files per
finished batch of consecutive experiment ids, ``<first>-<last>.outcomes.arrow`` and
``<first>-<last>.experiments.arrow`` (12-digit ids; Arrow IPC files with LZ4 compression, about 15 times
faster to write than Parquet at the same size), each written to a temporary name, synced and renamed, the
experiments file last: a batch is finished when its experiments file exists. At the end the parts are
streamed, in experiment order, into one ``outcomes.parquet`` and one ``experiments.parquet`` in row
groups of fixed size, so the files do not depend on how the run was split, interrupted or resumed.

Parts of one run may be written by any process that sees the folder (this one, pool workers, Dask
workers on a shared file system); only the process that holds the lock consolidates.

Examples
--------
>>> import cartelsim, tempfile, pathlib
>>> from cartelsim.experiments import run_to_bundle
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "tiny"
... start = 2012-01-01
... end = 2013-01-01
... replicates = 4
... ''')
>>> d = pathlib.Path(tempfile.mkdtemp()) / "bundle"
>>> run_to_bundle(sc, d, batch_size=2, progress=False).n_experiments
4
>>> sorted(p.name for p in d.iterdir())
['experiments.parquet', 'groups.parquet', 'manifest.json', 'outcomes.parquet']

"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cartelsim import results as _results
from cartelsim.bundle import check_target, swap
from cartelsim.results import OUTCOME_SCHEMA, _RowGroupWriter, write_manifest

__all__ = ["PartialBusyError", "PartialMismatchError", "PartialRun", "write_part"]

RUN_FORMAT = "cartelsim.partial/1"


class PartialMismatchError(ValueError):
    """``DIR.partial/`` holds another run (different scenario, seed, design, ...) and ``overwrite`` was not given."""


class PartialBusyError(RuntimeError):
    """Another process is working on ``DIR.partial/``."""


def _atomic_arrow(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` (Arrow IPC file, LZ4) whole or not at all: a temporary name, fsync, rename."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            with pa.ipc.new_file(f, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as w:
                w.write_table(table)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_arrow(path: str | Path) -> pa.Table:
    with pa.OSFile(str(path), "rb") as f:
        return pa.ipc.open_file(f).read_all()


def _arrow_rows(path: str | Path) -> int:
    with pa.OSFile(str(path), "rb") as f:
        return int(pa.ipc.open_file(f).count_rows())


def _part_stem(first: int, last: int) -> str:
    return f"{first:012d}-{last:012d}"


_PART = re.compile(r"^(\d{12})-(\d{12})\.experiments\.arrow$")


def write_part(parts_dir: str | Path, first: int, last: int, outcomes: pa.Table, experiments: pa.Table) -> None:
    """Write one finished batch (experiment ids ``first..last``) as a part of a resumable run.

    The outcomes part is written first and the experiments part last, each atomically, so a batch counts
    as finished exactly when its experiments part exists.
    """
    d = Path(parts_dir)
    stem = _part_stem(first, last)
    _atomic_arrow(outcomes.cast(OUTCOME_SCHEMA), d / f"{stem}.outcomes.arrow")
    _atomic_arrow(experiments, d / f"{stem}.experiments.arrow")


_IDENTITY_WORDS = {
    "format": "the partial-run format",
    "kind": "the command (run or sweep)",
    "scenario_sha256": "the scenario text",
    "master_seed": "the master seed",
    "replicates": "the number of replicates (design rows)",
    "policies": "the policies",
    "design_sha256": "the design",
    "package_version": "the cartelsim version",
    "git_revision": "the git revision",
}


def _lock(path: Path) -> int | None:
    """Hold an exclusive lock on ``path`` until the process ends or it is released (None where unsupported)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise PartialBusyError(
            f"{path.parent} is in use by another cartelsim process; wait for it or stop it first"
        ) from None
    return fd


@dataclass
class PartialRun:
    """The ``DIR.partial/`` of a resumable run: identity, lock, finished parts, and the final consolidation.

    Open it with :meth:`open`; write parts with :func:`write_part` into :attr:`parts`; turn it into the
    bundle ``DIR`` with :meth:`finish`.

    Attributes
    ----------
    out : pathlib.Path
        The bundle directory to produce.
    path : pathlib.Path
        ``out`` with ``.partial`` appended.
    identity : dict
        What is being run (``run.json``); a rerun must match it to resume.
    done : list of (int, int)
        Finished experiment id ranges (inclusive), sorted.
    resumed : bool
        Whether ``path`` existed (this run continues an earlier one).
    overwrite : bool
        Whether an existing ``out`` may be replaced.

    """

    out: Path
    path: Path
    identity: dict[str, Any]
    done: list[tuple[int, int]] = field(default_factory=list)
    resumed: bool = False
    overwrite: bool = False
    _fd: int | None = None

    @property
    def parts(self) -> Path:
        """Folder of the part files."""
        return self.path / "parts"

    @property
    def run_json(self) -> Path:
        """The identity file."""
        return self.path / "run.json"

    @property
    def n_done(self) -> int:
        """Experiments already finished."""
        return sum(b - a + 1 for a, b in self.done)

    @classmethod
    def open(cls, out: str | Path, identity: dict[str, Any], overwrite: bool = False) -> PartialRun:
        """Start or resume the run that builds ``out``.

        Parameters
        ----------
        out : str or pathlib.Path
            The bundle directory to produce.
        identity : dict
            JSON-ready description of the run (see ``_IDENTITY_WORDS`` for the keys compared).
        overwrite : bool
            Allow replacing an existing ``out`` at the end, and discard a ``DIR.partial/`` of another run.
            A ``DIR.partial/`` of the same run is always resumed.

        Raises
        ------
        BundleExistsError
            ``out`` exists and ``overwrite`` is False.
        BundleRefusedError
            ``out`` must not be replaced (see :func:`cartelsim.bundle.check_target`).
        PartialMismatchError
            ``DIR.partial/`` belongs to another run and ``overwrite`` is False.
        PartialBusyError
            Another process holds ``DIR.partial/``.

        """
        out = Path(out)
        partial = out.with_name(out.name + ".partial")
        identity = {"format": RUN_FORMAT, **identity}
        resumed = cls.check(out, identity, overwrite)
        if partial.exists() and not resumed:  # another run's, and overwrite was given
            fd = _lock(partial / "lock") if (partial / "run.json").is_file() else None
            shutil.rmtree(partial)
            if fd is not None:
                os.close(fd)
        if not resumed:
            tmp = out.with_name(f"{out.name}.partial.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            (tmp / "parts").mkdir(parents=True)
            (tmp / "run.json").write_text(json.dumps(identity, indent=2, sort_keys=True), encoding="utf-8")
            tmp.rename(partial)
        run = cls(out, partial, identity, resumed=resumed, overwrite=overwrite)
        run._fd = _lock(partial / "lock")
        run.parts.mkdir(exist_ok=True)
        for junk in run.parts.glob("*.tmp-*"):  # writes cut short by an interruption
            junk.unlink(missing_ok=True)
        run.done = [(a, b) for a, b, _ in run.scan()]
        return run

    @staticmethod
    def check(out: str | Path, identity: dict[str, Any], overwrite: bool = False) -> bool:
        """Check, writing nothing, that :meth:`open` may start or resume; return whether it would resume.

        Raises the same errors as :meth:`open` (but :class:`PartialBusyError`).
        """
        out = Path(out)
        check_target(out, overwrite)
        partial = out.with_name(out.name + ".partial")
        if not partial.exists():
            return False
        why = _mismatch(partial, {"format": RUN_FORMAT, **identity})
        if why is None:
            return True
        if overwrite:
            return False
        raise PartialMismatchError(f"{partial} holds another run ({why}); remove it, or pass --overwrite to discard it")

    def scan(self) -> list[tuple[int, int, Path]]:
        """Finished parts as ``(first, last, stem path)``, sorted; unreadable or incomplete parts are deleted."""
        found: list[tuple[int, int, Path]] = []
        for f in self.parts.iterdir():
            m = _PART.match(f.name)
            if not m:
                continue
            a, b = int(m.group(1)), int(m.group(2))
            stem = self.parts / _part_stem(a, b)
            outc = Path(f"{stem}.outcomes.arrow")
            try:
                ok = _arrow_rows(f) == b - a + 1 and _arrow_rows(outc) >= 0
            except (OSError, pa.ArrowException):
                ok = False
            if ok:
                found.append((a, b, stem))
            else:  # cut short by a machine loss: recompute it
                f.unlink(missing_ok=True)
                outc.unlink(missing_ok=True)
        found.sort()
        for (_, b0, s0), (a1, _, s1) in itertools.pairwise(found):
            if a1 <= b0:
                raise ValueError(f"{self.parts}: parts {s0.name} and {s1.name} overlap; remove {self.path}")
        return found

    def finish(
        self,
        expected: Sequence[tuple[int, int]],
        experiments_schema: pa.Schema,
        groups: pd.DataFrame,
        manifest: dict[str, Any],
        progress: Callable[[int, int], None] | None = None,
    ) -> Path:
        """Consolidate the parts into the bundle and rename ``DIR.partial`` to ``DIR``.

        Parameters
        ----------
        expected : sequence of (int, int)
            The run's experiment id ranges (inclusive), one per policy, in order; the parts must tile them.
        experiments_schema : pyarrow.Schema
            Columns of ``experiments.parquet`` (a part lacking a draw column gets nulls).
        groups : pandas.DataFrame
            The groups table.
        manifest : dict
            The manifest (``write_time_s`` is added).
        progress : callable, optional
            Called as ``progress(parts_done, parts_total)`` after each part.

        Returns
        -------
        pathlib.Path
            The bundle directory.

        """
        parts = self.scan()
        _check_tiling(parts, expected, self.path)
        t0 = time.perf_counter()
        tmp = {k: self.path / f"{k}.parquet.tmp" for k in ("outcomes", "experiments")}
        with (
            _RowGroupWriter(tmp["outcomes"], OUTCOME_SCHEMA, _results.OUTCOME_ROW_GROUP) as wo,
            _RowGroupWriter(tmp["experiments"], experiments_schema, _results.EXPERIMENT_ROW_GROUP) as we,
        ):
            for i, (_, _, stem) in enumerate(parts):
                wo.write(_read_arrow(f"{stem}.outcomes.arrow"))
                we.write(_align(_read_arrow(f"{stem}.experiments.arrow"), experiments_schema, stem))
                if progress is not None:
                    progress(i + 1, len(parts))
        for k, t in tmp.items():
            os.replace(t, self.path / f"{k}.parquet")
        pq.write_table(pa.Table.from_pandas(groups, preserve_index=False), self.path / "groups.parquet")
        manifest = {**manifest, "write_time_s": round(time.perf_counter() - t0, 3)}
        write_manifest(self.path, manifest)
        check_target(self.out, self.overwrite)
        swap(self.path, self.out)
        # The bundle is complete; what remains of the run's bookkeeping goes.
        shutil.rmtree(self.out / "parts", ignore_errors=True)
        for f in ("run.json", "lock"):
            (self.out / f).unlink(missing_ok=True)
        self.release()
        return self.out

    def release(self) -> None:
        """Release the lock (the partial run stays, ready to resume)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _mismatch(partial: Path, identity: dict[str, Any]) -> str | None:
    """Why ``partial`` cannot be resumed for ``identity`` (None: it can)."""
    try:
        old = json.loads((partial / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no run.json: not a resumable run"
    except (OSError, ValueError) as e:
        return f"unreadable run.json: {e}"
    keys = [*_IDENTITY_WORDS, *sorted((set(old) | set(identity)) - set(_IDENTITY_WORDS))]
    diff = [k for k in keys if old.get(k) != identity.get(k)]
    if not diff:
        return None
    return "it differs in " + ", ".join(_IDENTITY_WORDS.get(k, k) for k in diff)


def _check_tiling(parts: list[tuple[int, int, Path]], expected: Sequence[tuple[int, int]], where: Path) -> None:
    """Raise unless the parts cover exactly the expected id ranges, each id once."""
    it = iter(parts)
    nxt = next(it, None)
    for first, last in expected:
        at = first
        while nxt is not None and nxt[0] == at and nxt[1] <= last:
            at = nxt[1] + 1
            nxt = next(it, None)
        if at != last + 1:
            raise ValueError(f"{where}: experiments {at}..{last} have no part; rerun the same command to compute them")
    if nxt is not None:
        raise ValueError(f"{where}: part {nxt[2].name} lies outside this run's experiments")


def _align(table: pa.Table, schema: pa.Schema, stem: Path) -> pa.Table:
    """Cast a part's experiments table to the run's columns (a missing draw column becomes nulls)."""
    extra = sorted(set(table.column_names) - set(schema.names))
    if extra:
        raise ValueError(f"{stem.name}: unexpected experiment columns {', '.join(extra)}")
    cols = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(cols, schema=schema)
