"""Robust statistics shared by the stages (the bottom of the package: imports no stage)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Median absolute deviation times this estimates the standard deviation of normal data
# (1 / Phi^-1(3/4); Rousseeuw and Croux 1993), unmoved by a minority of outliers.
MAD_TO_SD = 1.4826


def robust_scale(values: Sequence[float] | np.ndarray, floor: float = 0.0) -> float:
    """``MAD_TO_SD`` x the median absolute deviation of ``values`` (a 1-d sequence, not
    empty), at least ``floor``."""
    values = np.asarray(values)  # its own dtype: float32 cosines stay float32
    centre = np.median(values)
    return max(MAD_TO_SD * float(np.median(np.abs(values - centre))), floor)
