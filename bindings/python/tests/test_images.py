"""Images from Python: Conv2d, pooling, Flatten, Dropout, LayerNorm against numpy, a CNN
trained on the digits as (N, 1, 8, 8) arrays, saved and loaded; errors name the layer."""

import numpy as np
import pytest

import wgpu_backprop as wb
from wgpu_backprop import neurons, nodes


def conv_ref(x, w, b, stride, pad):
    n, c, h, wd = x.shape
    out, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, out, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return y


@pytest.mark.parametrize("n,c,h,w,out,k,stride,pad", [
    (2, 3, 5, 7, 4, 3, 1, 1), (1, 1, 8, 8, 2, 3, 2, 0), (3, 2, 4, 4, 5, 1, 1, 0)])
def test_conv2d_matches_numpy(n, c, h, w, out, k, stride, pad):
    rng = np.random.default_rng(0)
    conv = neurons.Conv2d(c, out, k, stride=stride, padding=pad, seed=3)
    x = rng.standard_normal((n, c, h, w))
    y = conv.forward(x)
    p = conv.parameters
    assert p["weight"].shape == (out, c, k, k) and p["bias"].shape == (out,)
    want = conv_ref(x.astype(np.float32), p["weight"], p["bias"], stride, pad)
    assert y.dtype == np.float32 and y.shape == want.shape
    assert np.allclose(y, want, rtol=1e-4, atol=1e-4)
    dx = conv.backward(np.ones_like(y))
    assert dx.shape == x.shape
    assert np.allclose(conv.grads["bias"], np.full(out, y[:, 0].size), rtol=1e-5)
    assert np.allclose(conv.backward(np.ones_like(y), use_jacobian=True), dx, atol=1e-4)


def test_pools_flatten_dropout_layernorm():
    x = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)
    assert np.array_equal(nodes.MaxPool2d(2).forward(x), x[:, :, 1::2, 1::2])
    avg = nodes.AvgPool2d(2).forward(x)
    assert np.allclose(avg, x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)))
    flat = nodes.Flatten()
    assert flat.forward(x).shape == (1, 32)
    assert flat.backward(np.ones((1, 32))).shape == (1, 2, 4, 4)
    drop = nodes.Dropout(0.5, seed=1)
    y = drop.forward(np.ones((100, 100)))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    drop.train(False)
    assert np.array_equal(drop.forward(np.ones((3, 3))), np.ones((3, 3)))
    norm = neurons.LayerNorm(4)
    z = norm.forward(np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]]))
    assert np.allclose(z[0], (np.arange(4) - 1.5) / np.sqrt(1.25 + 1e-5), atol=1e-5)
    assert np.allclose(z[1], 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        nodes.Dropout(1.0)


def test_a_cnn_trains_on_digit_images_and_round_trips(tmp_path):
    x, y = wb.load_digits()
    images = x.reshape(-1, 1, 8, 8)
    model = wb.Sequential(
        neurons.Conv2d(1, 8, 3, padding=1, seed=1), nodes.ReLU(), nodes.MaxPool2d(2),
        nodes.Flatten(), nodes.Dropout(0.25, seed=2), wb.Linear(128, 10, seed=3))
    hist = model.fit(images[:1400], y[:1400], epochs=4, lr=4e-3,
                     validation=(images[1400:], y[1400:]))
    assert hist["accuracy"][-1] >= 0.85, hist
    path = tmp_path / "cnn.safetensors"
    model.save(str(path))
    again = wb.load(str(path))
    assert np.array_equal(again.predict(images[1400:]), model.predict(images[1400:]))
    assert "conv2d(1,8,3,1,1)" in repr(again)


def test_image_errors_name_the_layer_and_shapes():
    conv = neurons.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d::forward.*3 channels"):
        conv.forward(np.zeros((1, 2, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2d::forward.*\[3, 8, 8\]"):
        conv.forward(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match=r"x must be a non-empty matrix .* or images"):
        wb.Sequential(conv).fit(np.zeros((2, 3, 8)), np.zeros(2))


def test_predict_on_the_wrong_shape_names_the_array_given():
    model = wb.Sequential(neurons.Conv2d(1, 4, 3, padding=1, seed=1), nodes.Flatten(),
                          wb.Linear(256, 10, seed=2))
    # Rows of 5 values into a model that wants 1×8×8 images: the error names (3, 5), not the
    # one-row probe made from it.
    with pytest.raises(ValueError, match=r"\[3, 5\]") as e:
        model.predict(np.zeros((3, 5), dtype=np.float32))
    assert "[1, 5]" not in str(e.value)
