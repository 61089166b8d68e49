"""Rounding money to cents as a merchant (and Excel) does: half away from zero.

Amounts are stored with up to 4 decimals (DECIMAL(18,4)), so sums can end in half a cent
(0.015). pandas/numpy round() and Python's round() work on binary floats and round half to
even (0.015 -> 0.01); Excel shows 0.02. Values are first snapped to the 4-decimal grid they
came from, then rounded half away from zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_cents(values):
    """Money rounded to cents, half away from zero (a Series, array or scalar)."""
    if isinstance(values, pd.Series):
        return pd.Series(round_cents(values.to_numpy(dtype="float64")), index=values.index)
    arr = np.asarray(values, dtype="float64")
    snapped = np.round(arr, 4)
    out = np.sign(snapped) * np.floor(np.abs(snapped) * 100 + 0.5 + 1e-7) / 100
    out = np.where(np.isnan(arr), np.nan, out) + 0.0  # + 0.0: no negative zero
    return float(out) if out.ndim == 0 else out
