"""The training stack: Sequential over shared layer objects, fit on the digits, predict,
evaluate, save/load, and the device report."""

import numpy as np
import pytest

import wgpu_backprop as wb
from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import ReLU, SoftMax

from conftest import assert_close


def split_digits(seed=0):
    x, y = wb.load_digits()
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def test_device_reports_the_adapter():
    d = wb.device()
    assert set(d) == {"name", "backend", "device_type", "driver", "driver_info"}
    assert d["name"] and d["backend"] in {"Vulkan", "Metal", "Dx12", "Gl", "BrowserWebGpu"}


def test_digits_data_set():
    x, y = wb.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and set(y.tolist()) == set(range(10))


def test_fit_on_digits_reaches_90_percent_and_saves(tmp_path):
    (xt, yt), (xv, yv) = split_digits()
    model = wb.mlp([64, 64, 10], seed=1)
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "ReLU", "Linear"]
    history = model.fit(xt, yt, epochs=8, batch=32, optimizer="adam", lr=3e-3,
                        validation=(xv, yv))
    assert set(history) == {"loss", "accuracy", "seconds"}
    assert all(len(v) == 8 for v in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] >= 0.90, history
    assert model.evaluate(xv, yv) == pytest.approx(history["accuracy"][-1])
    pred = model.predict(xv)
    assert pred.dtype == np.int64 and pred.shape == yv.shape
    assert np.mean(pred == yv) == pytest.approx(history["accuracy"][-1])
    assert isinstance(model.predict(xv[0]), int)

    path = tmp_path / "digits.safetensors"
    model.save(path)
    for again in (wb.load(str(path)), wb.Sequential.load(path)):
        assert repr(again) == "Sequential(Linear(64, 64), ReLU(), Linear(64, 10))"
        np.testing.assert_array_equal(again.predict(xv), pred)
        for a, b in zip(again.layers[::2], model.layers[::2]):
            np.testing.assert_array_equal(a.W, b.W)


def test_sgd_trains_too():
    (xt, yt), (xv, yv) = split_digits(1)
    model = wb.mlp([64, 32, 10], seed=3)
    history = model.fit(xt, yt, epochs=6, optimizer="sgd", lr=0.05, momentum=0.9)
    assert history["accuracy"][-1] >= 0.85, history  # on the training data
    assert model.evaluate(xv, yv) >= 0.85


def test_model_shares_its_layer_objects():
    first = Linear(4, 8, seed=0)
    second = Linear(8, 3, seed=1)
    model = wb.Sequential([first, ReLU(), second])
    assert model.layers[0] is first and model[2] is second and len(model) == 3
    before = first.W
    x = np.random.default_rng(0).uniform(0, 1, (12, 4))
    y = np.arange(12) % 3
    model.fit(x, y, epochs=2, batch=4, lr=1e-2)
    assert not np.array_equal(first.W, before)  # training changed the caller's layer
    assert first.forward(x).shape == (12, 8)  # which still works on its own


def test_sequential_forward_and_backward_compose_the_layers():
    rng = np.random.default_rng(2)
    l1, l2 = Linear(5, 7, seed=2), Linear(7, 3, seed=3)
    model = wb.Sequential(l1, ReLU(), l2, SoftMax())
    x = rng.normal(0, 1, (6, 5))
    dy = rng.normal(0, 1, (6, 3))
    h = np.hstack([np.ones((6, 1)), x.astype(np.float32)]) @ l1.W.astype(np.float64)
    z = np.hstack([np.ones((6, 1)), np.maximum(h, 0)]) @ l2.W.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    assert_close(model.forward(x), y, 1e-5, "model forward")
    dz = y * (dy - (dy * y).sum(axis=1, keepdims=True))
    dh = (dz @ l2.W[1:].T.astype(np.float64)) * (h > 0)
    dx = dh @ l1.W[1:].T.astype(np.float64)
    assert_close(model.backward(dy), dx, 1e-5, "model backward")
    assert_close(model.backward(dy, use_jacobian=True), dx, 1e-5, "model backward (Jacobian)")
    assert_close(l1._W_pd[1:], x.astype(np.float32).T @ dh, 1e-5, "first layer dW")
