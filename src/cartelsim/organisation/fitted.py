"""Fitted defaults of the organisation layer's adaptation: placeholder until the calibration script runs.

Written by ``data-raw/fit_organisation_adaptation.py``; do not edit by hand. ``FITTED[name]`` is
``(value, fitted)``: ``fitted`` False means the value is still the spec's starting assumption.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIT", "FITTED", "SOURCE"]

SOURCE = "data-raw/fit_organisation_adaptation.py (not yet run: the spec's assumption)"

FITTED: dict[str, tuple[float, bool]] = {
    "fission_probability_1000_members": (0.15, False),
    "fission_probability_20000_members": (0.35, False),
    "removal_violence_leader_factor": (1.5, False),
    "removal_violence_weeks": (52.0, False),
}

#: What was fitted to what (targets, model values at the fit, losses); empty until the script runs.
FIT: dict[str, Any] = {}
