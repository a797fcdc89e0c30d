"""scripts/probe.py's black-box checks against a real `posecoach serve`: every one holds."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.server import LiveServer

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


def test_every_black_box_check_holds(e2e_server: LiveServer) -> None:
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    try:
        import probe
    finally:
        sys.path.pop(0)
    results = probe.run([e2e_server.url])
    failed = {name: r["detail"] for name, r in results.items() if not r["ok"]}
    assert not failed, failed
    assert len(results) == len(probe.CHECKS)
