"""Tests for the kmeans kata: Lloyd's iterations, empty clusters, convergence, k-means++ seeding.

The oracles are written here: exact squared distances by broadcasting, one Lloyd step as a
plain mean per cluster, and the exact k-means++ probabilities of every ordered choice of
centroids on a five-point set, compared with the solution's draws by a seeded chi-square
test. Every draw is seeded.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import assert_close

# --- helpers: oracles, data, checks ---------------------------------------------------------


def squared_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(N, k) exact squared distances, by broadcasting (no expanded-square rounding)."""
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def lloyd_step(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """One assignment and update; the data used with it never empties a cluster."""
    labels = squared_distances(X, C).argmin(axis=1)
    assert len(np.unique(labels)) == len(C), "test data error: a cluster emptied"
    return np.stack([X[labels == j].mean(axis=0) for j in range(len(C))])


def blobs(
    seed: int, centres: np.ndarray, per_blob: int, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points drawn around each centre, shuffled; and each point's blob."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centres)), per_blob)
    X = centres[truth] + spread * rng.standard_normal((len(truth), centres.shape[1]))
    order = rng.permutation(len(truth))
    return X[order], truth[order]


def run(solution, X: np.ndarray, k: int, **kwargs) -> tuple[np.ndarray, np.ndarray, float]:
    """Call kmeans and check the types and shapes of what it returns."""
    __tracebackhide__ = True
    call = f"kmeans(X {X.shape}, k={k}, {kwargs_text(kwargs)})"
    result = solution.kmeans(X, k, **kwargs)
    assert isinstance(result, tuple) and len(result) == 3, (
        f"{call} returned {type(result).__name__}; expected (centroids, labels, inertia)"
    )
    centroids, labels, inertia = result
    assert isinstance(centroids, np.ndarray) and centroids.dtype == np.float64, (
        f"{call}: centroids should be a float64 np.ndarray, got {type(centroids).__name__} "
        f"{getattr(centroids, 'dtype', '')}"
    )
    assert centroids.shape == (k, X.shape[1]), (
        f"{call}: centroids have shape {centroids.shape}, expected {(k, X.shape[1])}"
    )
    assert isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.integer), (
        f"{call}: labels should be an integer np.ndarray, got {type(labels).__name__} "
        f"{getattr(labels, 'dtype', '')}"
    )
    assert labels.shape == (len(X),), (
        f"{call}: labels have shape {labels.shape}, expected {(len(X),)}"
    )
    assert isinstance(inertia, float), (
        f"{call}: inertia is a {type(inertia).__name__}, expected a Python float"
    )
    return centroids, labels, inertia


def kwargs_text(kwargs: dict) -> str:
    return ", ".join(
        f"{k}=<array {v.shape}>" if isinstance(v, np.ndarray) else f"{k}={v!r}"
        for k, v in kwargs.items()
    )


def assert_consistent(X: np.ndarray, centroids, labels, inertia: float, call: str) -> None:
    """Labels are nearest returned centroids, and inertia is the sum of their distances."""
    __tracebackhide__ = True
    assert_nearest(X, centroids, labels, call)
    expected = float(squared_distances(X, centroids)[np.arange(len(X)), labels].sum())
    assert abs(inertia - expected) <= 1e-9 * (1 + expected), (
        f"{call}: inertia is {inertia!r}, but the squared distances of the points to their "
        f"labels' centroids sum to {expected!r}"
    )


def assert_nearest(X: np.ndarray, centroids, labels, call: str) -> None:
    __tracebackhide__ = True
    assert np.isfinite(centroids).all(), f"{call}: centroids are not all finite:\n{centroids}"
    assert ((labels >= 0) & (labels < len(centroids))).all(), (
        f"{call}: labels outside [0, {len(centroids)}): {np.unique(labels)}"
    )
    d2 = squared_distances(X, centroids)  # (N, k)
    own = d2[np.arange(len(X)), labels]
    nearest = d2.min(axis=1)
    slack = 1e-9 * (1 + d2.max())  # near-ties may go either way
    worst = int(np.argmax(own - nearest))
    assert own[worst] <= nearest[worst] + slack, (
        f"{call}: point {worst} has label {labels[worst]} at squared distance {own[worst]:.6g}, "
        f"but centroid {d2[worst].argmin()} is nearer ({nearest[worst]:.6g}): the labels must "
        "come from the centroids returned (assign after the last update)"
    )


def matching_permutation(labels: np.ndarray, truth: np.ndarray) -> dict[int, int]:
    """The label -> truth map, if the two partitions are the same up to renaming."""
    pairs = set(zip(labels.tolist(), truth.tolist(), strict=True))
    mapping = dict(pairs)
    same = len(pairs) == len(mapping) == len(set(mapping.values())) == len(set(truth.tolist()))
    return mapping if same else {}


def row_indices(X: np.ndarray, rows: np.ndarray, call: str) -> list[int]:
    """The index in X of each row of rows (X's rows are distinct)."""
    __tracebackhide__ = True
    indices = []
    for row in rows:
        hits = np.flatnonzero((row == X).all(axis=1))
        assert len(hits) == 1, f"{call} returned {row}, which is not a row of X"
        indices.append(int(hits[0]))
    return indices


def chi_square_p_value(counts: dict, probabilities: dict, n: int, min_expected: float = 10.0):
    """Pearson's chi-square p-value, with the cells expected fewer than min_expected times
    pooled into one (and that pool merged with the next cell if it is still small)."""
    cells = sorted(probabilities, key=probabilities.get)
    observed = [counts.get(c, 0) for c in cells]
    expected = [n * probabilities[c] for c in cells]
    pooled_o = pooled_e = 0.0
    bins = []
    for o, e in zip(observed, expected, strict=True):
        if e < min_expected or (pooled_e and pooled_e < min_expected):
            pooled_o, pooled_e = pooled_o + o, pooled_e + e
        else:
            bins.append((o, e))
    if pooled_e:
        bins.append((pooled_o, pooled_e))
    stat = sum((o - e) ** 2 / e for o, e in bins)
    df = len(bins) - 1
    p = torch.special.gammaincc(
        torch.tensor(df / 2, dtype=torch.float64), torch.tensor(stat / 2, dtype=torch.float64)
    )
    return float(p), stat, df


# --- the README's worked example ------------------------------------------------------------

# data are made afresh for every test: a solution that writes into its inputs must not
# change what the next test (or the next solution graded in this process) sees


def readme_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0, 0], [1, 0], [0, 1], [5, 5], [6, 5], [5, 6]], dtype=np.float64)
    return X, np.array([[0, 0], [1, 0]], dtype=np.float64)


def test_the_readme_worked_example_holds(solution):
    expected = {
        0: ([[0, 0], [1, 0]], [0, 1, 0, 1, 1, 1], 144.0),
        1: ([[0, 0.5], [4.25, 4]], [0, 0, 0, 1, 1, 1], 11.9375),
        2: ([[1 / 3, 1 / 3], [16 / 3, 16 / 3]], [0, 0, 0, 1, 1, 1], 8 / 3),
        100: ([[1 / 3, 1 / 3], [16 / 3, 16 / 3]], [0, 0, 0, 1, 1, 1], 8 / 3),
    }
    for n_iter, (centroids, labels, inertia) in expected.items():
        call = f"kmeans(README X, 2, n_iter={n_iter}, init=[[0, 0], [1, 0]])"
        X, init = readme_data()
        got = run(solution, X, 2, n_iter=n_iter, init=init)
        assert_close(
            got[0],
            np.array(centroids, dtype=np.float64),
            msg=lambda m, c=call: f"{c} centroids: {m}",
        )
        assert got[1].tolist() == labels, f"{call}: labels {got[1].tolist()}, expected {labels}"
        assert abs(got[2] - inertia) < 1e-9, f"{call}: inertia {got[2]!r}, expected {inertia}"


# --- Lloyd's iterations ---------------------------------------------------------------------


def overlapping_blobs() -> tuple[np.ndarray, np.ndarray]:
    """60 points in three overlapping blobs, and a poor start: three points of one blob."""
    centres = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 3.0]])
    X, truth = blobs(10, centres, 20, 1.0)
    return X, X[np.flatnonzero(truth == 0)[:3]].copy()


def test_each_extra_iteration_is_one_more_lloyd_step_from_the_same_start(solution):
    X, init = overlapping_blobs()
    expected = init
    for n_iter in range(6):
        call = f"kmeans(X, 3, n_iter={n_iter}, tol=0.0, init=<3 points of one blob>)"
        centroids, labels, inertia = run(solution, X, 3, n_iter=n_iter, tol=0.0, init=init)
        assert_close(
            centroids,
            expected,
            rtol=1e-9,
            atol=1e-9,
            msg=lambda m, c=call, n=n_iter: (
                f"{c}: expected the start plus {n} Lloyd steps "
                f"(assign each point to its nearest centroid, move each centroid to its mean): {m}"
            ),
        )
        assert_consistent(X, centroids, labels, inertia, call)
        expected = lloyd_step(X, expected)


@pytest.mark.parametrize("start", ["poor_start", "far_centroid_start"])
def test_inertia_never_rises_from_one_iteration_to_the_next(solution, start):
    X, init = overlapping_blobs()
    if start == "far_centroid_start":
        init[2] = [40.0, -40.0]  # its cluster empties at once and must be re-seeded
    previous = np.inf
    for n_iter in range(10):
        call = f"kmeans(X, 3, n_iter={n_iter}, tol=0.0, init=<{start}>)"
        centroids, labels, inertia = run(solution, X, 3, n_iter=n_iter, tol=0.0, init=init)
        assert_consistent(X, centroids, labels, inertia, call)
        assert inertia <= previous * (1 + 1e-12), (
            f"{call}: inertia {inertia!r} rose from {previous!r} with n_iter={n_iter - 1}"
        )
        previous = inertia


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_well_separated_blobs_are_recovered_up_to_a_renaming_of_the_labels(solution, seed):
    centres = np.array([[0, 0, 0], [40, 0, 0], [0, 40, 0], [0, 0, 40.0], [40, 40, 40]])
    X, truth = blobs(seed, centres, 40, 0.5)
    call = f"kmeans(<5 blobs, 200 points>, 5, seed={seed})"
    centroids, labels, inertia = run(solution, X, 5, seed=seed)
    mapping = matching_permutation(labels, truth)
    assert mapping, f"{call}: the clusters found are not the five blobs"
    for label, blob in mapping.items():
        assert_close(
            centroids[label],
            X[truth == blob].mean(axis=0),
            rtol=1e-9,
            atol=1e-9,
            msg=lambda m, c=call, b=blob: f"{c}: the centroid of blob {b} is its mean: {m}",
        )
    assert_consistent(X, centroids, labels, inertia, call)


@settings(max_examples=30)
@given(
    n=st.integers(1, 30),
    d=st.integers(1, 3),
    k_fraction=st.floats(0, 1),
    n_iter=st.integers(0, 6),
    init=st.sampled_from(["k-means++", "random", "array"]),
    integers=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_labels_are_nearest_returned_centroids_and_inertia_is_their_distance(
    solution, n, d, k_fraction, n_iter, init, integers, seed
):
    rng = np.random.default_rng(seed)
    # small integers make duplicate points, ties and empty clusters common
    X = rng.integers(-3, 4, size=(n, d)) if integers else rng.standard_normal((n, d))
    X = X.astype(np.float64)
    k = 1 + int(k_fraction * (n - 1))
    start = rng.uniform(-3, 3, size=(k, d)) if init == "array" else init
    call = f"kmeans(X {X.shape}, k={k}, n_iter={n_iter}, init={init!r}, seed={seed})"
    centroids, labels, inertia = run(solution, X, k, n_iter=n_iter, init=start, seed=seed)
    assert_consistent(X, centroids, labels, inertia, call)


# --- convergence ----------------------------------------------------------------------------


def lloyd_path(X: np.ndarray, init: np.ndarray, steps: int) -> list[np.ndarray]:
    path = [init]
    for _ in range(steps):
        path.append(lloyd_step(X, path[-1]))
    return path


@pytest.mark.parametrize("scale", [1.0, 1e-3], ids=["unit_scale", "small_scale"])
def test_it_stops_after_the_first_update_that_moves_no_centroid_by_tol(solution, scale):
    X, init = overlapping_blobs()
    X, init = scale * X, scale * init
    path = lloyd_path(X, init, 12)
    moves = [float(np.sqrt(((b - a) ** 2).sum(axis=1)).max()) for a, b in itertools.pairwise(path)]
    # the first update that moves less than every update before it, well before convergence,
    # and a tol between its move and theirs: the run must stop after it, not before, not later
    step = next(
        m for m in range(2, len(moves)) if moves[m] < min(moves[:m]) / 1.5 and moves[m + 1] > 0
    )
    tol = (moves[step] * min(moves[:step])) ** 0.5
    call = f"kmeans(X * {scale:g}, 3, tol={tol:.3g}, init=<3 points of one blob>)"
    centroids, labels, inertia = run(solution, X, 3, tol=tol, init=init)
    assert_close(
        centroids,
        path[step + 1],
        rtol=1e-9,
        atol=1e-12,
        msg=lambda m: (
            f"{call}: the centroids moved by {[f'{v:.3g}' for v in moves]} (the "
            f"largest Euclidean move of any centroid, update by update), so it should stop after "
            f"update {step + 1}, the first to move less than tol: {m}"
        ),
    )
    assert_consistent(X, centroids, labels, inertia, call)


def test_a_tol_larger_than_any_move_stops_after_one_update(solution):
    X, init = overlapping_blobs()
    expected = lloyd_step(X, init)
    centroids, labels, inertia = run(solution, X, 3, tol=1e6, init=init)
    call = "kmeans(X, 3, tol=1e6, init=<3 points of one blob>)"
    assert_close(centroids, expected, rtol=1e-9, atol=1e-9, msg=f"{call}:")
    assert_consistent(X, centroids, labels, inertia, call)


# --- empty clusters -------------------------------------------------------------------------


# two blobs; the point farthest from its centroid is X[7] = (13, 4), then X[2] = (-2, 2.5)
def empty_x() -> np.ndarray:
    return np.array(
        [
            [0.0, 0.0],
            [1.0, 0.5],
            [-2.0, 2.5],
            [0.5, -1.0],
            [10.0, 0.0],
            [11.0, 1.0],
            [9.0, -1.0],
            [13.0, 4.0],
            [10.5, 0.5],
        ]
    )


def test_an_emptied_cluster_takes_the_point_farthest_from_its_centroid(solution):
    init = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 100.0]])
    call = "kmeans(<two blobs, 9 points>, 3, n_iter=1, init=[[0, 0], [10, 0], [100, 100]])"
    X = empty_x()
    centroids, labels, inertia = run(solution, X, 3, n_iter=1, init=init)
    assert_close(
        centroids[2],
        X[7],
        msg=lambda m: (
            f"{call}: no point is nearest to centroid 2, so it should be re-seeded "
            f"with the point farthest from its own centroid, X[7] = (13, 4): {m}"
        ),
    )
    assert_consistent(X, centroids, labels, inertia, call)


def test_several_emptied_clusters_take_the_farthest_points_in_order(solution):
    init = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 100.0], [-100.0, 50.0]])
    call = (
        "kmeans(<two blobs, 9 points>, 4, n_iter=1, init=[[0, 0], [10, 0], [100, 100], [-100, 50]])"
    )
    X = empty_x()
    centroids, labels, inertia = run(solution, X, 4, n_iter=1, init=init)
    assert_close(
        centroids[2:],
        X[[7, 2]],
        msg=lambda m: (
            f"{call}: centroids 2 and 3 are emptied, so they should take the "
            f"farthest point X[7] = (13, 4) and the next farthest X[2] = (-2, 2.5): {m}"
        ),
    )
    assert_consistent(X, centroids, labels, inertia, call)


# --- edge cases -----------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_one_cluster_is_the_mean_of_the_points(solution, init):
    X = np.array([[1, 2], [3, 5], [4, 4], [0, -1], [2, 0]])  # integers, mean (2, 2)
    call = f"kmeans(X (5, 2) of integers, 1, init={init!r})"
    centroids, labels, inertia = run(solution, X, 1, init=init)
    assert_close(centroids, np.array([[2.0, 2.0]]), msg=lambda m: f"{call}: {m}")
    assert labels.tolist() == [0] * 5, f"{call}: labels {labels.tolist()}, expected all 0"
    assert abs(inertia - 36.0) < 1e-9, f"{call}: inertia {inertia!r}, expected 36.0"


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_as_many_clusters_as_points_gives_every_point_its_own_centroid(solution, init):
    X = np.random.default_rng(3).standard_normal((12, 3))
    call = f"kmeans(X (12, 3), 12, init={init!r})"
    centroids, labels, inertia = run(solution, X, 12, init=init)
    assert inertia == 0.0, f"{call}: inertia {inertia!r}, expected exactly 0"
    assert sorted(labels.tolist()) == list(range(12)), f"{call}: labels {labels.tolist()}"
    assert_close(centroids[labels], X, msg=lambda m: f"{call}: each centroid is its point: {m}")


@pytest.mark.parametrize("k", [1, 3, 4, 6, 20])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_duplicate_points_give_no_nan_and_no_crash(solution, k, init):
    distinct = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    X = distinct[np.random.default_rng(4).permutation(np.repeat(np.arange(4), 5))]  # (20, 2)
    call = f"kmeans(<4 points, 5 copies each>, {k}, init={init!r})"
    centroids, labels, inertia = run(solution, X, k, init=init)
    assert_consistent(X, centroids, labels, inertia, call)
    if init == "k-means++" and k >= 4:
        # a copy of a chosen point has D = 0: k-means++ finds all four places
        assert inertia == 0.0, f"{call}: inertia {inertia!r}, expected 0"


def test_x_and_the_init_array_are_left_unchanged(solution):
    X, init = overlapping_blobs()
    X_before, init_before = X.copy(), init.copy()
    run(solution, X, 3, n_iter=5, init=init)
    assert np.array_equal(X, X_before), "kmeans(X, 3, init=init) modified X"
    assert np.array_equal(init, init_before), (
        "kmeans(X, 3, init=init) modified the init array: copy it before updating"
    )


def test_float32_points_give_float64_centroids(solution):
    X, init = overlapping_blobs()
    X32 = X.astype(np.float32)
    call = "kmeans(X float32, 3, n_iter=3, init=init)"
    centroids, labels, inertia = run(solution, X32, 3, n_iter=3, init=init)
    assert_consistent(X32.astype(np.float64), centroids, labels, inertia, call)


# --- initialisation -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7])
def test_k_means_plus_plus_init_returns_k_distinct_rows_of_x_reproducibly(solution, seed):
    X = np.random.default_rng(5).standard_normal((30, 4))
    call = f"kmeans_plus_plus_init(X (30, 4), 6, np.random.default_rng({seed}))"
    first = solution.kmeans_plus_plus_init(X, 6, np.random.default_rng(seed))
    assert isinstance(first, np.ndarray) and first.shape == (6, 4), (
        f"{call} returned {type(first).__name__} {getattr(first, 'shape', '')}, "
        "expected a (6, 4) np.ndarray"
    )
    assert first.dtype == np.float64, f"{call} has dtype {first.dtype}, expected float64"
    indices = row_indices(X, first, call)
    assert len(set(indices)) == 6, f"{call} chose rows {indices}, expected 6 distinct rows"
    again = solution.kmeans_plus_plus_init(X, 6, np.random.default_rng(seed))
    assert np.array_equal(first, again), f"{call} gave two answers for the same seed"


def test_k_means_plus_plus_init_depends_on_the_generator(solution):
    X = np.random.default_rng(5).standard_normal((30, 4))
    draws = {
        tuple(solution.kmeans_plus_plus_init(X, 3, np.random.default_rng(s)).ravel())
        for s in range(10)
    }
    assert len(draws) > 1, (
        "kmeans_plus_plus_init(X, 3, rng) gave the same centroids for ten seeds: draw the "
        "first centroid and the next ones with rng"
    )


# five points whose ordered triples of k-means++ choices all have probabilities above 1/600
def plus_plus_x() -> np.ndarray:
    return np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 3.0]])


def plus_plus_probabilities(X: np.ndarray) -> dict[tuple[int, int, int], float]:
    """P(first, second, third) for k-means++: uniform, then D² to the nearest centroid."""
    d2 = squared_distances(X, X)  # (N, N)
    n = len(X)
    probabilities = {}
    for i, j, m in itertools.permutations(range(n), 3):
        second = d2[i, j] / d2[i].sum()
        nearest = np.minimum(d2[i], d2[j])
        probabilities[(i, j, m)] = (1 / n) * second * nearest[m] / nearest.sum()
    return probabilities


def test_k_means_plus_plus_draws_each_centroid_with_probability_d_squared(solution):
    """2000 seeded draws of three centroids from five points against the exact distribution
    of the 60 ordered triples: uniform first, then D² to the nearest centroid chosen."""
    rng = np.random.default_rng(2024)
    X = plus_plus_x()
    call = "kmeans_plus_plus_init(X (5 points), 3, rng)"
    n = 2000
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(n):
        triple = tuple(row_indices(X, solution.kmeans_plus_plus_init(X.copy(), 3, rng), call))
        counts[triple] = counts.get(triple, 0) + 1
    probabilities = plus_plus_probabilities(X)
    impossible = {t: c for t, c in counts.items() if t not in probabilities}
    assert not impossible, f"{call} chose the same point twice: {impossible}"
    p, stat, df = chi_square_p_value(counts, probabilities, n)
    firsts = np.bincount([t[0] for t in counts for _ in range(counts[t])], minlength=5)
    assert p > 1e-7, (
        f"{call}, {n} draws: chi-square {stat:.1f} on {df} degrees of freedom (p = {p:.2g}); "
        f"the first centroid should be uniform (counts per point: {firsts.tolist()}), each next "
        "one drawn with probability proportional to the squared distance to the nearest "
        "centroid already chosen (not the distance, not the farthest point, not only the "
        "last centroid)"
    )


@pytest.mark.parametrize("seed", [0, 3])
def test_kmeans_starts_from_k_means_plus_plus_with_a_generator_of_the_seed(solution, seed):
    X = np.random.default_rng(6).standard_normal((25, 2))
    centroids, _, _ = run(solution, X, 4, n_iter=0, seed=seed)
    expected = solution.kmeans_plus_plus_init(X, 4, np.random.default_rng(seed))
    assert_close(
        centroids,
        expected,
        msg=lambda m: (
            f"kmeans(X, 4, n_iter=0, seed={seed}) should return "
            f"kmeans_plus_plus_init(X, 4, np.random.default_rng({seed})): {m}"
        ),
    )


@pytest.mark.parametrize("seed", [0, 3])
def test_random_init_starts_from_k_distinct_rows_of_x(solution, seed):
    X = np.random.default_rng(6).standard_normal((25, 2))
    call = f"kmeans(X, 4, n_iter=0, init='random', seed={seed})"
    centroids, _, _ = run(solution, X, 4, n_iter=0, init="random", seed=seed)
    indices = row_indices(X, centroids, call)
    assert len(set(indices)) == 4, f"{call} started from rows {indices}: expected 4 distinct"
    again, _, _ = run(solution, X, 4, n_iter=0, init="random", seed=seed)
    assert np.array_equal(centroids, again), f"{call} gave two answers for the same seed"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, 7])
def test_k_outside_one_to_n_raises_value_error(solution, k):
    X = np.random.default_rng(8).standard_normal((6, 2))
    with pytest.raises(ValueError):
        solution.kmeans(X, k)
    with pytest.raises(ValueError):
        solution.kmeans_plus_plus_init(X, k, np.random.default_rng(0))


@pytest.mark.parametrize("init", ["kmeans++", "k-means", "Random", "", "farthest"])
def test_an_unknown_init_raises_value_error(solution, init):
    X = np.random.default_rng(8).standard_normal((6, 2))
    with pytest.raises(ValueError):
        solution.kmeans(X, 2, init=init)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (2,)], ids=str)
def test_an_init_array_of_the_wrong_shape_raises_value_error(solution, shape):
    X = np.random.default_rng(8).standard_normal((6, 2))
    with pytest.raises(ValueError):
        solution.kmeans(X, 2, init=np.zeros(shape))


# --- speed ----------------------------------------------------------------------------------


@pytest.mark.speed
@pytest.mark.timeout(15)
def test_a_hundred_thousand_points_take_well_under_a_second_per_iteration(solution):
    """A Python loop over 100,000 points cannot finish in time: compute all the distances at
    once with broadcasting or a matrix product, and every mean with one reduction."""
    X = np.random.default_rng(9).standard_normal((100_000, 16))
    # 30 iterations: a vectorised solution needs about a second, a Python loop about half a
    # minute, so the 15 s limit separates them even on a slow or busy machine
    call = "kmeans(X (100000, 16), 8, n_iter=30, tol=0.0)"
    centroids, labels, inertia = run(solution, X, 8, n_iter=30, tol=0.0)
    sample = np.random.default_rng(10).choice(len(X), 2000, replace=False)
    assert_nearest(X[sample], centroids, labels[sample], call)
    expected = float(((X - centroids[labels]) ** 2).sum())
    assert abs(inertia - expected) <= 1e-9 * expected, (
        f"{call}: inertia is {inertia!r}, but the squared distances sum to {expected!r}"
    )
