"""k-means clustering: Lloyd's algorithm with k-means++ seeding, written out in numpy."""

from __future__ import annotations

import numpy as np


def kmeans_plus_plus_init(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k initial centroids chosen among the points by k-means++ (D² sampling).

        c_1 = a point drawn uniformly from X
        c_j = a point drawn with probability  D(x)² / sum_x' D(x')²,   j = 2..k,
        where D(x) = the distance from x to the nearest centroid already chosen

    Args:
        X: (N, D) points, any real dtype (computed in float64).
        k: the number of centroids, 1 <= k <= N.
        rng: the only source of randomness (no np.random.* globals, no seeding inside), so
            that two generators seeded alike give the same centroids.

    Returns:
        (k, D) float64: rows of X at k distinct indices, in the order they were chosen.

    Conventions and edge cases:
        Plain k-means++: one candidate per step (not scikit-learn's "greedy" variant that
        tries several and keeps the best). A point already chosen has D = 0 and is never
        drawn again. If every point left has D = 0 (X has fewer than k distinct points),
        the next centroid is drawn uniformly among the indices not chosen yet, so the
        result never holds a NaN.

    Raises:
        ValueError: if k < 1 or k > N.

    Do not use: torch (numpy only), sklearn, scipy.cluster.
    """
    X = np.asarray(X, dtype=np.float64)
    N = X.shape[0]
    _check_k(k, N)
    chosen = np.zeros(N, dtype=bool)
    first = int(rng.integers(N))
    chosen[first] = True
    centroids = [X[first]]
    d2 = _squared_distances_to(X, X[first])  # (N,) D(x)² to the nearest centroid so far
    for _ in range(1, k):
        total = d2.sum()
        if total > 0:
            # D² sampling: far points are likely, chosen points (D = 0) impossible
            idx = int(rng.choice(N, p=d2 / total))
        else:  # every point left sits on a centroid: fall back to a uniform draw
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        chosen[idx] = True
        centroids.append(X[idx])
        d2 = np.minimum(d2, _squared_distances_to(X, X[idx]))  # nearest of all, not the last
    return np.stack(centroids)  # (k, D)


def kmeans(
    X: np.ndarray,
    k: int,
    *,
    n_iter: int = 100,
    tol: float = 1e-6,
    init: str | np.ndarray = "k-means++",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means: alternate assigning points to their nearest centroid and moving
    each centroid to the mean of its points.

        repeat at most n_iter times:
            assign:  labels[i] = argmin_j ||X[i] - C[j]||²
            update:  C_new[j] = mean of the points labelled j   (see "empty clusters")
            stop after this update if  max_j ||C_new[j] - C[j]||₂ < tol
        then assign once more: the labels and inertia returned are those of the returned C
        inertia = sum_i ||X[i] - C[labels[i]]||²

    Args:
        X: (N, D) points, any real dtype (computed in float64).
        k: the number of clusters, 1 <= k <= N.
        n_iter: the largest number of updates (n_iter >= 0; 0 returns the initial
            centroids with their labels and inertia).
        tol: convergence threshold on the largest Euclidean distance (not squared, not
            summed over centroids) that any one centroid moved in the last update.
        init: how the centroids start:
            "k-means++": kmeans_plus_plus_init(X, k, np.random.default_rng(seed));
            "random": k rows of X at distinct indices drawn uniformly with
                np.random.default_rng(seed);
            a (k, D) array: these centroids (copied, never modified).
        seed: seeds the initialisation; nothing else is random.

    Returns:
        (centroids, labels, inertia): centroids (k, D) float64, labels (N,) an integer
        array (np.argmin's np.intp is fine) in [0, k), inertia a Python float. Every
        labels[i] is the index of a centroid nearest to X[i] among the returned centroids
        (either one on a tie), and inertia is the sum of those squared distances.

    Conventions and edge cases:
        Empty clusters: if after an assignment a cluster has no points, its new centroid is
        the point farthest from its own centroid (the largest ||X[i] - C[labels[i]]||,
        measured with the centroids of that assignment); with several empty clusters, the
        farthest points in decreasing order of distance go to the empty clusters in
        increasing order of index. The other clusters take the means of their points.
        The inertia never rises from one update to the next. k = 1 gives the mean of X;
        k = N gives inertia 0; duplicate points are fine (no NaN, no crash). X and an init
        array are left unchanged.

    Raises:
        ValueError: if k < 1 or k > N; if init is a string other than "k-means++" or
            "random"; if an init array's shape is not (k, D).

    Do not use: torch (numpy only), sklearn, scipy.cluster.
    """
    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    _check_k(k, N)
    if isinstance(init, str):
        rng = np.random.default_rng(seed)
        if init == "k-means++":
            C = kmeans_plus_plus_init(X, k, rng)
        elif init == "random":
            C = X[rng.choice(N, size=k, replace=False)]
        else:
            raise ValueError(f'init must be "k-means++", "random" or a (k, D) array, not {init!r}')
    else:
        C = np.array(init, dtype=np.float64)  # a copy: the caller's array stays as it was
        if C.shape != (k, D):
            raise ValueError(f"an init array must have shape (k, D) = {(k, D)}, not {C.shape}")

    for _ in range(n_iter):
        labels, d2 = _assign(X, C)
        C_new = _update(X, labels, d2, k)
        shift = np.sqrt(((C_new - C) ** 2).sum(axis=1)).max()  # the farthest any centroid moved
        C = C_new
        if shift < tol:
            break
    # assign once more, so that the labels and inertia belong to the centroids returned
    labels, d2 = _assign(X, C)
    return C, labels, float(d2.sum())


def _check_k(k: int, N: int) -> None:
    if not 1 <= k <= N:
        raise ValueError(f"k must be between 1 and the number of points {N}, not {k}")


def _squared_distances_to(X: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ((X - c) ** 2).sum(axis=1)  # (N,)


def _assign(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's nearest centroid and its exact squared distance to it."""
    # ||x - c||² = ||x||² - 2 x.c + ||c||²: one (N, D) x (D, k) product, no (N, k, D) array;
    # ||x||² is the same for every centroid, so the argmin does not need it
    scores = (C**2).sum(axis=1) - 2 * np.einsum("nd,kd->nk", X, C)  # (N, k)
    labels = scores.argmin(axis=1)  # (N,), ties to the lowest index
    diff = X - C[labels]  # (N, D)
    d2 = np.einsum("nd,nd->n", diff, diff)  # (N,) exact: k = N gives inertia 0, not 1e-15
    return labels, d2


def _update(X: np.ndarray, labels: np.ndarray, d2: np.ndarray, k: int) -> np.ndarray:
    """The mean of each cluster; an empty cluster takes the point farthest from its centroid."""
    one_hot = np.eye(k)[labels]  # (N, k): one_hot[i, j] = 1 if point i is in cluster j
    counts = one_hot.sum(axis=0)  # (k,)
    sums = one_hot.T @ X  # (k, D)
    C = sums / np.maximum(counts, 1)[:, None]  # (k, D); empty rows are 0 for now, not NaN
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        farthest = np.argsort(-d2, kind="stable")[: empty.size]  # decreasing distance
        C[empty] = X[farthest]
    return C
