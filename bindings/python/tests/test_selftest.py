"""The self-check users run on their own GPU, from Python: it passes here and says so."""

import wgpu_backprop as wb


def test_quick_selftest_passes_and_reports_every_row():
    report = wb.selftest(quick=True)
    assert report["passed"], report["table"]
    kernels = {row["kernel"] for row in report["rows"]}
    assert {"matmul auto", "matmul tiled", "softmax chunked", "relu"} <= kernels
    assert all(row["passed"] and row["cases"] > 0 for row in report["rows"])
    assert report["adapter"].startswith(wb.device()["name"])
    assert "rows passed" in report["table"]
