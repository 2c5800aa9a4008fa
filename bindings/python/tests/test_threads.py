"""Several Python threads on the GPU at once: results stay right, shared layers take turns,
and the GIL is released while the GPU works."""

import faulthandler
import sys
import threading

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


def test_fit_lets_go_of_the_gil_while_it_waits_and_trains(monkeypatch):
    """Deterministic, no clock: thread 1's fit holds the model and stops in its epoch report
    (Python's print, here a stdout that blocks) until released; thread 2 calls fit on the same
    model, which must wait for thread 1 inside Rust. The main thread releases thread 1 only
    once thread 2 is inside fit. If fit kept the GIL while it waits for the model (or
    trains), thread 2 would keep it forever and thread 1 could never print: a deadlock, which
    the watchdog turns into a failure with every thread's traceback."""
    x, y = wb.load_digits()
    x, y = np.ascontiguousarray(x[:256]), np.ascontiguousarray(y[:256])
    model = wb.mlp([64, 32, 10], seed=0)
    in_report, release, second_in_fit = threading.Event(), threading.Event(), threading.Event()
    results = {}

    class BlockingStdout:
        def write(self, text):
            if threading.current_thread().name == "first" and not release.is_set():
                in_report.set()
                release.wait()
            return len(text)

        def flush(self):
            pass

    def first():
        results["first"] = model.fit(x, y, epochs=1, batch=32, verbose=True)

    def second():
        def hook(frame, event, arg):
            if event == "c_call" and getattr(arg, "__name__", "") == "fit":
                second_in_fit.set()  # the next thing this thread runs is fit itself

        sys.setprofile(hook)
        try:
            results["second"] = model.fit(x, y, epochs=1, batch=32)
        finally:
            sys.setprofile(None)

    monkeypatch.setattr(sys, "stdout", BlockingStdout())
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        t1 = threading.Thread(target=first, name="first")
        t1.start()
        assert in_report.wait(300), "the first fit never reported"
        t2 = threading.Thread(target=second, name="second")
        t2.start()
        assert second_in_fit.wait(300), "the second thread never called fit"
        release.set()  # needs the GIL: only possible if the second fit let go of it
        t1.join()
        t2.join()
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert len(results["first"]["loss"]) == 1 and len(results["second"]["loss"]) == 1
