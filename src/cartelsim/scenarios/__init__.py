"""The shipped scenarios: package resources, usable by name (``cartelsim run pc2023``) or as files to copy.

Examples
--------
>>> from cartelsim import scenarios
>>> "pc2023" in scenarios.names()
True
>>> scenarios.path("pc2023").name
'pc2023.toml'

"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["names", "path"]


def names() -> list[str]:
    """The shipped scenarios' names (file names without ``.toml``), sorted."""
    return sorted(p.name[: -len(".toml")] for p in files(__name__).iterdir() if p.name.endswith(".toml"))


def path(name: str) -> Path:
    """The file of the shipped scenario ``name`` (``pc2023`` or ``pc2023.toml``).

    Raises
    ------
    KeyError
        If no shipped scenario has that name (the message lists them).

    """
    stem = name.removesuffix(".toml")
    if stem not in names():
        raise KeyError(f"no shipped scenario {name!r}; shipped: {', '.join(names())}")
    return Path(str(files(__name__) / f"{stem}.toml"))
