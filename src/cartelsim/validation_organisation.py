"""Moved to :mod:`cartelsim.validation.organisation` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim.validation import organisation as _moved

warnings.warn(
    "cartelsim.validation_organisation moved to cartelsim.validation.organisation; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
