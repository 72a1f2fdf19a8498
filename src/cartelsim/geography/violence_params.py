"""Moved to :mod:`cartelsim.params.violence` in 0.2; this path works for one release, with a warning."""

import sys
import warnings

from cartelsim.params import violence as _moved

warnings.warn(
    "cartelsim.geography.violence_params moved to cartelsim.params.violence; the old path goes in 0.3",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
