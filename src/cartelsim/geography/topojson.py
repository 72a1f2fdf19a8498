"""Moved to :mod:`cartelsim.topojson` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim import topojson as _moved

warnings.warn(
    "cartelsim.geography.topojson moved to cartelsim.topojson; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
