"""Figures: fan charts of outcomes by policy (median with 10-90% bands), stamped with the manifest hash."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cartelsim.bundle import write_file
from cartelsim.variables import VARIABLES, is_flow

if TYPE_CHECKING:
    from cartelsim.results import Results

__all__ = ["fan_charts"]


def fan_charts(results: Results, out_dir: Path, variables: Sequence[str]) -> list[Path]:
    """Write one PNG per variable: each policy's median line and 10-90% band over time.

    Flows are shown per week. Returns the written paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    summ = results.summary(q=(0.1, 0.5, 0.9), variables=variables)
    if summ.empty:
        raise KeyError(f"none of {', '.join(variables)} is recorded nationally in this bundle")
    c = results.replicate_counts()
    counts = dict(zip(c["policy"], zip(c["ok"].astype(int), c["total"].astype(int), strict=True), strict=True))
    paths = []
    for v in variables:
        s = summ[summ["variable"] == v]
        if s.empty:
            continue
        weeks = s["week"].unique()
        step = int(weeks[1] - weeks[0]) if len(weeks) > 1 else 1
        scale = 1.0 / step if is_flow(v) else 1.0
        fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
        for i, pol in enumerate(results.policies):
            p = s[s["policy"] == pol]
            ok, total = counts[pol]
            if p.empty or ok == 0:  # in the legend as failed, never silently missing
                ax.plot([], [], color="0.6", lw=0, marker="x", label=f"{pol}: FAILED (0 of {total} replicates)")
                continue
            color = f"C{i % 10}"
            label = pol if ok == total else f"{pol} ({ok} of {total} replicates)"
            x = p["date"].to_numpy()
            ax.plot(
                x,
                p["q50"] * scale,
                color=color,
                lw=1.8 if pol != "baseline" else 2.4,
                ls="--" if pol == "baseline" else "-",
                label=label,
            )
            if (p["q90"] != p["q10"]).any():
                ax.fill_between(x, p["q10"] * scale, p["q90"] * scale, color=color, alpha=0.18, lw=0)
        meta = VARIABLES.get(v)
        ax.set_title(meta.label if meta else v)
        ax.set_ylabel(f"{meta.unit if meta else v}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
        n_rep = int(results.experiments["replicate"].max()) + 1
        band = "median and 10-90% band across replicates" if n_rep > 1 else "single replicate"
        fig.text(
            0.01,
            0.01,
            f"cartelsim {results.manifest.get('package_version', '')} | "
            f"{results.manifest.get('scenario_name', '')} | {band} | manifest {results.hash} | model output "
            "under stated assumptions",
            fontsize=7,
            color="0.35",
        )
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        path = out_dir / f"{v}.png"
        write_file(path, fig.savefig, overwrite=True)
        plt.close(fig)
        paths.append(path)
    return paths
