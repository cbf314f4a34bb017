"""Linear regions: exact counts, bounds, the sawtooth and the segment walk."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import relunet as rn


@given(st.integers(1, 4), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_one_layer_region_count_equals_the_closed_form_in_general_position(
    n_in, n_units, seed
):
    # Random normals and offsets are in general position with probability 1.
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(n_units, n_in)), rng.normal(size=n_units)
    exact = rn.hyperplane_region_count(W, b)
    assert (
        exact
        == rn.one_layer_region_count(n_in, n_units)
        == rn.serra_upper_bound([n_in, n_units])
    )
    # Every region is a distinct activation pattern: sampling can only find fewer.
    samples = rng.normal(size=(20_000, n_in)) * rng.choice(
        [1, 10, 100], size=(20_000, 1)
    )
    _, sampled = rn.label_patterns(rn.activation_pattern(samples, rn.Dense(W, b)))
    assert sampled <= exact


def test_region_count_below_the_closed_form_when_not_in_general_position():
    # Three lines through the origin: 6 regions, not 1 + 3 + 3 = 7.
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert rn.hyperplane_region_count(W, np.zeros(3)) == 6
    # Two parallel lines and one crossing both: 6 regions, not 7.
    W = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    assert rn.hyperplane_region_count(W, np.array([0.0, -2.0, 0.0])) == 6
    # The same line twice counts once; a zero row cuts nothing.
    W = np.array([[1.0, 1.0], [-2.0, -2.0], [0.0, 0.0]])
    assert rn.hyperplane_region_count(W, np.array([1.0, -2.0, 5.0])) == 2


@pytest.mark.parametrize("n_units", [1, 4, 9])
def test_one_dimensional_layer_pieces_by_the_segment_walk(n_units):
    rng = np.random.default_rng(n_units)
    layer = rn.Dense(rng.normal(size=(n_units, 1)), rng.normal(size=n_units))
    breaks = rn.breakpoints_on_segment([layer], [-1e6], [1e6])
    assert len(breaks) + 1 == rn.one_layer_region_count(1, n_units) == n_units + 1


def test_one_layer_two_dimensional_grid_is_exact_for_lines_in_a_star():
    # 4 lines through points on a small circle: every region meets the box.
    angles = np.array([0.1, 0.9, 1.7, 2.5])
    W = np.column_stack([np.cos(angles), np.sin(angles)])
    b = np.array([0.3, -0.2, 0.1, -0.35])
    _, count = rn.grid_regions(rn.Dense(W, b), (-20, 20), (-20, 20), 801)
    assert count == rn.one_layer_region_count(2, 4) == 11


def test_closed_forms_by_hand():
    assert rn.one_layer_region_count(2, 3) == 1 + 3 + 3
    assert rn.one_layer_region_count(3, 2) == 4  # sum stops at C(2, 2)
    assert rn.serra_upper_bound([2, 5]) == rn.one_layer_region_count(2, 5) == 16
    # Two layers of 2 on a 1-D input: j_1 in {0, 1}, j_2 <= min(1, 2 - j_1, 2).
    assert rn.serra_upper_bound([1, 2, 2]) == 9
    assert rn.montufar_lower_bound([2, 4, 4, 4]) == (
        2 * 2
    ) ** 2 * rn.one_layer_region_count(2, 4)
    assert rn.montufar_lower_bound([1, 2, 2, 2]) == 2 * 2 * 3
    # The deep bound never exceeds the trivial 2^(number of units).
    for widths in ([2, 4, 4, 4], [3, 8, 8], [1, 2, 2, 2, 2]):
        assert (
            rn.montufar_lower_bound(widths)
            <= rn.serra_upper_bound(widths)
            <= 2 ** sum(widths[1:])
        )


@pytest.mark.parametrize("depth", range(1, 11))
def test_sawtooth_has_two_to_the_depth_pieces(depth):
    layers = rn.sawtooth_layers(depth)
    breaks = rn.breakpoints_on_segment(layers, [0.0], [1.0])
    assert len(breaks) + 1 == 2**depth
    np.testing.assert_allclose(breaks, np.arange(1, 2**depth) / 2**depth, atol=1e-12)
    # The output is the tent map applied depth times: 0 at even, 1 at odd multiples of
    # 2^-depth.
    knots = np.arange(2**depth + 1)[:, None] / 2**depth
    np.testing.assert_allclose(
        rn.forward(knots, layers)[:, 0], np.arange(2**depth + 1) % 2, atol=1e-12
    )
    assert len(breaks) + 1 <= rn.serra_upper_bound([1] + [2] * depth)


@pytest.mark.parametrize("seed", range(5))
def test_segment_walk_matches_dense_sampling(seed):
    layers = rn.he_normal([2, 12, 12, 12, 1], seed=seed, bias_std=0.2)
    start, end = np.array([-1.5, -1.0]), np.array([1.0, 1.5])
    breaks = rn.breakpoints_on_segment(layers, start, end)
    t = np.linspace(0, 1, 400_001)
    labels, _ = rn.label_patterns(
        rn.activation_pattern(start + t[:, None] * (end - start), layers)
    )
    changes = t[1:][np.diff(labels) != 0]
    # Every sampled change is within one sample step of an exact breakpoint, and
    # no exact breakpoint is missed (pieces here are far wider than the step).
    assert len(changes) == len(breaks)
    np.testing.assert_allclose(changes, breaks, atol=1 / 400_000)


def test_grid_regions_layout_and_errors():
    layer = rn.Dense([[1.0, 0.0]], [0.0])  # active where x_1 > 0
    labels, count = rn.grid_regions(layer, (-1, 1), (-1, 1), 4)
    assert count == 2 and labels.shape == (4, 4)
    assert np.all(labels[:, :2] == labels[0, 0]) and np.all(
        labels[:, 2:] != labels[0, 0]
    )
    with pytest.raises(ValueError, match="needs a network with n_in = 2, got n_in = 3"):
        rn.grid_regions(rn.Dense(np.ones((1, 3)), [0.0]), (-1, 1), (-1, 1), 10)
    with pytest.raises(ValueError, match="resolution must be an integer >= 2, got 1"):
        rn.grid_regions(layer, (-1, 1), (-1, 1), 1)
    with pytest.raises(ValueError, match=r"xlim must be \(low, high\) with low < high"):
        rn.grid_regions(layer, (1, -1), (-1, 1), 10)


def test_segment_and_bound_errors():
    layers = rn.sawtooth_layers(2)
    with pytest.raises(
        ValueError, match=r"start must have shape \(1,\), got shape \(2,\)"
    ):
        rn.breakpoints_on_segment(layers, [0.0, 0.0], [1.0])
    with pytest.raises(RuntimeError, match="more than 2 pieces"):
        rn.breakpoints_on_segment(layers, [0.0], [1.0], max_pieces=2)
    with pytest.raises(ValueError, match="every n_l >= n_0"):
        rn.montufar_lower_bound([3, 2, 4])
    with pytest.raises(ValueError, match="widths must hold positive integers, got 0"):
        rn.serra_upper_bound([2, 0])
    with pytest.raises(TypeError, match="patterns must be a boolean array"):
        rn.label_patterns(np.ones((2, 2)))


def test_label_patterns_counts_distinct_rows():
    patterns = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=bool)
    labels, count = rn.label_patterns(patterns)
    assert count == 3
    assert labels[0] == labels[1] and len({labels[0], labels[2], labels[3]}) == 3
    assert math.comb(3, 0) == 1  # (keeps math imported for the closed forms above)


@pytest.mark.parametrize("n_relu", [1, 7, 8, 9, 16, 63, 64, 65, 130])
def test_labels_are_numpy_unique_rows_in_lexicographic_order(n_relu):
    """label_patterns numbers patterns as np.unique(packed rows, axis=0) does,
    whether they are read as 64-bit keys (at most 64 units) or not."""
    rng = np.random.default_rng(n_relu)
    few = rng.random((40, n_relu)) < 0.5  # repeated rows, so labels repeat
    patterns = few[rng.integers(0, 40, size=3000)]
    labels, count = rn.label_patterns(patterns)
    _, expected = np.unique(np.packbits(patterns, axis=1), axis=0, return_inverse=True)
    np.testing.assert_array_equal(labels, expected.reshape(-1))
    assert count == len(np.unique(patterns, axis=0))


def test_nearly_parallel_hyperplanes_are_distinct_above_tol():
    # Two lines whose unit normals differ by about 1e-7, far above tol = 1e-9
    # but inside np.allclose's default relative tolerance (1e-5 of entries
    # near 0.7): two distinct, crossing lines, so 4 regions, not the 2 of one
    # repeated line.
    W = np.array([[1.0, 1.0], [1.0, 1.0 + 3e-7]])
    b = np.zeros(2)
    assert rn.hyperplane_region_count(W, b) == 4
    assert rn.hyperplane_region_count(W, b, tol=1e-6) == 2


def test_hyperplanes_at_the_edge_of_tol_are_one():
    # Normals whose first coordinates, 1.1e-9 and 0.9e-9, sit on either side of
    # tol = 1e-9: the same line up to 2e-10, hence 2 regions, under either sign.
    W = np.array([[1.1e-9, -1.0], [0.9e-9, -1.0]])
    assert rn.hyperplane_region_count(W, np.zeros(2)) == 2
    assert rn.hyperplane_region_count(W * [[1], [-1]], np.zeros(2)) == 2
    # Opposite normals and offsets describe one hyperplane as well.
    assert rn.hyperplane_region_count([[1.0, 2.0], [-1.0, -2.0]], [0.5, -0.5]) == 2
    assert rn.hyperplane_region_count([[1.0, 2.0], [-1.0, -2.0]], [0.5, 0.5]) == 3


@pytest.mark.parametrize(
    "tol, kind, message",
    [
        (float("nan"), ValueError, "tol must be a finite number >= 0, got nan"),
        (float("inf"), ValueError, "tol must be a finite number >= 0, got inf"),
        (-1e-9, ValueError, "tol must be a finite number >= 0, got -1e-09"),
        ("1e-9", TypeError, "tol must be a real number >= 0, got str '1e-9'"),
        (True, TypeError, "tol must be a real number >= 0, got bool True"),
        (None, TypeError, "tol must be a real number >= 0, got NoneType None"),
    ],
)
def test_hyperplane_region_count_validates_tol(tol, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        rn.hyperplane_region_count(np.eye(2), np.zeros(2), tol=tol)


def test_hyperplane_region_count_accepts_numpy_and_zero_d_tol():
    for tol in (np.float32(1e-9), np.array(1e-9), 0, 0.0):
        assert rn.hyperplane_region_count(np.eye(2), np.zeros(2), tol=tol) == 4
