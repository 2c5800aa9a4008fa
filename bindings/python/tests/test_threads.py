"""Several Python threads on the GPU at once: results stay right, shared layers take turns,
and the GIL is released while the GPU works."""

import threading
import time

import numpy as np

import wgpu_backprop as wb
from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import SoftMax

from conftest import softmax64


def run_threads(target, n):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {i}: {e!r}")

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_with_their_own_layers_get_their_own_results():
    def work(i):
        rng = np.random.default_rng(i)
        for r in range(10):
            rows, n_in, n_out = 1 + i + r, 3 + 2 * i, 2 + r
            lin = Linear(n_in, n_out, seed=i * 100 + r)
            sm = SoftMax(n_out)
            x = rng.normal(0, 1, (rows, n_in))
            z = np.hstack([np.ones((rows, 1)), x.astype(np.float32)]) @ lin.W.astype(np.float64)
            y = sm.forward(lin.forward(x))
            err = np.max(np.abs(y - softmax64(z)))
            assert err < 1e-5, f"round {r}: error {err}"

    run_threads(work, 4)


def test_one_layer_shared_by_threads_takes_turns():
    lin = Linear(16, 16, seed=0)
    W = lin.W.astype(np.float64)

    def work(i):
        x = np.full((8, 16), float(i))
        want = np.hstack([np.ones((8, 1)), x]) @ W
        for _ in range(20):
            assert np.max(np.abs(lin.forward(x) - want)) < 1e-4

    run_threads(work, 4)


def test_the_gil_is_released_while_the_gpu_trains():
    x, y = wb.load_digits()
    model = wb.mlp([64, 256, 10], seed=0)
    took = []

    def train():
        start = time.perf_counter()
        model.fit(x, y, epochs=3, batch=16)
        took.append(time.perf_counter() - start)

    t = threading.Thread(target=train)
    t.start()
    last, widest = time.perf_counter(), 0.0
    while t.is_alive():  # Python keeps running here only if fit let go of the GIL
        now = time.perf_counter()
        widest, last = max(widest, now - last), now
    t.join()
    assert took and took[0] > 0.2, f"fit took {took}: too short to tell"
    assert widest < took[0] / 4, f"the main thread stalled {widest:.3f} s of {took[0]:.3f} s"
