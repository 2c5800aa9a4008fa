"""Every misuse raises the right exception with a message that names the layer and shapes;
nothing crashes the interpreter and nothing the user passed is changed."""

import numpy as np
import pytest

import wgpu_backprop as wb
from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import ReLU, SoftMax


def test_forward_shape_that_does_not_fit_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"SoftMax.forward: input of shape \(4,\) .* \(5,\)"):
        SoftMax(5).forward(np.zeros(4))
    with pytest.raises(ValueError, match=r"ReLU.forward: input of shape \(3, 5\) .* \(2, 5\)"):
        ReLU((2, 5)).forward(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"Linear.forward: input of shape \(4,\) .*\(3,\)"):
        Linear(3, 5, seed=0).forward(np.zeros(4))
    with pytest.raises(ValueError, match=r"Linear.forward: input of shape \(2, 2\) .* \(3, 2\)"):
        Linear((3, 2), (3, 5), seed=0).forward(np.zeros((2, 2)))


@pytest.mark.parametrize("x", [np.zeros((2, 2, 2)), np.zeros(0), np.zeros((0, 3)), np.float64(3)])
def test_bad_rank_or_empty_input_is_a_value_error(x):
    with pytest.raises(ValueError, match=r"SoftMax.forward: input must be a non-empty vector or matrix"):
        SoftMax().forward(x)
    relu = ReLU()
    relu.forward(np.ones(3))
    with pytest.raises(ValueError, match=r"ReLU.backward: dL_dy must be a non-empty vector or matrix"):
        relu.backward(x)


def test_non_numeric_input_is_refused():
    with pytest.raises((ValueError, TypeError)):
        SoftMax().forward(["a", "b"])


def test_backward_before_forward_is_a_runtime_error():
    for layer in (SoftMax(3), ReLU(3), Linear(3, 2, seed=0)):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones(2))
        with pytest.raises(RuntimeError, match="before forward"):
            layer.jacobian()


def test_gradient_of_the_wrong_shape_names_both_shapes():
    sm = SoftMax(5)
    sm.forward(np.arange(5))
    with pytest.raises(ValueError, match=r"SoftMax::backward: .*\[5\].*\[4\]"):
        sm.backward(np.ones(4))
    with pytest.raises(ValueError, match=r"SoftMax::backward_jacobian"):
        sm.backward(np.ones(4), use_jacobian=True)
    lin = Linear(3, 2, seed=0)
    lin.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"Linear::backward: .*\[4, 2\].*\[4, 3\]"):
        lin.backward(np.ones((4, 3)))


@pytest.mark.parametrize(
    "args,exc,msg",
    [
        ((0, 5), ValueError, "positive"),
        ((-3, 5), ValueError, "positive"),
        ((3, (2, 5)), None, None),
        (((3, 2), (4, 5)), ValueError, "disagree on the batch"),
        (((1, 2, 3), 5), ValueError, "vector"),
        (("a", 5), TypeError, "int or a tuple"),
        ((None, 5), ValueError, "input_dim and output_dim are required"),
    ],
)
def test_linear_constructor_arguments(args, exc, msg):
    if exc is None:
        assert Linear(*args, seed=0).forward(np.zeros((2, 3))).shape == (2, 5)
        return
    with pytest.raises(exc, match=msg):
        Linear(*args)


def test_node_shape_arguments():
    with pytest.raises(ValueError, match="SoftMax: shape"):
        SoftMax(0)
    with pytest.raises(TypeError, match="ReLU: shape"):
        ReLU("five")
    with pytest.raises(ValueError, match="ReLU: shape"):
        ReLU((2, 3, 4))


def test_fit_arguments_are_checked_before_training():
    model = wb.mlp([2, 3], seed=0)
    before = model.layers[0].W
    x = np.zeros((4, 2))
    cases = [
        (dict(y=[0, 1, 2]), "y must be a vector of 4"),
        (dict(y=[0, 1, 2, 1.5]), r"y\[3\] = 1.5"),
        (dict(y=[0, -1, 2, 1]), r"y\[1\] = -1"),
        (dict(y=[0, 1, 2, 3]), "labels go up to 3 but the model has 3 outputs"),
        (dict(y=[0, 1, 2, 1], batch=0), "batch must be at least 1"),
        (dict(y=[0, 1, 2, 1], optimizer="rmsprop"), "optimizer must be"),
        (dict(y=[0, 1, 2, 1], lr=-1.0), "lr must be a positive number"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError, match=msg):
            model.fit(x, **kwargs)
    with pytest.raises(ValueError, match=r"x must be a non-empty matrix"):
        model.fit(np.zeros(4), [0, 1, 2, 1])
    with pytest.raises(ValueError, match="Linear::forward"):
        model.fit(np.zeros((4, 5)), [0, 1, 2, 1])
    np.testing.assert_array_equal(model.layers[0].W, before)


def test_files_that_are_missing_or_not_models():
    with pytest.raises(OSError, match="no-such-file"):
        wb.load("/no-such-file.safetensors")
    with pytest.raises(ValueError, match="invalid format"):
        wb.Sequential.load(__file__)


def test_sequential_takes_only_layers_each_once():
    with pytest.raises(TypeError, match="expected SoftMax, ReLU or Linear layers, got int"):
        wb.Sequential([1, 2])
    relu = ReLU()
    with pytest.raises(ValueError, match="layer 2 is the same object as layer 0"):
        wb.Sequential(relu, Linear(2, 2, seed=0), relu)
    with pytest.raises(IndexError):
        wb.Sequential(relu)[3]


def test_no_adapter_is_a_runtime_error_with_the_install_hint():
    import os
    import subprocess
    import sys

    code = (
        "import wgpu_backprop\n"
        "try:\n"
        "    wgpu_backprop.device()\n"
        "except RuntimeError as e:\n"
        "    print('RuntimeError:', e)\n"
    )
    env = dict(os.environ, WGPU_ADAPTER_NAME="no-such-adapter-anywhere")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "RuntimeError: no GPU adapter found" in out.stdout, out.stdout + out.stderr
    assert "apt-get install -y mesa-vulkan-drivers" in out.stdout
