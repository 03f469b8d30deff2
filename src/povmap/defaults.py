"""Defaults shared by the Python API and the command line, each defined once.

Plain values and nothing else: the CLI reads them for its ``--help`` without importing the
analysis stack, and the stage that uses each one takes it as its default argument.
"""

from __future__ import annotations

#: Minimum rapidfuzz similarity (0-100) for a misspelt name to match; 101 turns fuzzy matching off.
FUZZY_THRESHOLD = 85.0

#: Conditional permutations of the local spatial statistics. The smallest p-value is
#: 2 / (permutations + 1): 9999 lets the FDR correction still find pockets in a province.
PERMUTATIONS = 9999
#: Seed of the permutations: the same input and seed give the same pockets.
SEED = 20240
#: Significance level of the pocket test (after the FDR correction).
ALPHA = 0.05
#: Gap (metres) between two desa that still counts as touching: boundary files have slivers.
SNAP_M = 50.0

#: Share of its desa with data (0 to 1) below which a kecamatan is not classified but shown as
#: "Data tidak lengkap" (``--min-coverage``, in percent on the command line).
MIN_COVERAGE = 0.5
#: The name of :data:`MIN_COVERAGE` up to povmap 0.1, kept for one release.
MIN_BERDATA = MIN_COVERAGE

#: Decimals of GeoJSON coordinates by default (6 ≈ 0.1 m) and the most accepted.
PRECISION = 6
MAX_PRECISION = 15

#: ``povmap trend``: a change of at most this many percentage points counts as no change (tetap).
TOLERANCE_POINTS = 0.1
#: ``povmap trend``: the target share of the population in extreme poverty, in percent.
TARGET_PERCENT = 0.0
