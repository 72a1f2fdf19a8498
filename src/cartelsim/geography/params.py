"""Moved to :mod:`cartelsim.params.geography` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim.params import geography as _moved

warnings.warn(
    "cartelsim.geography.params moved to cartelsim.params.geography; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
