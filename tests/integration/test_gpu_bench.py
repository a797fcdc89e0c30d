"""bench/gpu.sh's CPU fallback: the prepared GPU benchmark runs end to end, so it cannot
rot between the runs on a GPU machine (CI has none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, VIDEOS_DIR

pytestmark = [
    pytest.mark.once,  # a SQLite database of its own
    pytest.mark.video,
    pytest.mark.ray,
    pytest.mark.skipif(
        not VIDEOS_DIR.is_dir(), reason=f"shared video clips not found at {VIDEOS_DIR}"
    ),
]


def test_gpu_bench_cpu_fallback_reports_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(REPO_ROOT / "bench" / "gpu.sh"), "--device", "cpu", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        env=os.environ | {"PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert json.loads(done.stdout.strip().splitlines()[-1]) == summary
    assert "CPUExecutionProvider" in summary["env"]["onnxruntime"]["providers"]

    figures = summary["engine-cpu"]["engines"]["fp32"]
    assert figures["providers"]["landmarks"] == ["CPUExecutionProvider"]
    assert figures["tracked_fps"] > 0 and figures["crops_per_s"]["16"] > 0
    assert figures["detector_fps"]["1"] > 0
    assert figures["parity_vs_fp32_cpu"] == 0.0
    assert summary["engine-cpu"]["decode_ms"]["opencv"] > 0

    serve = summary["serve-cpu"]
    assert "error" not in serve, serve
    assert [run["streams"] for run in serve["runs"]] == [1, 2]
    for run in serve["runs"]:
        assert run["answered_fps"] > 0 and run["p99_ms"] >= run["p50_ms"] > 0
