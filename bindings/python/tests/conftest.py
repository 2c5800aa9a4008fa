"""Shared helpers: an f64 comparison that names the worst element, and seeded inputs."""

import numpy as np
import pytest


def assert_close(got, want, tol, what=""):
    """|got - want| <= tol * max(1, |want|) everywhere, else fail naming the worst element."""
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    err = np.abs(got.astype(np.float64) - want) / np.maximum(1.0, np.abs(want))
    if err.size and not np.all(err <= tol):
        i = np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)), err.shape)
        pytest.fail(
            f"{what}: worst error {err[i]:.3g} > {tol:g} at {tuple(int(j) for j in i)}: "
            f"got {got[i]!r}, expected {want[i]!r}"
        )


def softmax64(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
