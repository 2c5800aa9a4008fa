"""The graph from Python: tensors that stay on the GPU, ops with their gradients against
numpy, gradients summed over a shared weight, no_grad, AdamW, and misuse as exceptions."""

import numpy as np
import pytest

import wgpu_backprop as wb


def test_gradients_of_a_small_graph_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    xt = wb.tensor(x, requires_grad=True)
    wt = wb.tensor(w, requires_grad=True)
    bt = wb.tensor(b, requires_grad=True)
    y = (xt @ wt + bt) * 2.0 - 1.0
    loss = (y * y).sum()
    loss.backward()
    y_np = (x @ w + b) * 2.0 - 1.0
    g = 2.0 * y_np * 2.0  # dL/d(xw + b)
    np.testing.assert_allclose(loss.item(), (y_np * y_np).sum(), rtol=1e-5)
    np.testing.assert_allclose(wt.grad, x.T @ g, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bt.grad, g.sum(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xt.grad, g @ w.T, rtol=1e-4, atol=1e-4)


def test_a_shared_weight_gets_the_sum_of_its_gradients():
    w = wb.tensor([2.0], requires_grad=True)
    (w * w + w * 3.0).sum().backward()  # d/dw = 2w + 3
    np.testing.assert_array_equal(w.grad, [7.0])
    w.zero_grad()
    assert w.grad is None


def test_layers_attention_and_cross_entropy_run_and_flow_gradients():
    rng = np.random.default_rng(1)
    q = wb.tensor(rng.standard_normal((1, 2, 5, 8)), requires_grad=True)
    out = wb.attention(q, q, q, causal=True)
    assert out.shape == (1, 2, 5, 8)
    table = wb.tensor(rng.standard_normal((7, 6)), requires_grad=True)
    h = wb.embedding(table, [1, 3, 3, 6])
    h = wb.layer_norm(h, wb.tensor(np.ones(6)), wb.tensor(np.zeros(6)))
    loss = wb.cross_entropy(h.gelu(), [0, 5, 5, 2]) + out.mean()
    loss.backward()
    g = table.grad
    assert g.shape == (7, 6)
    assert np.all(g[[0, 2, 4, 5]] == 0.0) and np.any(g[3] != 0.0)
    assert q.grad.shape == (1, 2, 5, 8)


def test_no_grad_and_adamw():
    w = wb.tensor([1.0, -1.0], requires_grad=True)
    with wb.no_grad():
        y = (w * 2.0).sum()
    assert not y.requires_grad
    opt = wb.AdamW({"w": w}, lr=0.1, weight_decay=0.0)
    for _ in range(20):
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        opt.step()
    assert np.all(np.abs(w.numpy()) < 0.5)


def test_misuse_raises_with_the_op_named():
    a = wb.tensor(np.zeros((2, 3)))
    b = wb.tensor(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        a @ b
    with pytest.raises(ValueError, match="cross_entropy"):
        wb.cross_entropy(a, [-1, 0])
    with pytest.raises(ValueError, match="embedding"):
        wb.embedding(a, [0, 9])
    with pytest.raises(ValueError, match="backward"):
        (a * 2.0).backward()


def test_the_corpus_is_embedded():
    text = wb.shakespeare()
    assert len(text) == 1_115_394 and text.startswith("First Citizen")
