"""Moved to :mod:`cartelsim.validation.geography` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim.validation import geography as _moved

warnings.warn(
    "cartelsim.validation_geography moved to cartelsim.validation.geography; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
