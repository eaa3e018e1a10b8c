"""Errors a drift computation raises when its input cannot give a verdict at all."""

from __future__ import annotations


class DriftInputError(ValueError):
    """The input cannot be tested: an empty current or reference window, no columns, an unknown stattest.

    Per-column problems (missing column, schema drift, all-NaN) do not raise: the column gets `problem`
    set and counts as drifted.
    """
