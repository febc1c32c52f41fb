"""Wrong: k-means++ measures D to the last centroid chosen instead of the nearest of all the
centroids chosen so far."""

import numpy as np


def _check_k(k, N):
    if not 1 <= k <= N:
        raise ValueError(f"k must be in [1, {N}], got {k}")


def kmeans_plus_plus_init(X, k, rng):
    X = np.asarray(X, dtype=np.float64)
    N = len(X)
    _check_k(k, N)
    chosen = np.zeros(N, dtype=bool)
    idx = int(rng.integers(N))
    chosen[idx] = True
    centroids = [X[idx]]
    d2 = ((X - X[idx]) ** 2).sum(axis=1)
    for _ in range(1, k):
        if d2.sum() > 0:
            idx = int(rng.choice(N, p=d2 / d2.sum()))
        else:
            idx = int(rng.choice(np.flatnonzero(~chosen)))
        chosen[idx] = True
        centroids.append(X[idx])
        d2 = ((X - X[idx]) ** 2).sum(axis=1)
    return np.stack(centroids)


def _assign(X, C):
    labels = (((X[:, None, :] - C[None]) ** 2).sum(axis=2)).argmin(axis=1)
    d2 = ((X - C[labels]) ** 2).sum(axis=1)
    return labels, d2


def _update(X, labels, d2, k, C):
    new = C.copy()
    empty = []
    for j in range(k):
        members = X[labels == j]
        if len(members):
            new[j] = members.mean(axis=0)
        else:
            empty.append(j)
    farthest = np.argsort(-d2, kind="stable")
    for j, i in zip(empty, farthest, strict=False):
        new[j] = X[i]
    return new


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
        labels, d2 = _assign(X, C)
        new = _update(X, labels, d2, k, C)
        shift = np.sqrt(((new - C) ** 2).sum(axis=1)).max()
        C = new
        if shift < tol:
            break
    labels, d2 = _assign(X, C)
    return C, labels, float(d2.sum())
