#!/usr/bin/env bash
# The prepared GPU benchmark (issue 14): one run on a GPU machine reports the engine on
# CUDA (fp32, fp16) and TensorRT (fp16) -- ms/frame at batch 1, crops/s at batch
# 1/16/64/128, detector frames/s, decode ms, parity vs the fp32 CPU engine (and MediaPipe
# Tasks where installed) -- then end-to-end frames/s answered by `posecoach serve` with
# the GPU pose deployment (p50/p99), ingress replicas on the machine's CPU cores.
#
# Usage: bench/gpu.sh [--device cuda|cpu] [--out DIR] [--seconds N]
#   --device cpu   the short CPU fallback; tests/integration/test_gpu_bench.py runs it in CI
#   --out DIR      results (default $OUT when set, else /tmp/posecoach-gpu-bench)
#   PYTHON         interpreter (default python3)
#
# Missing pieces are reported in DIR/summary.json, never silently skipped. On the
# device machines lent here nothing can be downloaded: wheels that are not preinstalled
# travel in .whl/ (installed into /tmp/site first). onnxruntime-gpu (255.6 MB for cp312)
# does not fit the 64 MiB a call carries, so there the CUDA/TensorRT steps report that
# onnxruntime has no CUDA provider (bench/README.md, GPU section).
set -uo pipefail
cd "$(dirname "$0")/.."
device=cuda
out="${OUT:-/tmp/posecoach-gpu-bench}"
seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "gpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
py="${PYTHON:-python3}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1

if compgen -G ".whl/*.whl" >/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi

step() {  # step NAME COMMAND...: run, keep stdout as DIR/NAME.json, stderr as DIR/NAME.log
  local name="$1"; shift
  echo "== $name"
  "$@" >"$out/$name.json" 2>"$out/$name.log"
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -5 "$out/$name.log" >&2
    printf '{"error": "exit %s, see %s.log"}\n' "$rc" "$name" >"$out/$name.json"
  fi
}

has_provider() {
  "$py" -c "import onnxruntime as o, sys; sys.exit('$1' not in o.get_available_providers())" \
    2>/dev/null
}

step env "$py" bench/gpu_env.py
engine=("$py" bench/pose_engine.py --json --device "$device")
if [ "$device" = cpu ]; then
  step engine-cpu "${engine[@]}" --precisions fp32 --frames 30 --rounds 1 \
    --batch-sizes 1,16 --no-mediapipe
  step serve-cpu "$py" bench/gpu_serve.py --device cpu --out "$out" --seconds "$seconds" \
    --streams 1 2 --ingress 1
else
  mp=()
  "$py" -c "import mediapipe" 2>/dev/null || mp=(--no-mediapipe)
  if has_provider CUDAExecutionProvider; then
    step engine-cuda "${engine[@]}" --gpu-provider cuda --precisions fp32,fp16 \
      --cache-dir "$out/cache" "${mp[@]}"
    if has_provider TensorrtExecutionProvider; then
      step engine-tensorrt "${engine[@]}" --gpu-provider tensorrt --precisions fp16 \
        --cache-dir "$out/cache" "${mp[@]}"
    fi
    step serve-cuda "$py" bench/gpu_serve.py --device cuda --out "$out" --seconds "$seconds"
  else
    echo '{"error": "onnxruntime has no CUDAExecutionProvider (install posecoach[gpu])"}' \
      >"$out/engine-cuda.json"
    echo '{"error": "not run: onnxruntime has no CUDAExecutionProvider"}' >"$out/serve-cuda.json"
    step gpu-proxy "$py" bench/gpu_proxy.py
  fi
fi

"$py" - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
summary = {p.stem: json.loads(p.read_text() or "null") for p in sorted(out.glob("*.json"))
           if p.name != "summary.json"}
(out / "summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps(summary))
PY
