"""Where a bundle may be written, how a new one replaces an old one, and how a reader knows one is whole.

Rules (DESIGN, "Writing bundles", "Writing files", "Bundle integrity"):

- ``--overwrite`` replaces only a directory whose ``manifest.json`` names the cartelsim bundle format.
  Anything else (a directory of other files, a plain file, the working directory or a folder above it,
  the home directory, a folder holding the scenario file) is refused with :class:`BundleRefusedError`
  and nothing changes.
- The new bundle is built aside; :func:`swap` renames the old one to ``DIR.old-<pid>``, the new one into
  place, then removes the old. :func:`recover` (called by every command that writes or reads ``DIR``)
  puts a leftover ``DIR.old-*`` back where ``DIR`` is missing, or removes it where ``DIR`` is whole, so
  a kill at any moment loses neither bundle.
- The manifest's ``files`` holds the SHA-256 of each data file; :func:`verify` checks them and raises
  :class:`BundleError` naming the damaged file.
- Single files (figures) are written by :func:`write_file`: a temporary name, then a rename; an existing
  file is replaced only with ``overwrite``; a directory is never replaced by a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "BUNDLE_FORMAT",
    "DATA_FILES",
    "BundleError",
    "BundleExistsError",
    "BundleRefusedError",
    "check_file",
    "check_target",
    "file_checksums",
    "is_bundle",
    "recover",
    "swap",
    "verify",
    "write_file",
]

BUNDLE_FORMAT = "cartelsim.bundle"
DATA_FILES = ("experiments.parquet", "outcomes.parquet", "groups.parquet", "variables.parquet")
_REQUIRED = ("experiments.parquet", "outcomes.parquet", "groups.parquet", "manifest.json")


class BundleExistsError(FileExistsError):
    """The output exists and ``overwrite`` was not given."""


class BundleError(ValueError):
    """A bundle is missing, incomplete or damaged (the message names the file)."""


class BundleRefusedError(ValueError):
    """``--out`` names something that must not be replaced (nothing was changed)."""


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def is_bundle(path: str | Path) -> bool:
    """Whether ``path`` is a directory whose ``manifest.json`` names the cartelsim bundle format.

    Bundles of 0.1 (before ``format`` was written) are recognised by their ``format_version``,
    ``package_version`` and ``scenario`` keys.
    """
    p = Path(path)
    if not p.is_dir() or p.is_symlink():
        return False
    m = _read_manifest(p)
    if m is None:
        return False
    return m.get("format") == BUNDLE_FORMAT or all(k in m for k in ("format_version", "package_version", "scenario"))


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_target(out: str | Path, overwrite: bool, protect: Iterable[str | Path] = ()) -> None:
    """Refuse an ``--out`` that must not be written or replaced; write nothing.

    Parameters
    ----------
    out : str or pathlib.Path
        The bundle directory to be written.
    overwrite : bool
        Whether an existing bundle there may be replaced.
    protect : iterable of paths
        Files that must survive (the scenario file being run).

    Raises
    ------
    BundleExistsError
        ``out`` exists and ``overwrite`` is False.
    BundleRefusedError
        ``out`` is, or holds, the working directory, the home directory or a protected file, or is not a
        cartelsim bundle.

    """
    out = Path(out)
    recover(out)
    real = out.resolve()
    for what, p in (("the working directory", Path.cwd()), ("your home directory", Path.home())):
        if _within(p.resolve(), real):
            raise BundleRefusedError(f"--out {out}: is or holds {what}; choose a new folder for the bundle")
    for f in protect:
        if _within(Path(f).resolve(), real):
            raise BundleRefusedError(f"--out {out}: holds {f}; choose a new folder for the bundle")
    if not (out.exists() or out.is_symlink()):
        return
    if not overwrite:
        raise BundleExistsError(f"{out} exists; pass --overwrite to replace it")
    if not out.is_dir() or out.is_symlink():
        raise BundleRefusedError(f"--out {out}: is a file, not a cartelsim bundle; --overwrite replaces only a bundle")
    if not is_bundle(out):
        raise BundleRefusedError(
            f"--out {out}: is not a cartelsim bundle (no manifest.json naming the bundle format); "
            "--overwrite replaces only a bundle, so nothing was changed"
        )


def _old_copies(out: Path) -> list[Path]:
    if not out.parent.is_dir():
        return []
    return sorted(
        (p for p in out.parent.glob(f"{out.name}.old-*") if p.name[len(out.name) + 5 :].isdigit()),
        key=lambda p: p.stat().st_mtime,
    )


def recover(out: str | Path) -> None:
    """Finish a swap that was cut short: restore ``DIR.old-*`` if ``DIR`` is missing, else remove it.

    A leftover that is not a bundle is left alone.
    """
    out = Path(out)
    for old in reversed(_old_copies(out)):  # newest first
        if not is_bundle(old):
            continue
        if not out.exists():
            old.rename(out)
        else:
            shutil.rmtree(old, ignore_errors=True)


def swap(new: Path, out: Path, _between: Callable[[str], None] | None = None) -> None:
    """Move the complete bundle ``new`` to ``out``, replacing an existing bundle there.

    ``_between`` (tests only) is called at each point a kill could strike.
    """
    step = _between or (lambda _where: None)
    if out.exists():
        old = out.with_name(f"{out.name}.old-{os.getpid()}")
        out.rename(old)
        step("old moved aside")
        new.rename(out)
        step("new in place")
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(out)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def file_checksums(path: str | Path) -> dict[str, str]:
    """SHA-256 of each data file present in the bundle folder ``path`` (for the manifest's ``files``)."""
    p = Path(path)
    return {f: "sha256:" + _sha256(p / f) for f in DATA_FILES if (p / f).is_file()}


def verify(path: str | Path) -> dict[str, Any]:
    """Check that ``path`` is a whole, undamaged bundle and return its manifest.

    Raises
    ------
    BundleError
        A file is missing, the manifest is not valid JSON, or a data file's checksum differs from the
        manifest's (the message names the file).

    """
    p = Path(path)
    recover(p)
    if not p.is_dir():
        raise BundleError(f"{p} is not a cartelsim bundle: not found, or not a folder")
    for f in _REQUIRED:
        if not (p / f).is_file():
            raise BundleError(f"{p} is not a cartelsim bundle: missing {f}")
    manifest = _read_manifest(p)
    if manifest is None:
        raise BundleError(f"{p}/manifest.json: damaged (not a JSON object); the bundle cannot be trusted")
    files = manifest.get("files")
    if not isinstance(files, dict):
        warnings.warn(f"{p}: a bundle without checksums (written by cartelsim 0.1); not verified", stacklevel=2)
        return manifest
    for f, want in files.items():
        if f not in DATA_FILES:
            raise BundleError(f"{p}/manifest.json: damaged (lists an unknown file {str(f)[:40]!r})")
        if not (p / f).is_file():
            raise BundleError(f"{p} is not a complete bundle: missing {f}")
        if "sha256:" + _sha256(p / f) != want:
            raise BundleError(f"{p}/{f}: damaged (its checksum differs from the manifest's); rerun to rebuild it")
    return manifest


def check_file(path: str | Path, overwrite: bool) -> None:
    """Refuse to write a single file at ``path`` if a folder is there, or a file without ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise BundleRefusedError(f"{path}: is a folder; a file never replaces a folder")
    if path.exists() and not overwrite:
        raise BundleExistsError(f"{path} exists; pass --overwrite to replace it")


def write_file(path: str | Path, write: Callable[[Path], None], overwrite: bool = False) -> Path:
    """Write one file whole or not at all: ``write(tmp)`` fills a temporary name, renamed to ``path``.

    Raises
    ------
    BundleExistsError
        ``path`` exists and ``overwrite`` is False.
    BundleRefusedError
        ``path`` is a directory.

    """
    path = Path(path)
    check_file(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
