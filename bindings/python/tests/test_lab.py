"""The lab's notebook cells (imports changed) with the numbers the lab printed."""

import numpy as np

from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import ReLU, SoftMax

from conftest import assert_close, softmax64

LAB_TOL = 2e-7


def test_part1_softmax_prints_the_labs_numbers():
    sm = SoftMax(5)
    x_input = np.array([0, 1, 2, 3, 4])
    dL_dy = np.array([1, 2, 3, 2, 1])
    y_value = sm.forward(x_input)
    dL_dx = sm.backward(dL_dy)
    assert y_value.dtype == np.float32 and y_value.shape == (5,)
    assert dL_dx.dtype == np.float32 and dL_dx.shape == (5,)
    lab_y = [0.01165623, 0.03168492, 0.08612854, 0.23412166, 0.63640865]
    lab_dx = [-0.00510617, 0.01780491, 0.1345273, 0.13156147, -0.27878751]
    assert np.max(np.abs(y_value - lab_y)) < LAB_TOL
    assert np.max(np.abs(dL_dx - lab_dx)) < LAB_TOL
    y64 = softmax64(x_input)
    assert_close(dL_dx, y64 * (dL_dy - dL_dy @ y64), 1e-7, "dL/dx vs f64")
    assert_close(sm.backward(dL_dy, use_jacobian=True), dL_dx, 1e-7, "Jacobian path")
    assert_close(sm.jacobian(), np.diag(y64) - np.outer(y64, y64), 1e-7, "Jacobian")


def test_part2_relu_vector_and_matrix():
    relu = ReLU(5)
    y_value = relu.forward(np.array([0, -1, 2, -1, 4]))
    dL_dx = relu.backward(np.array([1, 2, 3, 2, 1]))
    assert y_value.tolist() == [0, 0, 2, 0, 4]
    assert dL_dx.tolist() == [0, 0, 3, 0, 1]  # ReLU'(0) = 0
    assert relu.backward(np.array([1, 2, 3, 2, 1]), use_jacobian=True).tolist() == [0, 0, 3, 0, 1]

    relu = ReLU((2, 5))
    x_input = np.array([[0, -1, 2, -1, 4], [0, -1, 2, -1, 4]])
    dL_dy = np.array([[1, 2, 3, 2, 1], [1, 2, 3, 2, 1]])
    y_value = relu.forward(x_input)
    dL_dx = relu.backward(dL_dy)
    assert y_value.shape == (2, 5) and y_value.tolist() == [[0, 0, 2, 0, 4]] * 2
    assert dL_dx.tolist() == [[0, 0, 3, 0, 1]] * 2
    assert relu.backward(dL_dy, use_jacobian=True).tolist() == dL_dx.tolist()


def linear_reference(W, x, dy):
    """The lab's Linear in f64 from its W (bias first row): Y, dL/dX, dL/dW."""
    W = W.astype(np.float64)
    x1 = np.hstack([np.ones((x.shape[0], 1)), x])
    return x1 @ W, dy @ W[1:].T, x1.T @ dy


def check_lab_linear(input_dim, output_dim):
    np.random.seed(5)
    linear = Linear(input_dim, output_dim)
    x_input = np.random.rand(*np.atleast_1d(input_dim))
    dL_dy = np.random.rand(*np.atleast_1d(output_dim))
    y_value = linear.forward(x_input)
    dL_dx = linear.backward(dL_dy)
    dL_dw = linear._W_pd
    n_in, n_out = np.atleast_1d(input_dim)[-1], np.atleast_1d(output_dim)[-1]
    assert linear.W.shape == dL_dw.shape == (n_in + 1, n_out)
    assert y_value.shape == np.shape(dL_dy) and dL_dx.shape == np.shape(x_input)

    y, dx, dw = linear_reference(linear.W, np.atleast_2d(x_input), np.atleast_2d(dL_dy))
    assert_close(y_value, y.reshape(y_value.shape), 1e-5, "Y")
    assert_close(dL_dx, dx.reshape(dL_dx.shape), 1e-5, "dL/dx")
    assert_close(dL_dw, dw, 1e-5, "dL/dW")
    # The bias is the first row: its gradient is the column sum of dL/dy.
    assert_close(dL_dw[0], np.atleast_2d(dL_dy).sum(axis=0), 1e-6, "bias row")

    dL_dx_jac = linear.backward(dL_dy, use_jacobian=True)
    dL_dw_jac = linear._W_pd
    assert_close(dL_dx_jac, dL_dx, 1e-6, "dL/dx via Jacobian")
    assert_close(dL_dw_jac, dL_dw, 1e-6, "dL/dW via Jacobian")


def test_part3_linear_matrix():
    check_lab_linear((3, 2), (3, 5))


def test_part3_linear_vector_input_is_one_row():
    check_lab_linear(3, 5)
