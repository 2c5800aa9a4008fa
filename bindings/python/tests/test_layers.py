"""Layers against numpy float64 on shapes that break the GPU's tiling, adversarial values,
every input dtype and layout, and the weight accessors."""

import numpy as np
import pytest

from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import ReLU, SoftMax

from conftest import assert_close, softmax64

# (batch, n_in, n_out): 1, primes, tile edges (16, 64) ± 1, tall and wide.
LINEAR_SHAPES = [(1, 1, 1), (3, 2, 5), (7, 13, 17), (16, 15, 17), (65, 63, 64),
                 (1, 129, 3), (300, 8, 2), (2, 5, 257)]


@pytest.mark.parametrize("batch,n_in,n_out", LINEAR_SHAPES)
def test_linear_matches_float64(rng, batch, n_in, n_out):
    lin = Linear(n_in, n_out, seed=batch * 1000 + n_in)
    x = rng.uniform(-1, 1, (batch, n_in))
    dy = rng.uniform(-1, 1, (batch, n_out))
    W = lin.W.astype(np.float64)
    x1 = np.hstack([np.ones((batch, 1)), x.astype(np.float32).astype(np.float64)])
    dy32 = dy.astype(np.float32).astype(np.float64)
    what = f"{batch}x{n_in}->{n_out}"
    assert_close(lin.forward(x), x1 @ W, 1e-5, f"Y {what}")
    assert_close(lin.backward(dy), dy32 @ W[1:].T, 1e-5, f"dX {what}")
    assert_close(lin._W_pd, x1.T @ dy32, 1e-5, f"dW {what}")
    assert_close(lin.weight_grad, lin._W_pd[1:], 0, f"weight_grad {what}")
    assert_close(lin.bias_grad, lin._W_pd[0], 0, f"bias_grad {what}")
    dx_j = lin.backward(dy, use_jacobian=True)
    assert_close(dx_j, dy32 @ W[1:].T, 1e-5, f"dX via Jacobian {what}")
    assert_close(lin._W_pd, x1.T @ dy32, 1e-5, f"dW via Jacobian {what}")


@pytest.mark.parametrize("shape", [(1,), (31,), (33,), (1024,), (3, 1), (5, 16385), (37, 1025)])
def test_softmax_matches_float64(rng, shape):
    x = rng.normal(0, 5, shape)
    dy = rng.normal(0, 1, shape)
    sm = SoftMax()
    y = sm.forward(x)
    y64 = softmax64(x.astype(np.float32))
    # WGSL allows exp an error of 3 + 2|x| ulp, and x − max reaches −40 here: 1e-5 as in the
    # Rust suite (tests/softmax_relu.rs).
    assert_close(y, y64, 1e-5, f"y {shape}")
    dy32 = dy.astype(np.float32).astype(np.float64)
    want = y64 * (dy32 - (dy32 * y64).sum(axis=-1, keepdims=True))
    assert_close(sm.backward(dy), want, 1e-5, f"dx {shape}")


@pytest.mark.parametrize(
    "row",
    [[10000, 10001, 10002, 10003], [-1e30, 0.0], [0, 0, 1, 0], [1e30, -1e30, 1e30], [7.0] * 9],
)
def test_softmax_adversarial_rows(row):
    y = SoftMax(len(row)).forward(np.array(row))
    assert_close(y, softmax64(np.array(row, dtype=np.float32)), 1e-7, f"softmax {row}")
    assert abs(float(y.sum()) - 1.0) < 1e-6


def test_relu_and_its_jacobian(rng):
    x = rng.normal(0, 1, (9, 33))
    x[0, :3] = 0.0
    relu = ReLU((9, 33))
    assert_close(relu.forward(x), np.maximum(x.astype(np.float32), 0), 0, "relu")
    dy = rng.normal(0, 1, (9, 33)).astype(np.float32)
    assert_close(relu.backward(dy), dy * (x > 0), 0, "relu backward")
    assert_close(relu.jacobian(), np.diag((x > 0).ravel().astype(np.float64)), 0, "jacobian")


@pytest.mark.parametrize(
    "x",
    [
        np.array([3, -1, 2], dtype=np.int64),
        np.array([3, -1, 2], dtype=np.int8),
        np.array([3.0, -1.0, 2.0]),
        np.array([True, False, True]),
        [3, -1, 2],
        (3.0, -1, 2),
        np.arange(9.0)[::3] - 1,  # a strided view
    ],
)
def test_any_numeric_array_like_goes_in(x):
    y = ReLU(3).forward(x)
    assert y.dtype == np.float32
    assert y.tolist() == np.maximum(np.asarray(x, dtype=np.float32), 0).tolist()


def test_non_contiguous_matrix_input(rng):
    x = rng.normal(0, 1, (6, 4)).T  # Fortran order
    lin = Linear(6, 3, seed=1)
    x1 = np.hstack([np.ones((4, 1)), x.astype(np.float32)])
    assert_close(lin.forward(x), x1 @ lin.W.astype(np.float64), 1e-5, "transposed input")
    assert x.shape == (4, 6)  # the input is not changed


def test_inputs_are_not_modified(rng):
    x = rng.normal(0, 1, (3, 4))
    keep = x.copy()
    SoftMax().forward(x)
    Linear(4, 2, seed=0).forward(x)
    np.testing.assert_array_equal(x, keep)


def test_w_setter_loads_weights_and_checks_the_shape():
    lin = Linear(3, 2, seed=0)
    W = np.array([[0.5, -1.0], [1, 0], [0, 1], [2, 2]])  # bias first
    lin.W = W
    np.testing.assert_array_equal(lin.W, W.astype(np.float32))
    np.testing.assert_array_equal(lin.bias, [0.5, -1.0])
    np.testing.assert_array_equal(lin.weight, W[1:])
    assert lin.forward([1, 2, 3]).tolist() == [0.5 + 1 + 6, -1 + 2 + 6]
    with pytest.raises(ValueError, match=r"Linear.W: expected an array of shape \(4, 2\), got \(3, 2\)"):
        lin.W = W[1:]
    np.testing.assert_array_equal(lin.W, W.astype(np.float32))  # unchanged
    lin.weight = np.zeros((3, 2))
    lin.bias = [1, 2]
    assert lin.forward([1, 2, 3]).tolist() == [1, 2]
    with pytest.raises(ValueError, match="Linear.bias"):
        lin.bias = [1, 2, 3]


def test_seed_makes_weights_reproducible_and_none_does_not():
    np.testing.assert_array_equal(Linear(4, 3, seed=7).W, Linear(4, 3, seed=7).W)
    assert not np.array_equal(Linear(4, 3).W, Linear(4, 3).W)
    bound = 1 / np.sqrt(40)
    assert np.all(np.abs(Linear(40, 30, seed=1).W) <= bound)


def test_gradients_are_none_before_backward_and_w_is_not():
    lin = Linear(2, 2, seed=0)
    assert lin._W_pd is None and lin.weight_grad is None and lin.bias_grad is None
    assert lin.in_features == 2 and lin.out_features == 2
    lin.forward([1, 2])
    lin.backward([1, 1])
    assert lin._W_pd.tolist() == [[1, 1], [1, 1], [2, 2]]


def test_repr_shows_the_constructor():
    assert repr(SoftMax(5)) == "SoftMax(5)"
    assert repr(ReLU((2, 5))) == "ReLU((2, 5))"
    assert repr(SoftMax()) == "SoftMax()"
    assert repr(Linear(3, 5, seed=0)) == "Linear(3, 5)"
    assert repr(Linear((3, 2), (3, 5), seed=0)) == "Linear((3, 2), (3, 5))"


def test_an_int_shape_also_takes_a_batch_of_rows():
    y = SoftMax(3).forward(np.zeros((4, 3)))
    assert y.shape == (4, 3)
    assert_close(y, np.full((4, 3), 1 / 3), 1e-7, "uniform")
