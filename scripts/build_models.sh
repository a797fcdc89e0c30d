#!/usr/bin/env bash
# Reproducibly build ml_models/ from public PyPI and npm packages (Apache-2.0 models).
#
# Makes a throwaway venv OUTSIDE the repo (TensorFlow, tf2onnx and mediapipe 0.10.21 need
# numpy<2 and would clash with the project venv), then runs scripts/build_models.py.
#
# Then quantizes the detector and the landmark models to int8 (scripts/quantize_models.py,
# calibrated on frames of the shared clips; see its docstring for the data recipe) and
# writes ml_models/README.md (provenance and sha256 of every file).
#
# Usage: scripts/build_models.sh [--with-heavy]
#   MODELBUILD_VENV  venv location (default /tmp/modelbuild-venv)
#   MODELBUILD_WORK  download/scratch folder (default /tmp/modelbuild-work)
#   CLIPS_MANIFEST   calibration clips (default ../shared/data/videos/manifest.json)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${MODELBUILD_VENV:-/tmp/modelbuild-venv}"
work="${MODELBUILD_WORK:-/tmp/modelbuild-work}"
python="${PYTHON:-python3.11}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
# Pinned: mediapipe 0.10.21 is the last release with the pose .tflite files and the metadata
# writers; tf2onnx 1.16.1 needs onnx.mapping (gone after onnx 1.16) and installs without its
# old protobuf pin (--no-deps) because mediapipe needs protobuf 4.
"$venv/bin/pip" install --quiet \
    "mediapipe==0.10.21" "tensorflow-cpu==2.19.0" "onnx==1.16.2" "onnxruntime==1.22.1" \
    "numpy==1.26.4" "protobuf>=4.25.3,<5" six requests
"$venv/bin/pip" install --quiet --no-deps "tf2onnx==1.16.1"

mkdir -p "$work"
# The lite and heavy landmark models ship only in the npm package.
if [[ ! -f "$work/npm/package/pose_landmark_lite.tflite" ]]; then
    mkdir -p "$work/npm"
    (cd "$work/npm" && npm pack --silent "@mediapipe/pose@0.5.1675469404" >/dev/null \
        && tar xzf mediapipe-pose-*.tgz)
fi

"$venv/bin/python" "$here/build_models.py" --work "$work" --out "$repo/ml_models" "$@"

manifest="${CLIPS_MANIFEST:-$repo/../shared/data/videos/manifest.json}"
if [[ -f "$manifest" ]]; then
    variants=lite,full
    [[ " $* " == *" --with-heavy "* ]] && variants=lite,full,heavy
    # The repository on PYTHONPATH: calibration crops come from the engine's own code.
    PYTHONPATH="$repo" "$venv/bin/python" "$here/quantize_models.py" \
        --models "$repo/ml_models" --manifest "$manifest" --work "$work/int8" \
        --variants "$variants"
else
    echo "build_models: $manifest not found; int8 models left as they are" >&2
fi
"$venv/bin/python" "$here/build_models.py" --work "$work" --out "$repo/ml_models" \
    --readme-only "$@"
