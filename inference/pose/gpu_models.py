"""Model files as the GPU sessions load them: uint8 input, optionally fp16.

The committed ONNX files take float input that the CPU path normalises in numpy. For a
GPU the input crosses the bus, so the prepared model takes the uint8 crop (4x fewer
bytes) and normalises it on the device (Cast, Mul, Add prepended). ``fp16`` converts
weights and activations with onnxruntime's own converter, inputs and outputs kept fp32.
Prepared models are written to the cache directory when there is one, keyed by the
source file's sha256, so a replica restart reuses them. Needs the ``onnx`` package
(``pip install .[gpu]``); imported only when a GPU session is built.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def _load_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("GPU sessions need the onnx package: pip install .[gpu]") from exc
    return onnx


def _sort_nodes(graph: Any) -> None:
    """Order nodes so each comes after the producers of its inputs (the fp16 converter
    appends its input casts at the end; ONNX requires topological order)."""
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle or an undefined input")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def uint8_input(model: Any, scale: float, offset: float) -> Any:
    """Make the graph's first input uint8 and prepend ``x * scale + offset`` in fp32."""
    onnx = _load_onnx()
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    name = graph.input[0].name
    normalised = f"{name}_normalised"
    for node in graph.node:
        node.input[:] = [normalised if i == name else i for i in node.input]
    import numpy as np

    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.array(offset, np.float32), f"{name}_offset"),
        ]
    )
    # Cast, Mul, Add: the committed models' own normalisation, now on the device.
    prefix = [
        helper.make_node("Cast", [name], [f"{name}_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{name}_float", f"{name}_scale"], [f"{name}_scaled"]),
        helper.make_node("Add", [f"{name}_scaled", f"{name}_offset"], [normalised]),
    ]
    for i, node in enumerate(prefix):
        graph.node.insert(i, node)
    graph.input[0].type.tensor_type.elem_type = TensorProto.UINT8
    _sort_nodes(graph)
    onnx.checker.check_model(model)
    return model


def prepare(path: Path, precision: str, scale: float, offset: float, cache: Path | None) -> bytes:
    """Serialized model for a GPU session (from ``cache`` when already prepared)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = cache / f"{path.stem}-{precision}-u8-{digest}.onnx" if cache else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    onnx = _load_onnx()
    model = onnx.load(str(path))
    if precision == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(model, keep_io_types=True)
    data: bytes = uint8_input(model, scale, offset).SerializeToString()
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(cached)  # atomic: replicas starting together may race
    return data
