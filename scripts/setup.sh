#!/usr/bin/env bash
# Create .venv and install posecoach with its dev tools, exactly as locked.
#
# Every dependency comes from requirements/dev.txt (exported from uv.lock by
# scripts/lock.sh, with hashes) and is installed without resolving anything: what CI
# tested is what a fresh machine gets. The lock already leaves out what mediapipe's wheel
# asks for but must not be installed (opencv-contrib-python, a second GUI-linked cv2 over
# opencv-python-headless; sounddevice); the check at the end fails if a second cv2 appears.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON=$candidate; break; fi
  done
fi
[ -n "$PYTHON" ] || { echo "setup: Python 3.11 or 3.12 is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --require-hashes --no-deps -r requirements/dev.txt
# posecoach itself, editable, built from the locked setuptools (no isolated build env).
"${PIP[@]}" --no-deps --no-build-isolation -e .

for extra in opencv-contrib-python opencv-python; do
  if .venv/bin/python -m pip show --quiet "$extra" >/dev/null 2>&1; then
    echo "setup: $extra is installed beside opencv-python-headless; remove it" >&2
    exit 1
  fi
done
.venv/bin/python -c "import cv2, numpy; print('setup: ok, cv2', cv2.__version__, 'numpy', numpy.__version__)"
