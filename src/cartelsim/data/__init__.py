"""Datasets bundled with cartelsim, each in ``data/<name>/`` with a ``datapackage.json`` and a README.

Nothing here touches the network; files are read from the installed package.

Examples
--------
>>> from cartelsim.data import dataset_names, data_path
>>> "bacrim2020" in dataset_names()
True
>>> data_path("bacrim2020", "nodes.csv").name
'nodes.csv'

"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["checksums", "data_path", "datapackage", "dataset_names"]


def _root() -> Path:
    return Path(str(resources.files("cartelsim") / "data"))


def dataset_names() -> list[str]:
    """Return the names of the bundled datasets (folders holding a ``datapackage.json``)."""
    return sorted(p.name for p in _root().iterdir() if (p / "datapackage.json").is_file())


def data_path(dataset: str, filename: str) -> Path:
    """Return the path of a file of a bundled dataset.

    Raises
    ------
    FileNotFoundError
        If the dataset or file does not exist; the message lists what does.

    """
    p = _root() / dataset / filename
    if not p.is_file():
        raise FileNotFoundError(f"no bundled file {dataset}/{filename}; datasets: {', '.join(dataset_names())}")
    return p


def datapackage(dataset: str) -> dict[str, Any]:
    """Return the parsed ``datapackage.json`` of a bundled dataset."""
    result: dict[str, Any] = json.loads(data_path(dataset, "datapackage.json").read_text(encoding="utf-8"))
    return result


@lru_cache(maxsize=1)
def checksums() -> dict[str, str]:
    """Return the SHA-256 of every bundled data file, keyed ``<dataset>/<file>`` (for manifests)."""
    out: dict[str, str] = {}
    for name in dataset_names():
        for p in sorted((_root() / name).rglob("*")):
            if p.is_file() and p.suffix not in (".md",) and p.name != "__init__.py":
                out[f"{name}/{p.relative_to(_root() / name).as_posix()}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
