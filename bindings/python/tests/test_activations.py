"""Every activation of the Rust table as a Python class: the lab's conventions (any dtype in,
float32 out, backward with and without the Jacobian, ValueError naming the layer), against
numpy in float64, and in models built from strings, saved and loaded."""

import math

import numpy as np
import pytest

import wgpu_backprop as wb
from wgpu_backprop import nodes


def _erf(v):
    return np.vectorize(math.erf)(v)


def _sigmoid(v):
    return np.where(v >= 0, 1 / (1 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) / (1 + np.exp(-np.abs(v))))


REFERENCE = {
    "Sigmoid": lambda v: _sigmoid(v),
    "Tanh": np.tanh,
    "GELU": lambda v: 0.5 * v * (1 + _erf(v / math.sqrt(2))),
    "GELUTanh": lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))),
    "SiLU": lambda v: v * _sigmoid(v),
    "LeakyReLU": lambda v: np.where(v > 0, v, 0.01 * v),
    "ELU": lambda v: np.where(v > 0, v, np.expm1(v)),
    "Softplus": lambda v: np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v))),
}


def test_every_activation_class_exists_and_matches_numpy():
    names = [layer for _, layer, _, _ in wb._core.activations()]
    assert set(REFERENCE) == set(names), names
    x = (np.linspace(-6, 6, 35) + 0.013).reshape(5, 7)  # no point on a kink at 0
    for name, ref in REFERENCE.items():
        layer = getattr(nodes, name)(7)
        y = layer.forward(x)
        assert y.dtype == np.float32 and y.shape == x.shape
        want = ref(x)
        err = np.max(np.abs(y - want) / (1e-6 + np.abs(want)))
        assert err < 1e-4, f"{name}: relative error {err}"
        g = np.ones_like(x)
        direct = layer.backward(g)
        via_j = layer.backward(g, use_jacobian=True)
        assert np.allclose(direct, via_j, rtol=1e-5, atol=1e-6), name
        # Central differences of the reference: the derivative's scale.
        h = 1e-4
        numeric = (ref(x + h) - ref(x - h)) / (2 * h)
        assert np.allclose(direct, numeric, rtol=1e-3, atol=1e-4), name
        assert layer.jacobian().shape == (35, 35)


def test_parameters_defaults_and_errors():
    x = np.array([-2.0, 3.0])
    assert np.allclose(nodes.LeakyReLU().forward(x), [-0.02, 3.0])
    leaky = nodes.LeakyReLU(2, slope=0.5)
    assert np.allclose(leaky.forward(x), [-1.0, 3.0])
    assert leaky.param == 0.5 and leaky.name == "leaky_relu"
    assert "LeakyReLU(2, slope=0.5)" == repr(leaky)
    assert nodes.Sigmoid().param is None
    with pytest.raises(TypeError, match="unexpected argument"):
        nodes.ELU(alph=2.0)
    with pytest.raises(ValueError, match="Sigmoid"):
        nodes.Sigmoid(3).forward(np.zeros(4))
    with pytest.raises(ValueError, match="no activation 'swish'"):
        nodes.Activation("swish")
    with pytest.raises(RuntimeError, match="Tanh"):
        nodes.Tanh().backward(np.zeros(3))


def test_models_from_strings_train_save_and_load(tmp_path):
    model = wb.from_config("linear(64,32),gelu,linear(32,10)", seed=1)
    assert [type(l).__name__ for l in model.layers] == ["Linear", "Activation", "Linear"]
    x, y = wb.load_digits()
    history = model.fit(x[:512], y[:512], epochs=2, batch=32)
    assert history["loss"][1] < history["loss"][0]
    path = tmp_path / "gelu.safetensors"
    model.save(path)
    again = wb.load(path)
    assert np.array_equal(again.predict(x[:20]), model.predict(x[:20]))
    leaky = wb.mlp([64, 16, 10], seed=2, activation="leaky_relu(0.2)")
    assert "LeakyReLU(slope=0.2)" in repr(leaky)
