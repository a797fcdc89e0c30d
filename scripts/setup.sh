#!/usr/bin/env bash
# Create .venv and install posecoach with its dev tools, deterministically.
#
# mediapipe (the reference engine) is installed with --no-deps: its wheel requires
# opencv-contrib-python, a second, GUI-linked cv2 that would shadow
# opencv-python-headless and need libGL. Its real runtime needs (absl-py, flatbuffers,
# numpy) are in pyproject.toml. The check at the end fails if a second cv2 slipped in.
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
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[cpu,dev]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mediapipe==1.2.2"

for extra in opencv-contrib-python opencv-python; do
  if .venv/bin/python -m pip show --quiet "$extra" >/dev/null 2>&1; then
    echo "setup: $extra is installed beside opencv-python-headless; removing it" >&2
    .venv/bin/python -m pip uninstall --quiet --yes "$extra"
    .venv/bin/python -m pip install --quiet --force-reinstall --no-deps opencv-python-headless
  fi
done
.venv/bin/python -c "import cv2, numpy; print('setup: ok, cv2', cv2.__version__, 'numpy', numpy.__version__)"
