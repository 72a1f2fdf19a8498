"""The common ending of the analysis figures: title, a footer note (the manifest hash) and the PNG file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cartelsim.bundle import write_file

__all__ = ["finish_figure"]


def finish_figure(fig: Any, ax: Any, path: str | Path, title: str | None, note: str | None) -> Path:
    """Set ``title`` on ``ax``, put ``note`` small at the bottom right, and write ``fig`` to ``path`` (PNG)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if title:
        ax.set_title(title)
    if note:
        fig.text(0.99, 0.01, note, ha="right", va="bottom", fontsize=6, color="0.4")
        fig.set_layout_engine(ConstrainedLayoutEngine(rect=(0, 0.03, 1, 0.97)))  # room for the note
    out = Path(path)
    write_file(out, lambda tmp: fig.savefig(tmp, dpi=150), overwrite=True)
    return out
