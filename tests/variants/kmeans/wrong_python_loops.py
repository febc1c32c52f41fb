"""Wrong (too slow): right answers, but Python loops over the points in the seeding, the
assignment and the update, so 100,000 points take seconds per iteration."""

import numpy as np


def _check_k(k, N):
    if not 1 <= k <= N:
        raise ValueError(f"k must be in [1, {N}], got {k}")


def _nearest(X, C):
    labels = np.empty(len(X), dtype=np.int64)
    d2 = np.empty(len(X))
    for i, x in enumerate(X):
        dist = ((C - x) ** 2).sum(axis=1)
        labels[i] = dist.argmin()
        d2[i] = dist[labels[i]]
    return labels, d2


def kmeans_plus_plus_init(X, k, rng):
    X = np.asarray(X, dtype=np.float64)
    N = len(X)
    _check_k(k, N)
    chosen = [int(rng.integers(N))]
    for _ in range(1, k):
        d2 = np.empty(N)
        for i, x in enumerate(X):
            d2[i] = min(((X[c] - x) ** 2).sum() for c in chosen)
        if d2.sum() > 0:
            chosen.append(int(rng.choice(N, p=d2 / d2.sum())))
        else:
            left = [i for i in range(N) if i not in chosen]
            chosen.append(int(rng.choice(left)))
    return X[chosen]


def kmeans(X, k, *, n_iter=100, tol=1e-6, init="k-means++", seed=0):
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
            raise ValueError(f"unknown init {init!r}")
    else:
        C = np.array(init, dtype=np.float64)
        if C.shape != (k, D):
            raise ValueError(f"init has shape {C.shape}, expected {(k, D)}")
    for _ in range(n_iter):
        labels, d2 = _nearest(X, C)
        sums = np.zeros((k, D))
        counts = np.zeros(k, dtype=np.int64)
        for i, x in enumerate(X):
            sums[labels[i]] += x
            counts[labels[i]] += 1
        new = C.copy()
        empty = [j for j in range(k) if counts[j] == 0]
        order = np.argsort(-d2, kind="stable")
        for j in range(k):
            if counts[j]:
                new[j] = sums[j] / counts[j]
        for j, i in zip(empty, order, strict=False):
            new[j] = X[i]
        shift = max(np.sqrt(((new[j] - C[j]) ** 2).sum()) for j in range(k))
        C = new
        if shift < tol:
            break
    labels, d2 = _nearest(X, C)
    return C, labels, float(d2.sum())
