"""Moved to :mod:`cartelsim.places` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim import places as _moved

warnings.warn(
    "cartelsim.geography.data moved to cartelsim.places; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
