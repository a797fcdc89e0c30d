"""bench/load.py's bookkeeping: minutes, and the memory of a process tree."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load  # bench/ holds scripts, not a package: imported by path
from serve_latency import Tally


def test_per_minute_rows_split_sends_and_answers_by_time() -> None:
    tally = Tally()
    tally.sent = [1.0, 2.0, 61.0, 62.0, 63.0]
    tally.answers = [(1.1, 0.1), (2.3, 0.3), (61.2, 0.2), (90.5, 0.5)]  # last one drains
    first, second = load.per_minute(tally, 90.0)
    assert first["minute"] == 1 and first["sent_fps"] == pytest.approx(2 / 60)
    assert first["answered_fps"] == pytest.approx(2 / 60)
    assert first["p50_ms"] == pytest.approx(200.0)
    assert second["sent_fps"] == pytest.approx(3 / 30)  # a 30 s last minute
    assert second["answered_fps"] == pytest.approx(2 / 30)
    assert second["p99_ms"] == pytest.approx(497.0)


def test_the_memory_of_a_process_tree_counts_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for _ in range(100):
            if child.pid in load.process_tree(os.getpid()):
                break
            time.sleep(0.05)
        alone = load.tree_memory(child.pid, 0.0)
        both = load.tree_memory(os.getpid(), 1.0)
    finally:
        child.kill()
        child.wait()
    assert alone.processes == 1 and alone.rss_mb > 1 and alone.pss_mb > 0
    assert both.processes >= 2 and both.rss_mb > alone.rss_mb
