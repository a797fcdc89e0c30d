"""End-to-end fixtures: a real `posecoach serve` (Ray Serve, BlazePose) and Chromium.

The server is one subprocess for this package (started on first use, stopped with every
Ray process it started after the package's last test). Chromium is Debian's
(/usr/bin/chromium, installed by .ci/run) driven by Playwright without a browser download;
its camera is Chromium's fake capture device playing a shared clip converted in the test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, TEST_SECRET, VIDEOS_DIR
from tests.e2e.server import LiveServer, fake_camera_clip, live_server

#: Screenshots the browser tests keep (ignored by git).
ARTIFACTS = REPO_ROOT / "tests" / "e2e" / "artifacts"
SQUAT_CLIP = VIDEOS_DIR / "squat_side_livingroom_3reps.mp4"
needs_squat_clip = pytest.mark.skipif(
    not SQUAT_CLIP.exists(), reason=f"shared clip {SQUAT_CLIP} not present"
)

#: Shorter than the page's renewal margin (20 s), so the page renews its access token
#: before every use: the tests go through the refresh-token rotation each time.
ACCESS_TOKEN_TTL_S = 10


@pytest.fixture(scope="package")
def e2e_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A `posecoach serve` on a free port, its own data folder, the tests' database."""
    env = {
        "SECRET_KEY": TEST_SECRET,
        "ARGON2_MEMORY_KIB": "64",
        "ARGON2_TIME_COST": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ACCESS_TOKEN_TTL_S": str(ACCESS_TOKEN_TTL_S),
        "LOGIN_ATTEMPTS_PER_IP": "1000",
        # The page tests try a wrong password and then the right one at once; the
        # growing delays between logins have tests of their own.
        "LOGIN_DELAY_BASE_S": "0",
        "UPLOAD_POLL_S": "0.5",
        "RAY_AUTH_MODE": "disabled",  # a private, loopback-only cluster, as in tests/system
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    with live_server(database_url, tmp_path_factory.mktemp("e2e-serve"), env) as server:
        yield server


@pytest.fixture(scope="package")
def camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The squat clip as Chromium's fake camera file."""
    if not SQUAT_CLIP.exists():
        pytest.skip(f"shared clip {SQUAT_CLIP} not present")
    return fake_camera_clip(SQUAT_CLIP, tmp_path_factory.mktemp("camera") / "squat.y4m")


@pytest.fixture(scope="package")
def chromium_path() -> str:
    """Debian's Chromium; .ci/run installs it (`apt-get install -y chromium`)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: `apt-get install -y chromium` (.ci/run does this)")
    return path


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """Where the browser tests keep screenshots (printed by the tests)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
