"""Tests for devtools/tflite2onnx: the densify decoder and ONNX-vs-LiteRT parity.

The model tests need the two BlazePose .tflite files: set
``POSE_ROS_MEDIAPIPE_DIR`` to a directory holding the extracted
``mediapipe/modules/...`` tree, or let ``fetch_mediapipe_models`` download the
pinned mediapipe wheel into ``~/.cache/pose_ros/downloads`` (PyPI access).
Reference outputs come from ``ai_edge_litert`` (test-only dependency); the
photo is matplotlib's grace_hopper.jpg (pose_ros.tools.sample_data).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cv2
import flatbuffers
import onnxruntime as ort
import tflite
from ai_edge_litert import interpreter as litert

from devtools.tflite2onnx.convert import (  # noqa: E402
    DimMetadata,
    UnsupportedModelError,
    convert,
    convert_model,
    densify,
    same_padding,
)
from devtools.tflite2onnx.fetch import fetch_mediapipe_models, models_in_dir  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------
# densify: hand-built sparse tensors with known dense answers
# --------------------------------------------------------------------------

DENSE = DimMetadata(sparse=False)


def dense_dim(size: int) -> DimMetadata:
    return DimMetadata(sparse=False, dense_size=size)


def csr_dim(segments, indices) -> DimMetadata:
    return DimMetadata(sparse=True, segments=segments, indices=indices)


def test_densify_csr_last_dim():
    # The layout the BlazePose detector uses: [O, 1, 1, I] weights, dense outer
    # dims, CSR over the last one.
    expected = np.array([[0, 1.5, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]], np.float32).reshape(3, 1, 1, 4)
    values = np.array([1.5, 2, 3, 4], np.float32)
    metadata = [dense_dim(3), dense_dim(1), dense_dim(1), csr_dim([0, 2, 2, 4], [1, 3, 0, 3])]
    out = densify(values, (3, 1, 1, 4), [0, 1, 2, 3], [], metadata)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


def test_densify_2x2_blocks():
    # 4x4 matrix in 2x2 blocks; block row 0 stores block columns 0 and 1,
    # block row 1 stores only block column 1. Values are the stored blocks,
    # each row-major.
    expected = np.array([[1, 0, 2, 3], [0, 4, 0, 0], [0, 0, 5, 0], [0, 0, 0, 6]], np.int32)
    values = np.array([1, 0, 0, 4, 2, 3, 0, 0, 5, 0, 0, 6], np.int32)
    metadata = [dense_dim(2), csr_dim([0, 2, 3], [0, 1, 1]), dense_dim(2), dense_dim(2)]
    out = densify(values, (4, 4), [0, 1, 2, 3], [0, 1], metadata)
    np.testing.assert_array_equal(out, expected)


def test_densify_column_major_traversal():
    # traversal_order [1, 0]: columns outer (dense), rows inner (CSR), i.e. CSC.
    expected = np.array([[7, 0, 0], [0, 0, 8], [9, 0, 0]], np.float32)
    values = np.array([7, 9, 8], np.float32)
    metadata = [dense_dim(3), csr_dim([0, 2, 2, 3], [0, 2, 1])]
    np.testing.assert_array_equal(densify(values, (3, 3), [1, 0], [], metadata), expected)


def test_densify_rejects_inconsistent_metadata():
    metadata = [dense_dim(2), csr_dim([0, 1, 2], [0, 1])]
    with pytest.raises(ValueError, match="describes 2 values"):
        densify(np.ones(3, np.float32), (2, 2), [0, 1], [], metadata)


@pytest.mark.parametrize(
    "in_size, kernel, stride, expected",
    [(224, 3, 2, (0, 1)), (225, 3, 2, (1, 1)), (56, 5, 1, (2, 2)), (64, 5, 2, (1, 2)), (8, 1, 1, (0, 0))],
)
def test_same_padding_puts_the_odd_pixel_after(in_size, kernel, stride, expected):
    assert same_padding(in_size, kernel, stride) == expected


# --------------------------------------------------------------------------
# Tiny hand-built .tflite models (flatbuffer builder from the tflite package)
# --------------------------------------------------------------------------


def _int_vector(builder, values, dtype=np.int32):
    return builder.CreateNumpyVector(np.asarray(values, dtype=dtype))


def _table_vector(builder, start_vector, offsets):
    start_vector(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _sparsity(builder, traversal_order, block_map, metadata):
    dims = []
    for meta in metadata:
        if meta.sparse:
            vectors = []
            for values in (meta.segments, meta.indices):
                data = _int_vector(builder, values)
                tflite.Int32VectorStart(builder)
                tflite.Int32VectorAddValues(builder, data)
                vectors.append(tflite.Int32VectorEnd(builder))
        tflite.DimensionMetadataStart(builder)
        if meta.sparse:
            tflite.DimensionMetadataAddFormat(builder, tflite.DimensionType.SPARSE_CSR)
            tflite.DimensionMetadataAddArraySegmentsType(builder, tflite.SparseIndexVector.Int32Vector)
            tflite.DimensionMetadataAddArraySegments(builder, vectors[0])
            tflite.DimensionMetadataAddArrayIndicesType(builder, tflite.SparseIndexVector.Int32Vector)
            tflite.DimensionMetadataAddArrayIndices(builder, vectors[1])
        else:
            tflite.DimensionMetadataAddFormat(builder, tflite.DimensionType.DENSE)
            tflite.DimensionMetadataAddDenseSize(builder, meta.dense_size)
        dims.append(tflite.DimensionMetadataEnd(builder))
    traversal = _int_vector(builder, traversal_order)
    blocks = _int_vector(builder, block_map)
    dim_vector = _table_vector(builder, tflite.SparsityParametersStartDimMetadataVector, dims)
    tflite.SparsityParametersStart(builder)
    tflite.SparsityParametersAddTraversalOrder(builder, traversal)
    tflite.SparsityParametersAddBlockMap(builder, blocks)
    tflite.SparsityParametersAddDimMetadata(builder, dim_vector)
    return tflite.SparsityParametersEnd(builder)


def build_tflite(tensors, operators, inputs, outputs) -> bytes:
    """Serialise a one-subgraph float model.

    ``tensors``: dicts with ``name``, ``shape`` and optionally ``data`` (stored
    values) and ``sparsity`` ((traversal_order, block_map, metadata)).
    ``operators``: (BuiltinOperator, [input indices], [output indices]).
    """
    builder = flatbuffers.Builder(1024)
    buffer_data = [None] + [t.get("data") for t in tensors]  # buffer 0: empty sentinel
    buffers = []
    for data in buffer_data:
        vector = None
        if data is not None:
            vector = _int_vector(builder, np.frombuffer(np.asarray(data).tobytes(), np.uint8), np.uint8)
        tflite.BufferStart(builder)
        if vector is not None:
            tflite.BufferAddData(builder, vector)
        buffers.append(tflite.BufferEnd(builder))

    tensor_offsets = []
    for i, tensor in enumerate(tensors):
        name = builder.CreateString(tensor["name"])
        shape = _int_vector(builder, tensor["shape"])
        sparsity = _sparsity(builder, *tensor["sparsity"]) if "sparsity" in tensor else None
        tflite.TensorStart(builder)
        tflite.TensorAddName(builder, name)
        tflite.TensorAddShape(builder, shape)
        tflite.TensorAddType(builder, tflite.TensorType.FLOAT32)
        tflite.TensorAddBuffer(builder, i + 1 if tensor.get("data") is not None else 0)
        if sparsity is not None:
            tflite.TensorAddSparsity(builder, sparsity)
        tensor_offsets.append(tflite.TensorEnd(builder))

    codes = sorted({op for op, _, _ in operators})
    code_offsets = []
    for code in codes:
        tflite.OperatorCodeStart(builder)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(builder, code)
        tflite.OperatorCodeAddVersion(builder, 1)
        code_offsets.append(tflite.OperatorCodeEnd(builder))

    op_offsets = []
    for code, op_inputs, op_outputs in operators:
        ins, outs = _int_vector(builder, op_inputs), _int_vector(builder, op_outputs)
        tflite.OperatorStart(builder)
        tflite.OperatorAddOpcodeIndex(builder, codes.index(code))
        tflite.OperatorAddInputs(builder, ins)
        tflite.OperatorAddOutputs(builder, outs)
        op_offsets.append(tflite.OperatorEnd(builder))

    tensor_vector = _table_vector(builder, tflite.SubGraphStartTensorsVector, tensor_offsets)
    op_vector = _table_vector(builder, tflite.SubGraphStartOperatorsVector, op_offsets)
    in_vector, out_vector = _int_vector(builder, inputs), _int_vector(builder, outputs)
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensor_vector)
    tflite.SubGraphAddOperators(builder, op_vector)
    tflite.SubGraphAddInputs(builder, in_vector)
    tflite.SubGraphAddOutputs(builder, out_vector)
    subgraph = tflite.SubGraphEnd(builder)

    code_vector = _table_vector(builder, tflite.ModelStartOperatorCodesVector, code_offsets)
    subgraph_vector = _table_vector(builder, tflite.ModelStartSubgraphsVector, [subgraph])
    buffer_vector = _table_vector(builder, tflite.ModelStartBuffersVector, buffers)
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, code_vector)
    tflite.ModelAddSubgraphs(builder, subgraph_vector)
    tflite.ModelAddBuffers(builder, buffer_vector)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _densify_add_model(values, dense_shape, traversal_order, block_map, metadata) -> bytes:
    """y = x + DENSIFY(sparse constant)."""
    tensors = [
        {"name": "sparse", "shape": dense_shape, "data": np.asarray(values, np.float32),
         "sparsity": (traversal_order, block_map, metadata)},
        {"name": "dense", "shape": dense_shape},
        {"name": "x", "shape": dense_shape},
        {"name": "y", "shape": dense_shape},
    ]  # fmt: skip
    ops = [(tflite.BuiltinOperator.DENSIFY, [0], [1]), (tflite.BuiltinOperator.ADD, [2, 1], [3])]
    return build_tflite(tensors, ops, inputs=[2], outputs=[3])


def test_densify_matches_litert_on_blocked_permuted_sparsity(tmp_path):
    """Cross-check the decoder against LiteRT's own DENSIFY kernel.

    A 4x6 matrix with 2x3 blocks, traversed block-column-major: the block
    levels and the permutation are what the BlazePose models do not exercise.
    """
    # Levels: block col (dense 2), block row (CSR), in-block row (dense 2),
    # in-block col (dense 3). Block col 0 stores block row 1; block col 1
    # stores block rows 0 and 1.
    traversal_order, block_map = [1, 0, 2, 3], [0, 1]
    metadata = [dense_dim(2), csr_dim([0, 1, 3], [1, 0, 1]), dense_dim(2), dense_dim(3)]
    values = np.arange(1, 19, dtype=np.float32)
    expected = np.zeros((4, 6), np.float32)
    expected[2:4, 0:3] = values[0:6].reshape(2, 3)
    expected[0:2, 3:6] = values[6:12].reshape(2, 3)
    expected[2:4, 3:6] = values[12:18].reshape(2, 3)

    np.testing.assert_array_equal(densify(values, (4, 6), traversal_order, block_map, metadata), expected)

    model = _densify_add_model(values, [4, 6], traversal_order, block_map, metadata)
    (tmp_path / "densify.tflite").write_bytes(model)
    interpreter = litert.Interpreter(model_path=str(tmp_path / "densify.tflite"))
    interpreter.allocate_tensors()
    x = np.zeros((4, 6), np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    np.testing.assert_array_equal(
        interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), expected
    )

    session = ort.InferenceSession(
        convert_model(model).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], expected)


def test_unsupported_operator_is_named():
    tensors = [{"name": n, "shape": [1, 4]} for n in ("a", "b", "c")]
    model = build_tflite(tensors, [(tflite.BuiltinOperator.MUL, [0, 1], [2])], inputs=[0, 1], outputs=[2])
    with pytest.raises(UnsupportedModelError, match=r"unsupported TFLite operator\(s\): MUL \(x1\)"):
        convert_model(model)


# --------------------------------------------------------------------------
# BlazePose models: ONNX Runtime vs LiteRT
# --------------------------------------------------------------------------

# Normalisation each model expects: (input size, low, high).
MODEL_INPUTS = {"pose_detection": (224, -1.0, 1.0), "pose_landmark_full": (256, 0.0, 1.0)}
# Outputs holding logits whose useful range is after a sigmoid.
SIGMOID_OUTPUTS = {("pose_landmark_full", "Identity_2")}  # segmentation logits
ATOL = 1e-3
# See _assert_matches_litert: multiple of LiteRT's own kernel-to-kernel spread.
NOISE_FACTOR = 3.0
# Hard ceiling on any tolerance, so a misbehaving reference kernel cannot hide
# a conversion bug (those give errors of order 1 and more).
MAX_TOL = 0.05


@pytest.fixture(scope="session")
def mediapipe_models() -> dict[str, Path]:
    root = os.environ.get("POSE_ROS_MEDIAPIPE_DIR")
    if root:
        return models_in_dir(root)
    return fetch_mediapipe_models()


@pytest.fixture(scope="session")
def onnx_models(mediapipe_models, tmp_path_factory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("onnx")
    paths = {}
    for name, tflite_path in mediapipe_models.items():
        paths[name] = out_dir / f"{name}.onnx"
        convert(tflite_path, paths[name])
    return paths


@pytest.fixture(scope="session")
def runners(mediapipe_models, onnx_models):
    """name -> (ONNX Runtime session, {kernel set: LiteRT interpreter})."""
    kernel_sets = {
        "xnnpack": {},  # LiteRT's default CPU path, what MediaPipe runs
        "builtin": {"experimental_op_resolver_type": litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES},
        "reference": {"experimental_op_resolver_type": litert.OpResolverType.BUILTIN_REF},
    }
    result = {}
    for name in mediapipe_models:
        interpreters = {}
        for label, kwargs in kernel_sets.items():
            interpreter = litert.Interpreter(model_path=str(mediapipe_models[name]), **kwargs)
            interpreter.allocate_tensors()
            interpreters[label] = interpreter
        session = ort.InferenceSession(str(onnx_models[name]), providers=["CPUExecutionProvider"])
        result[name] = (session, interpreters)
    return result


def _run_litert(interpreter, x: np.ndarray) -> dict[str, np.ndarray]:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()}


def _photo(size: int, low: float, high: float) -> np.ndarray:
    from pose_ros.tools.sample_data import ensure_photos

    image = cv2.imread(str(ensure_photos()["grace_hopper.jpg"]), cv2.IMREAD_COLOR)
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)[..., ::-1]  # RGB
    pixels = image.astype(np.float32)[None] / 255.0  # NHWC in [0, 1]
    return (low + pixels * (high - low)).astype(np.float32)


def _model_input(model: str, kind: str) -> np.ndarray:
    size, low, high = MODEL_INPUTS[model]
    if kind == "photo":
        return _photo(size, low, high)
    seed = int(kind.removeprefix("random"))
    return np.random.default_rng(seed).uniform(low, high, (1, size, size, 3)).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x.astype(np.float64), -80.0, 80.0)))


def test_io_contract_matches_tflite(mediapipe_models, runners):
    for name in mediapipe_models:
        session, interpreters = runners[name]
        interpreter = interpreters["xnnpack"]
        for onnx_values, tflite_values in (
            (session.get_inputs(), interpreter.get_input_details()),
            (session.get_outputs(), interpreter.get_output_details()),
        ):
            assert [(v.name, list(v.shape), v.type) for v in onnx_values] == [
                (d["name"], d["shape"].tolist(), "tensor(float)") for d in tflite_values
            ]


@pytest.mark.parametrize("kind", ["photo", "random0", "random1", "random2"])
@pytest.mark.parametrize("model", sorted(MODEL_INPUTS))
def test_onnx_matches_litert(model, kind, runners):
    """ONNX Runtime output vs LiteRT (XNNPACK) for every output.

    Each output must agree within ATOL = 1e-3 absolute. The only exception is
    where fp32 rounding alone moves LiteRT's own kernel sets (XNNPACK,
    builtin optimised, reference) further apart than that on the same input:
    then the bound is NOISE_FACTOR x that measured spread, capped at MAX_TOL.
    This happens for the landmark model's pixel-unit outputs and segmentation
    on noise inputs, whose activations grow to |x| ~ 1e3.
    """
    session, interpreters = runners[model]
    x = _model_input(model, kind)
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input_1": x}), strict=True))
    references = {label: _run_litert(interpreter, x) for label, interpreter in interpreters.items()}

    failures = []
    for name, reference in references["xnnpack"].items():
        squash = _sigmoid if (model, name) in SIGMOID_OUTPUTS else (lambda v: v.astype(np.float64))
        target = squash(reference)
        spread = max(np.abs(squash(other[name]) - target).max() for other in references.values())
        tolerance = min(max(ATOL, NOISE_FACTOR * spread), MAX_TOL)
        error = np.abs(squash(got[name]) - target).max()
        if not error <= tolerance:
            failures.append(
                f"{name}: max abs error {error:.3g} > {tolerance:.3g} (LiteRT spread {spread:.3g})"
            )
    assert not failures, f"{model} on {kind}: " + "; ".join(failures)


def test_cli_converts(mediapipe_models, tmp_path):
    out = tmp_path / "detector.onnx"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.tflite2onnx.convert",
            str(mediapipe_models["pose_detection"]),
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "outputs: Identity[1, 2254, 12], Identity_1[1, 2254, 1]" in result.stdout
    assert out.stat().st_size > 0


@pytest.mark.parametrize("model", sorted(MODEL_INPUTS))
def test_dynamic_batch_gives_each_item_the_single_item_answer(model, mediapipe_models, onnx_models, tmp_path):
    """--dynamic-batch (what the models step uses): a batch of 3 equals 3 calls of the batch-1 model."""
    batched_path = tmp_path / f"{model}_batched.onnx"
    convert(mediapipe_models[model], batched_path, dynamic_batch=True)
    batched = ort.InferenceSession(str(batched_path), providers=["CPUExecutionProvider"])
    single = ort.InferenceSession(str(onnx_models[model]), providers=["CPUExecutionProvider"])
    x = np.concatenate([_model_input(model, kind) for kind in ("photo", "random0", "random1")])
    together = batched.run(None, {"input_1": x})
    one_by_one = [single.run(None, {"input_1": item[None]}) for item in x]
    for output, name in enumerate(o.name for o in batched.get_outputs()):
        expected = np.concatenate([outputs[output] for outputs in one_by_one])
        got = together[output]
        if (model, name) in SIGMOID_OUTPUTS:  # segmentation logits of +-500: compared as probabilities
            got, expected = _sigmoid(got), _sigmoid(expected)
        # fp32: batched kernels sum in another order, hence the relative part for large values
        np.testing.assert_allclose(got, expected, atol=1e-3, rtol=1e-5, err_msg=name)
