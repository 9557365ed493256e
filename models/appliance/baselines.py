"""The archive's reference classifiers, recomputed on the same split: 1-NN Euclidean
and 1-NN DTW. Numpy only, so the model card needs no time series library.
"""

from __future__ import annotations

import numpy as np


def one_nn_euclidean(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Label of each test series' nearest training series by Euclidean distance."""
    distances = (
        (X_test**2).sum(axis=1)[:, None]
        + (X_train**2).sum(axis=1)[None, :]
        - 2.0 * X_test @ X_train.T
    )
    return y_train[distances.argmin(axis=1)]


def dtw_distances(A: np.ndarray, B: np.ndarray, window: float = 1.0) -> np.ndarray:
    """Squared-cost DTW between every row of A and every row of B: (len(A), len(B)).

    `window` is the Sakoe-Chiba band as a fraction of the length (1.0 = unconstrained,
    the UCR "DTW (w=100)" column). Filled anti-diagonal by anti-diagonal: each cell
    depends only on the two anti-diagonals before it, so one step is a few vectorised
    operations over every pair at once, on contiguous slices (no fancy indexing).
    """
    length = A.shape[1]
    if B.shape[1] != length:
        raise ValueError("DTW here compares equal-length series")
    band = length if window >= 1.0 else int(np.ceil(window * length))
    shape = (A.shape[0], B.shape[0], length + 1)
    # Column c holds row i = c - 1 of the DP table; column 0 (i = -1) stays infinite.
    prev2, prev1, current = (np.full(shape, np.inf) for _ in range(3))
    for k in range(2 * length - 1):
        # Cells (i, k - i) inside the table and inside the band |i - j| <= band.
        lo = max(0, k - length + 1, -(-(k - band) // 2))
        hi = min(k, length - 1, (k + band) // 2)
        a = A[:, lo:hi + 1]
        b = B[:, k - hi:k - lo + 1][:, ::-1]  # j = k - i for i = lo..hi
        cost = (a[:, None, :] - b[None, :, :]) ** 2
        cells = current[:, :, lo + 1:hi + 2]
        if k == 0:
            cells[...] = cost
        else:
            np.minimum(prev1[:, :, lo:hi + 1], prev1[:, :, lo + 1:hi + 2], out=cells)  # up, left
            np.minimum(cells, prev2[:, :, lo:hi + 1], out=cells)  # diagonal
            cells += cost
        # Buffers are reused, so the cells just outside this diagonal's range (which the
        # next two diagonals read as "not on the path") must be reset to infinity.
        if lo > 0:
            current[:, :, lo] = np.inf
        if hi + 2 <= length:
            current[:, :, hi + 2] = np.inf
        prev2, prev1, current = prev1, current, prev2
    return prev1[:, :, length].copy()


def one_nn_dtw(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
               window: float = 1.0, chunk: int = 10) -> np.ndarray:
    """Label of each test series' nearest training series by DTW."""
    labels = []
    for start in range(0, len(X_test), chunk):
        distances = dtw_distances(X_test[start:start + chunk], X_train, window)
        labels.append(y_train[distances.argmin(axis=1)])
    return np.concatenate(labels)
