"""Build ml_models/ from the BlazePose .tflite files (run by build_models.sh in its own venv).

Steps: densify the detector's sparse weights; convert detector and landmark models to ONNX
with tf2onnx; make the batch dimension dynamic; check ONNX against TFLite at batch 1 and 3;
write MediaPipe Tasks ``.task`` bundles (input-normalisation metadata added) for the
reference engine; write ml_models/README.md with provenance and sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mediapipe
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

OPSET = 17
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
MP_VERSION = mediapipe.__version__


def densify(src: Path, dst: Path) -> int:
    """Rewrite every DENSIFY op's sparse constant as a dense one (tf2onnx cannot read them)."""
    interp = tf.lite.Interpreter(
        model_path=str(src),
        experimental_preserve_all_tensors=True,
        # Without XNNPACK the DENSIFY outputs stay readable after invoke().
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interp.allocate_tensors()
    interp.set_tensor(
        interp.get_input_details()[0]["index"], np.zeros((1, 224, 224, 3), np.float32)
    )
    interp.invoke()
    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]
    densify_code = schema.BuiltinOperator.DENSIFY
    remap: dict[int, int] = {}
    kept = []
    for op in graph.operators:
        if model.operatorCodes[op.opcodeIndex].builtinCode != densify_code:
            kept.append(op)
            continue
        sparse_idx, dense_idx = int(op.inputs[0]), int(op.outputs[0])
        dense = interp.get_tensor(dense_idx)
        tensor = graph.tensors[sparse_idx]
        tensor.sparsity = None
        tensor.shape = np.array(dense.shape, dtype=np.int32)
        model.buffers[tensor.buffer].data = np.frombuffer(dense.tobytes(), dtype=np.uint8)
        remap[dense_idx] = sparse_idx
    for op in kept:
        op.inputs = np.array([remap.get(int(i), int(i)) for i in op.inputs], dtype=np.int32)
    graph.operators = kept
    flatbuffer_utils.write_model(model, str(dst))
    return len(remap)


def make_batch_dynamic(path: Path) -> None:
    """Symbolic batch on inputs/outputs; reshape targets with a literal batch 1 get 0 (copy)."""
    model = onnx.load(str(path))
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "batch"
    inits = {i.name: i for i in graph.initializer}
    consts = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}
    patched = 0
    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        name = node.input[1]
        if name in inits:
            shape = onnx.numpy_helper.to_array(inits[name]).copy()
            if shape.size > 1 and shape[0] == 1:
                shape[0] = 0  # ONNX Reshape: 0 copies the input's (batch) dimension
                inits[name].CopyFrom(onnx.numpy_helper.from_array(shape, name))
                patched += 1
        elif name in consts:
            raise SystemExit(f"unexpected Constant reshape target in {path.name}")
    for node in graph.node:
        for attr in node.attribute:
            if attr.name == "allowzero" and attr.i == 1:
                raise SystemExit("allowzero reshape breaks the batch patch")
    del graph.value_info[:]  # stale fixed-batch shapes; onnxruntime re-infers
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    print(f"  {path.name}: {patched} reshape(s) patched for dynamic batch")


def to_onnx(tflite: Path, out: Path) -> None:
    """tf2onnx conversion + dynamic batch patch."""
    tf2onnx.convert.from_tflite(str(tflite), opset=OPSET, output_path=str(out))
    make_batch_dynamic(out)


def drop_segmentation(path: Path) -> None:
    """Remove the [batch,256,256,1] segmentation output and the nodes only it needs.

    Nobody uses the mask, and its decoder costs a large share of the landmark model's CPU
    time (bench/README.md, pose_engine).
    """
    model = onnx.load(str(path))
    keep = []
    for out in model.graph.output:
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim[1:]]
        if dims != [256, 256, 1]:
            keep.append(out.name)
    onnx.utils.extract_model(str(path), str(path), [model.graph.input[0].name], keep)
    pruned = onnx.load(str(path))
    for value in list(pruned.graph.input) + list(pruned.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "batch"
    del pruned.graph.value_info[:]
    onnx.checker.check_model(pruned)
    onnx.save(pruned, str(path))
    print(f"  {path.name}: segmentation output removed; outputs {keep}")


def check_parity(tflite: Path, onnx_path: Path, size: int, lo: float, hi: float) -> float:
    """Max abs difference ONNX vs TFLite over every output, batch 1 and batch 3."""
    interp = tf.lite.Interpreter(model_path=str(tflite))
    interp.allocate_tensors()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    batch = rng.uniform(lo, hi, (3, size, size, 3)).astype(np.float32)
    onnx_out = session.run(None, {session.get_inputs()[0].name: batch})
    # Output order differs between the two runtimes; match by name (Identity, Identity_1...).
    names = [o.name for o in session.get_outputs()]
    worst = 0.0
    for b in range(3):
        interp.set_tensor(interp.get_input_details()[0]["index"], batch[b : b + 1])
        interp.invoke()
        for detail in interp.get_output_details():
            if detail["name"] not in names:
                continue  # pruned output (segmentation)
            ref = interp.get_tensor(detail["index"])
            got = onnx_out[names.index(detail["name"])][b : b + 1]
            scale = max(1.0, float(np.abs(ref).max()))
            worst = max(worst, float(np.abs(ref - got.reshape(ref.shape)).max()) / scale)
    return worst


def add_metadata(tflite: bytes, name: str, mean: float, std: float) -> bytes:
    """Attach image-input normalisation metadata that MediaPipe Tasks requires."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(tflite)
    writer.add_general_info(model_name=name, model_description=f"BlazePose {name}")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    interp = tf.lite.Interpreter(model_content=tflite)
    for detail in interp.get_output_details():
        writer.add_feature_output(name=detail["name"])
    model, _ = writer.populate()
    return bytes(model)


def build_task(detector: Path, landmark: Path, out: Path, variant: str) -> None:
    """PoseLandmarker bundle: pose_detector.tflite + pose_landmarks_detector.tflite."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    models = {
        "pose_detector.tflite": add_metadata(detector.read_bytes(), "pose_detector", 127.5, 127.5),
        "pose_landmarks_detector.tflite": add_metadata(
            landmark.read_bytes(), f"pose_landmarks_detector_{variant}", 0.0, 255.0
        ),
    }
    model_asset_bundle_utils.create_model_asset_bundle(models, str(out))


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, required=True, help="folder with npm/package/")
    parser.add_argument("--out", type=Path, required=True, help="ml_models/ to write")
    parser.add_argument("--with-heavy", action="store_true", help="also build the heavy variant")
    parser.add_argument("--readme-only", action="store_true", help="only write README.md")
    args = parser.parse_args()

    mp_modules = Path(mediapipe.__file__).parent / "modules"
    npm = args.work / "npm" / "package"
    sources = {
        "detector": mp_modules / "pose_detection" / "pose_detection.tflite",
        "full": mp_modules / "pose_landmark" / "pose_landmark_full.tflite",
        "lite": npm / "pose_landmark_lite.tflite",
    }
    if args.with_heavy:
        sources["heavy"] = npm / "pose_landmark_heavy.tflite"
    variants = [v for v in ("lite", "full", "heavy") if v in sources]
    if args.readme_only:
        write_readme(args.out, sources, variants)
        return
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dense = tmp / "pose_detection_dense.tflite"
        print(f"densified {densify(sources['detector'], dense)} sparse tensors")
        to_onnx(dense, args.out / "pose_detection.onnx")
        err = check_parity(sources["detector"], args.out / "pose_detection.onnx", 224, -1, 1)
        print(f"  detector ONNX vs TFLite: max rel diff {err:.2e}")
        assert err < 1e-3, err
        for variant in variants:
            out = args.out / f"pose_landmark_{variant}.onnx"
            to_onnx(sources[variant], out)
            drop_segmentation(out)
            err = check_parity(sources[variant], out, 256, 0, 1)
            print(f"  {variant} ONNX vs TFLite: max rel diff {err:.2e}")
            assert err < 1e-3, err
            build_task(
                sources["detector"],
                sources[variant],
                args.out / f"pose_landmarker_{variant}.task",
                variant,
            )

    write_readme(args.out, sources, variants)


def write_readme(out: Path, sources: dict[str, Path], variants: Sequence[str]) -> None:
    """ml_models/README.md: provenance, licence and sha256 of every file."""
    # The int8 files are built here but not committed (see the int8 paragraph).
    files = sorted(
        p for p in out.iterdir() if p.suffix in (".onnx", ".task") and "_int8" not in p.name
    )
    rows = "\n".join(
        f"| `{p.name}` | {p.stat().st_size / 1e6:.2f} MB | `{sha256(p)}` |" for p in files
    )
    src_rows = "\n".join(
        f"| {key} | `{path.name}` | "
        + (
            f"PyPI `mediapipe=={MP_VERSION}`"
            if "mediapipe" in str(path)
            else f"npm `{NPM_PACKAGE}`"
        )
        + f" | `{sha256(path)}` |"
        for key, path in sources.items()
    )
    text = f"""# ml_models — BlazePose models

Built by `scripts/build_models.sh` (do not edit by hand; rebuild instead). Nothing here is
downloaded at run time.

## Licence

The BlazePose models are Google's, published in MediaPipe under the **Apache License 2.0**
(https://www.apache.org/licenses/LICENSE-2.0). The files below are format conversions of them
(no retraining); the same licence applies.

## Sources

| model | source file | package | sha256 of source |
| --- | --- | --- | --- |
{src_rows}

## Files

| file | size | sha256 |
| --- | --- | --- |
{rows}

- `pose_detection.onnx`: BlazePose detector, input `[batch,224,224,3]` RGB in [-1, 1];
  outputs raw boxes `[batch,2254,12]` and score logits `[batch,2254,1]`. Its sparse
  (DENSIFY) fp16 weights were rewritten dense before tf2onnx (opset {OPSET}).
- `pose_landmark_<variant>.onnx`: landmark models, input `[batch,256,256,3]` RGB in [0, 1];
  outputs landmarks `[batch,195]`, pose flag `[batch,1]`, heatmap `[batch,64,64,39]`,
  world landmarks `[batch,117]`. The segmentation output `[batch,256,256,1]` and the nodes
  only it needs were removed (unused; ~35 % of the CPU time). Reshape targets with a literal
  batch 1 were patched to copy the batch dimension.
  Each was checked against TFLite at batch 1 and 3 (max relative difference < 1e-3).
- `pose_landmark_<variant>_int8.onnx` (built, **not committed**, `.gitignore`d): static
  int8 quantization of the landmark models by `scripts/quantize_models.py` with this
  build's onnxruntime, calibrated on frames of the shared clips (recipe in that script's
  docstring; no frame is stored). Selected by `precision: int8`. Left out of the
  repository because it misses the parity bound (median distance to MediaPipe 0.013 > 0.01)
  and runs slower than fp32 on the 2-core AVX2 box (bench/README.md, int8). The detector
  is never quantized (inference/pose/config.py, detector_file).
- GPU sessions load no extra file: `inference/pose/gpu_models.py` derives a uint8-input
  model (normalisation on the device) and, for `precision: fp16`, its fp16 conversion from
  these fp32 files at start-up, kept in the engine's `cache_dir`.
- `pose_landmarker_<variant>.task`: MediaPipe Tasks `PoseLandmarker` bundles
  (`pose_detector.tflite` with mean/std 127.5, `pose_landmarks_detector.tflite` with mean
  0 / std 255 as TFLite metadata), used by the reference engine
  `inference/pose/mediapipe_engine.py` and the parity test.

A rebuild gives numerically identical models (checked against TFLite above); byte-for-byte
identity of the ONNX files across rebuilds is not guaranteed (converter naming), so compare
a rebuild by outputs, not by sha256.

Variants built: {", ".join(variants)}. The heavy variant (27.7 MB TFLite) is left out to keep
this folder under ~60 MB; build it with `scripts/build_models.sh --with-heavy`.
"""
    (out / "README.md").write_text(text)


if __name__ == "__main__":
    main()
