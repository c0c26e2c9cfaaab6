"""Convert MediaPipe's BlazePose ``.tflite`` models to ONNX (opset 17).

This is a deliberately small converter: it supports exactly the operators used
by ``pose_detection.tflite`` and ``pose_landmark_full.tflite`` from
``mediapipe==0.10.14`` and fails with a clear error naming anything else.

Usage (from the repository root)::

    python -m devtools.tflite2onnx.convert IN.tflite OUT.onnx

or ``convert(tflite_path, onnx_path)`` from Python.

Layout strategy
---------------
TFLite activations are NHWC; ONNX's Conv/MaxPool/Resize/DepthToSpace want
NCHW. Rather than wrapping every spatial op in a pair of Transposes, the ONNX
graph is kept NCHW *internally*:

* every rank-4 activation tensor is stored as NCHW inside the graph;
* a rank-4 graph input gets one NHWC->NCHW Transpose right after it and a
  rank-4 graph output gets one NCHW->NHWC Transpose right before it, so the
  ONNX model's inputs/outputs keep the TFLite names, shapes and NHWC layout;
* layout-sensitive ops translate their parameters (PAD paddings,
  CONCATENATION axis) or transpose locally where memory order matters
  (RESHAPE flattens in NHWC order, so its input is transposed back first).

Constants (weights, biases, paddings) are read from the flatbuffer as numpy
arrays in TFLite layout. Constant-only DENSIFY and DEQUANTIZE ops are folded at
conversion time (the fp16 weights become fp32 initializers; fp16 -> fp32 is
exact), which is what the TFLite runtime also does once at prepare time.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# IR version 8 is the one that goes with opset 17; pinning it keeps the files
# loadable by older ONNX Runtime releases than the onnx package's default.
IR_VERSION = 8

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)

# TFLite enum value -> name tables, built from the generated flatbuffer classes.
_OPERATOR_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_TENSOR_TYPES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
_NUMPY_DTYPES = {
    "FLOAT32": np.float32,
    "FLOAT16": np.float16,
    "FLOAT64": np.float64,
    "INT32": np.int32,
    "INT64": np.int64,
    "INT16": np.int16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "BOOL": np.bool_,
}


class UnsupportedModelError(NotImplementedError):
    """Raised when the model uses an operator or feature this converter lacks."""


# --------------------------------------------------------------------------
# Sparse tensors (TFLite SparsityParameters) -> dense numpy arrays
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DimMetadata:
    """One entry of TFLite's ``SparsityParameters.dim_metadata``.

    ``sparse=False`` is DimensionType.DENSE: the level has ``dense_size``
    entries. ``sparse=True`` is SPARSE_CSR: for the parent position ``p`` the
    level holds ``indices[segments[p]:segments[p + 1]]``.
    """

    sparse: bool
    dense_size: int = 0
    segments: Sequence[int] | None = None
    indices: Sequence[int] | None = None


def densify(
    values: np.ndarray,
    dense_shape: Sequence[int],
    traversal_order: Sequence[int],
    block_map: Sequence[int],
    dim_metadata: Sequence[DimMetadata],
) -> np.ndarray:
    """Expand TFLite's sparse tensor encoding into a dense array.

    Mirrors ``tflite::internal::sparsity::FormatConverter::SparseToDense``.
    A rank-``n`` tensor with ``k`` blocked dimensions is stored as an
    ``n + k`` level tree:

    * levels are visited in ``traversal_order`` (a permutation of
      ``0 .. n+k-1``); level values ``< n`` are the original dimensions
      (divided by their block size if blocked), ``n + j`` is the inner block
      dimension of original dimension ``block_map[j]``;
    * ``dim_metadata[i]`` describes the ``i``-th *visited* level;
    * ``values`` holds the stored (non-zero) elements in traversal order.

    Unstored elements are zero.
    """
    rank = len(dense_shape)
    levels = len(traversal_order)
    if sorted(traversal_order) != list(range(levels)):
        raise ValueError(f"traversal_order {list(traversal_order)} is not a permutation")
    if levels != rank + len(block_map) or len(dim_metadata) != levels:
        raise ValueError(
            f"inconsistent sparsity: rank {rank}, {len(block_map)} blocked dims, "
            f"{levels} traversal levels, {len(dim_metadata)} dim_metadata entries"
        )

    # Block sizes come from the dense_size of the block levels.
    block_size = [0] * len(block_map)
    for level, dim in enumerate(traversal_order):
        if dim >= rank:
            if dim_metadata[level].sparse:
                raise ValueError("block dimensions must be dense")
            block_size[dim - rank] = dim_metadata[level].dense_size

    # Walk the tree one level at a time, vectorised over all partial paths.
    # ``coords[level]`` is the index chosen at each visited level so far and
    # ``position`` the position of the current node inside its level (the
    # ``prev_idx`` of the reference implementation).
    position = np.zeros(1, dtype=np.int64)
    coords: list[np.ndarray] = []
    for level, meta in enumerate(dim_metadata):
        if not meta.sparse:
            size = meta.dense_size
            local = np.tile(np.arange(size, dtype=np.int64), len(position))
            parent = np.repeat(np.arange(len(position)), size)
            position = position[parent] * size + local
        else:
            segments = np.asarray(meta.segments, dtype=np.int64)
            indices = np.asarray(meta.indices, dtype=np.int64)
            if position.size and position.max() + 1 >= len(segments):
                raise ValueError(f"level {level}: too few array_segments")
            starts = segments[position]
            counts = segments[position + 1] - starts
            parent = np.repeat(np.arange(len(position)), counts)
            # Children are laid out parent by parent; child j of parent p sits
            # at indices[starts[p] + j].
            first_child = np.cumsum(counts) - counts  # flat index of p's first child
            position = np.repeat(starts - first_child, counts) + np.arange(counts.sum())
            if position.size and position.max() >= len(indices):
                raise ValueError(f"level {level}: too few array_indices")
            local = indices[position]
        coords = [c[parent] for c in coords] + [local]

    values = np.asarray(values).reshape(-1)
    if len(position) != values.size:
        raise ValueError(f"sparsity metadata describes {len(position)} values, buffer has {values.size}")

    # Map the traversal coordinates back to original (dense) coordinates.
    dense_coords: list[np.ndarray | None] = [None] * rank
    for level, dim in enumerate(traversal_order):
        if dim < rank:
            dense_coords[dim] = coords[level]
    for level, dim in enumerate(traversal_order):
        if dim >= rank:
            orig = block_map[dim - rank]
            dense_coords[orig] = dense_coords[orig] * block_size[dim - rank] + coords[level]

    dense = np.zeros(tuple(dense_shape), dtype=values.dtype)
    if values.size:
        dense[tuple(dense_coords)] = values
    return dense


def _index_vector(table, vector_type: int) -> np.ndarray:
    """Decode a ``SparseIndexVector`` union member into a numpy array."""
    classes = {
        tflite.SparseIndexVector.Int32Vector: tflite.Int32Vector,
        tflite.SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
        tflite.SparseIndexVector.Uint8Vector: tflite.Uint8Vector,
    }
    if vector_type not in classes:
        raise UnsupportedModelError(f"unknown SparseIndexVector type {vector_type}")
    vector = classes[vector_type]()
    vector.Init(table.Bytes, table.Pos)
    if vector.ValuesLength() == 0:
        return np.zeros(0, dtype=np.int64)
    return vector.ValuesAsNumpy().astype(np.int64)


def _read_sparsity(sparsity) -> tuple[list[int], list[int], list[DimMetadata]]:
    """Flatbuffer ``SparsityParameters`` -> arguments of :func:`densify`."""
    traversal_order = [sparsity.TraversalOrder(i) for i in range(sparsity.TraversalOrderLength())]
    block_map = [sparsity.BlockMap(i) for i in range(sparsity.BlockMapLength())]
    dim_metadata = []
    for i in range(sparsity.DimMetadataLength()):
        meta = sparsity.DimMetadata(i)
        if meta.Format() == tflite.DimensionType.DENSE:
            dim_metadata.append(DimMetadata(sparse=False, dense_size=meta.DenseSize()))
        else:
            dim_metadata.append(
                DimMetadata(
                    sparse=True,
                    segments=_index_vector(meta.ArraySegments(), meta.ArraySegmentsType()),
                    indices=_index_vector(meta.ArrayIndices(), meta.ArrayIndicesType()),
                )
            )
    return traversal_order, block_map, dim_metadata


# --------------------------------------------------------------------------
# Small helpers for TFLite semantics
# --------------------------------------------------------------------------


def same_padding(in_size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite SAME padding (before, after) for one spatial dimension.

    When the total is odd the extra row/column goes *after* (bottom/right),
    which ONNX's symmetric ``pads`` cannot express implicitly, so the
    converter always emits explicit pads.
    """
    effective = (kernel - 1) * dilation + 1
    out_size = (in_size + stride - 1) // stride
    total = max((out_size - 1) * stride + effective - in_size, 0)
    return total // 2, total - total // 2


def _empty_table() -> flatbuffers.table.Table:
    """A flatbuffer table with no fields: every accessor returns its default."""
    builder = flatbuffers.Builder(16)
    builder.StartObject(0)
    builder.Finish(builder.EndObject())
    data = builder.Output()
    return flatbuffers.table.Table(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))


def _options(op, options_class):
    """Decode an operator's builtin options as ``options_class``.

    Options are optional in the schema (e.g. ADD without a fused activation);
    a missing table reads as all defaults, as in the TFLite runtime.
    """
    table = op.BuiltinOptions() or _empty_table()
    options = options_class()
    options.Init(table.Bytes, table.Pos)
    return options


@dataclass
class _Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # TFLite TensorType name
    data: np.ndarray | None  # constant contents in TFLite layout, else None
    sparsity: object | None


# --------------------------------------------------------------------------
# The converter
# --------------------------------------------------------------------------


class _Converter:
    def __init__(self, model_bytes: bytes, dynamic_batch: bool = False):
        self._raw = model_bytes
        # dynamic_batch: the leading dimension (1 in these models) becomes a symbolic "batch", so several
        # crops run in one call. Only ops whose ONNX form pins the batch need care: Reshape targets and
        # Resize sizes (which become scales).
        self.dynamic_batch = dynamic_batch
        self.model = tflite.Model.GetRootAsModel(model_bytes, 0)
        if self.model.SubgraphsLength() != 1:
            raise UnsupportedModelError(f"expected 1 subgraph, model has {self.model.SubgraphsLength()}")
        self.graph = self.model.Subgraphs(0)
        self.tensors = [self._read_tensor(i) for i in range(self.graph.TensorsLength())]
        # ONNX value names must be unique; TFLite tensor names need not be.
        seen: set[str] = set()
        for tensor in self.tensors:
            base, n = tensor.name, 1
            while tensor.name in seen:
                tensor.name, n = f"{base}_{n}", n + 1
            seen.add(tensor.name)
        self.inputs = [self.graph.Inputs(i) for i in range(self.graph.InputsLength())]
        self.outputs = [self.graph.Outputs(i) for i in range(self.graph.OutputsLength())]

        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used_names: set[str] = {t.name for t in self.tensors}
        # TFLite tensor index -> name of the ONNX value holding it (rank-4
        # activations in NCHW, everything else in TFLite layout).
        self.values: dict[int, str] = {}
        self._scalars: dict[float, str] = {}
        self._handlers: dict[str, Callable] = {
            "ADD": self._add,
            "CONCATENATION": self._concatenation,
            "CONV_2D": self._conv_2d,
            "DENSIFY": self._densify,
            "DEPTHWISE_CONV_2D": self._depthwise_conv_2d,
            "DEPTH_TO_SPACE": self._depth_to_space,
            "DEQUANTIZE": self._dequantize,
            "LOGISTIC": self._logistic,
            "MAX_POOL_2D": self._max_pool_2d,
            "PAD": self._pad,
            "RESHAPE": self._reshape,
            "RESIZE_BILINEAR": self._resize_bilinear,
        }

    # ---- reading the flatbuffer ------------------------------------------

    def _read_tensor(self, index: int) -> _Tensor:
        t = self.graph.Tensors(index)
        dtype = _TENSOR_TYPES.get(t.Type(), str(t.Type()))
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        data = None
        buffer = self.model.Buffers(t.Buffer())
        if buffer.Offset() > 1:  # large models keep data outside the flatbuffer
            raw = self._raw[buffer.Offset() : buffer.Offset() + buffer.Size()]
        elif buffer.DataLength():
            raw = buffer.DataAsNumpy().tobytes()
        else:
            raw = b""
        if raw:
            if dtype not in _NUMPY_DTYPES:
                raise UnsupportedModelError(f"tensor {t.Name().decode()!r} has type {dtype}")
            data = np.frombuffer(raw, dtype=_NUMPY_DTYPES[dtype]).copy()
            if t.Sparsity() is None:
                data = data.reshape(shape)
        return _Tensor(t.Name().decode(), shape, dtype, data, t.Sparsity())

    def _operator_name(self, op) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        # Builtin codes >= 127 live in builtin_code; older ones in the
        # deprecated int8 field. max() picks whichever is populated.
        value = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = _OPERATOR_NAMES.get(value, f"builtin#{value}")
        if name == "CUSTOM":
            name = f"CUSTOM({code.CustomCode().decode()})"
        return name

    # ---- building ONNX ---------------------------------------------------

    def _fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._used_names:
            name, n = f"{base}_{n}", n + 1
        self._used_names.add(name)
        return name

    def _node(self, op_type: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        output = output or self._fresh(f"{op_type.lower()}")
        self.nodes.append(
            helper.make_node(op_type, inputs, [output], name=self._fresh(f"{output}:{op_type}"), **attrs)
        )
        return output

    def _initializer(self, array: np.ndarray, base: str) -> str:
        name = self._fresh(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def _scalar(self, value: float) -> str:
        """A float32 scalar initializer, shared by every node that uses it."""
        if value not in self._scalars:
            self._scalars[value] = self._initializer(np.array(value, np.float32), f"scalar_{value:g}")
        return self._scalars[value]

    def _is_const(self, index: int) -> bool:
        return self.tensors[index].data is not None and index not in self.values

    def _const(self, index: int) -> np.ndarray:
        tensor = self.tensors[index]
        if tensor.data is None or tensor.sparsity is not None:
            raise UnsupportedModelError(f"tensor {tensor.name!r} is not a dense constant")
        return tensor.data

    def _input(self, index: int, rank: int | None = None) -> str:
        """ONNX value name for a TFLite tensor used as an activation input.

        Constants become initializers on first use; a constant that meets a
        rank-4 op is numpy-broadcast to rank 4 and stored NCHW like any other
        rank-4 activation.
        """
        if index in self.values:
            return self.values[index]
        tensor = self.tensors[index]
        data = self._const(index)
        if rank == 4 or data.ndim == 4:
            data = data.reshape((1,) * (4 - data.ndim) + data.shape).transpose(NHWC_TO_NCHW)
        self.values[index] = self._initializer(data, tensor.name)
        return self.values[index]

    def _output(self, index: int) -> str:
        """ONNX value name that an op should write for TFLite tensor ``index``."""
        name = self.tensors[index].name
        if index in self.outputs and len(self.tensors[index].shape) == 4:
            # The plain name is taken by the NHWC graph output.
            name = self._fresh(f"{name}:nchw")
        self.values[index] = name
        return name

    def _activation(self, value: str, function: int, output: str) -> None:
        """Emit the fused activation ``function`` from ``value`` to ``output``."""
        act = tflite.ActivationFunctionType
        if function == act.RELU:
            self._node("Relu", [value], output)
        elif function in (act.RELU6, act.RELU_N1_TO_1):
            low, high = (0.0, 6.0) if function == act.RELU6 else (-1.0, 1.0)
            self._node("Clip", [value, self._scalar(low), self._scalar(high)], output)
        elif function == act.TANH:
            self._node("Tanh", [value], output)
        else:
            raise UnsupportedModelError(f"fused activation {function} is not supported")

    def _with_activation(self, op_type: str, inputs: list[str], out_index: int, function: int, **attrs):
        output = self._output(out_index)
        if function == tflite.ActivationFunctionType.NONE:
            self._node(op_type, inputs, output, **attrs)
        else:
            self._activation(self._node(op_type, inputs, **attrs), function, output)

    # ---- conversion entry point ----------------------------------------

    def convert(self) -> onnx.ModelProto:
        ops = [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]
        names = [self._operator_name(op) for op in ops]
        unsupported = sorted({n for n in names if n not in self._handlers})
        if unsupported:
            raise UnsupportedModelError(
                "unsupported TFLite operator(s): "
                + ", ".join(f"{n} (x{names.count(n)})" for n in unsupported)
                + f"; supported: {', '.join(sorted(self._handlers))}"
            )

        graph_inputs = []
        for index in self.inputs:
            tensor = self.tensors[index]
            graph_inputs.append(self._value_info(tensor))
            if len(tensor.shape) == 4:
                self.values[index] = self._node(
                    "Transpose", [tensor.name], self._fresh(f"{tensor.name}:nchw"), perm=NHWC_TO_NCHW
                )
            else:
                self.values[index] = tensor.name

        for op, name in zip(ops, names, strict=True):
            ins = [op.Inputs(i) for i in range(op.InputsLength())]
            outs = [op.Outputs(i) for i in range(op.OutputsLength())]
            self._handlers[name](op, ins, outs)

        graph_outputs = []
        for index in self.outputs:
            tensor = self.tensors[index]
            if index not in self.values:
                raise UnsupportedModelError(f"graph output {tensor.name!r} is not computed by any op")
            if len(tensor.shape) == 4:
                self._node("Transpose", [self.values[index]], tensor.name, perm=NCHW_TO_NHWC)
            graph_outputs.append(self._value_info(tensor))

        graph = helper.make_graph(self.nodes, "tflite2onnx", graph_inputs, graph_outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="pose_ros.devtools.tflite2onnx",
        )
        model.ir_version = IR_VERSION
        helper.set_model_props(model, {"source_tflite_sha256": hashlib.sha256(self._raw).hexdigest()})
        return model

    def _value_info(self, tensor: _Tensor) -> onnx.ValueInfoProto:
        elem_type = helper.np_dtype_to_tensor_dtype(np.dtype(_NUMPY_DTYPES[tensor.dtype]))
        shape = list(tensor.shape)
        if self.dynamic_batch and shape and shape[0] == 1:
            shape[0] = "batch"
        return helper.make_tensor_value_info(tensor.name, elem_type, shape)

    # ---- constant-folded ops -------------------------------------------

    def _densify(self, op, ins, outs):
        source = self.tensors[ins[0]]
        if source.data is None or source.sparsity is None:
            raise UnsupportedModelError(f"DENSIFY input {source.name!r} is not a sparse constant")
        order, block_map, meta = _read_sparsity(source.sparsity)
        self.tensors[outs[0]].data = densify(source.data, source.shape, order, block_map, meta)

    def _dequantize(self, op, ins, outs):
        source = self.tensors[ins[0]]
        if source.dtype != "FLOAT16":
            raise UnsupportedModelError(
                f"DEQUANTIZE from {source.dtype} (tensor {source.name!r}) is not supported"
            )
        if self._is_const(ins[0]):
            self.tensors[outs[0]].data = self._const(ins[0]).astype(np.float32)
        else:
            self._node("Cast", [self._input(ins[0])], self._output(outs[0]), to=TensorProto.FLOAT)

    # ---- spatial ops ----------------------------------------------------

    def _explicit_pads(self, padding: int, in_index: int, kernel, strides, dilations) -> list[int]:
        """ONNX ``pads`` ([top, left, bottom, right]) for TFLite SAME/VALID."""
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        _, height, width, _ = self.tensors[in_index].shape
        top, bottom = same_padding(height, kernel[0], strides[0], dilations[0])
        left, right = same_padding(width, kernel[1], strides[1], dilations[1])
        return [top, left, bottom, right]

    def _conv(self, op, ins, outs, depthwise: bool):
        opts = _options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
        weights = self._const(ins[1])
        if depthwise:
            # TFLite [1, KH, KW, C*M] -> ONNX grouped conv [C*M, 1, KH, KW];
            # output channel c*M + m reads input channel c in both.
            kernel = weights.transpose(3, 0, 1, 2)
            group = self.tensors[ins[0]].shape[3]
        else:
            kernel = weights.transpose(0, 3, 1, 2)  # [O, KH, KW, I] -> [O, I, KH, KW]
            group = 1
        strides = [opts.StrideH(), opts.StrideW()]
        dilations = [opts.DilationHFactor(), opts.DilationWFactor()]
        inputs = [self._input(ins[0]), self._initializer(kernel, f"{self.tensors[ins[1]].name}:oihw")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self._input(ins[2]))
        self._with_activation(
            "Conv",
            inputs,
            outs[0],
            opts.FusedActivationFunction(),
            kernel_shape=list(kernel.shape[2:]),
            strides=strides,
            dilations=dilations,
            group=group,
            pads=self._explicit_pads(opts.Padding(), ins[0], kernel.shape[2:], strides, dilations),
        )

    def _conv_2d(self, op, ins, outs):
        self._conv(op, ins, outs, depthwise=False)

    def _depthwise_conv_2d(self, op, ins, outs):
        self._conv(op, ins, outs, depthwise=True)

    def _max_pool_2d(self, op, ins, outs):
        opts = _options(op, tflite.Pool2DOptions)
        kernel = [opts.FilterHeight(), opts.FilterWidth()]
        strides = [opts.StrideH(), opts.StrideW()]
        # MaxPool ignores padded cells, like TFLite's SAME max pooling.
        self._with_activation(
            "MaxPool",
            [self._input(ins[0])],
            outs[0],
            opts.FusedActivationFunction(),
            kernel_shape=kernel,
            strides=strides,
            pads=self._explicit_pads(opts.Padding(), ins[0], kernel, strides, [1, 1]),
        )

    def _pad(self, op, ins, outs):
        paddings = self._const(ins[1]).astype(np.int64)  # [rank, 2] (before, after)
        if len(paddings) == 4:
            paddings = paddings[list(NHWC_TO_NCHW)]
        pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
        self._node(
            "Pad",
            [self._input(ins[0]), self._initializer(pads, "pads")],
            self._output(outs[0]),
            mode="constant",
        )

    def _resize_bilinear(self, op, ins, outs):
        opts = _options(op, tflite.ResizeBilinearOptions)
        if opts.AlignCorners() and opts.HalfPixelCenters():
            raise UnsupportedModelError("RESIZE_BILINEAR with align_corners and half_pixel_centers")
        # TFLite's half-pixel mapping (out + 0.5) * in/out - 0.5, clamped to
        # the edge, is ONNX's "half_pixel"; align_corners maps directly; with
        # neither flag TFLite uses out * in/out, ONNX's "asymmetric".
        if opts.AlignCorners():
            mode = "align_corners"
        elif opts.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        batch, in_height, in_width, channels = self.tensors[ins[0]].shape
        height, width = (int(v) for v in self._const(ins[1]))
        if self.dynamic_batch:
            # Scales leave the batch free; out = floor(in * scale) is exact for these integer ratios.
            scales = np.array([1.0, 1.0, height / in_height, width / in_width], dtype=np.float32)
            inputs = [self._input(ins[0]), "", self._initializer(scales, "resize_scales")]
        else:
            sizes = np.array([batch, channels, height, width], dtype=np.int64)
            inputs = [self._input(ins[0]), "", "", self._initializer(sizes, "resize_sizes")]
        self._node("Resize", inputs, self._output(outs[0]), mode="linear", coordinate_transformation_mode=mode)

    def _depth_to_space(self, op, ins, outs):
        opts = _options(op, tflite.DepthToSpaceOptions)
        # TFLite splits channels as [block_y, block_x, C_out], ONNX's "DCR".
        self._node(
            "DepthToSpace",
            [self._input(ins[0])],
            self._output(outs[0]),
            blocksize=opts.BlockSize(),
            mode="DCR",
        )

    # ---- element-wise and shape ops -----------------------------------

    def _add(self, op, ins, outs):
        opts = _options(op, tflite.AddOptions)
        rank = len(self.tensors[outs[0]].shape)
        for index in ins:
            if index not in self.values and not self._is_const(index):
                raise UnsupportedModelError(f"ADD input {self.tensors[index].name!r} is not computed")
            if rank == 4 and index in self.values and len(self.tensors[index].shape) != 4:
                raise UnsupportedModelError("ADD broadcasting a lower-rank activation into rank 4")
        self._with_activation(
            "Add", [self._input(i, rank) for i in ins], outs[0], opts.FusedActivationFunction()
        )

    def _logistic(self, op, ins, outs):
        self._node("Sigmoid", [self._input(ins[0])], self._output(outs[0]))

    def _concatenation(self, op, ins, outs):
        opts = _options(op, tflite.ConcatenationOptions)
        rank = len(self.tensors[outs[0]].shape)
        axis = opts.Axis() % rank
        if rank == 4:
            axis = NHWC_TO_NCHW.index(axis)
        self._with_activation(
            "Concat",
            [self._input(i, rank) for i in ins],
            outs[0],
            opts.FusedActivationFunction(),
            axis=axis,
        )

    def _reshape(self, op, ins, outs):
        # The TFLite output shape is static for these models, so use it rather
        # than the (possibly -1 containing) shape operand.
        target = list(self.tensors[outs[0]].shape)
        if self.dynamic_batch and target and target[0] == 1:
            target[0] = -1  # the batch, whatever its size
        value = self._input(ins[0])
        if len(self.tensors[ins[0]].shape) == 4:
            value = self._node("Transpose", [value], perm=NCHW_TO_NHWC)
        shape = self._initializer(np.array(target, dtype=np.int64), "reshape_shape")
        if len(target) == 4:
            value = self._node("Reshape", [value, shape])
            self._node("Transpose", [value], self._output(outs[0]), perm=NHWC_TO_NCHW)
        else:
            self._node("Reshape", [value, shape], self._output(outs[0]))


def convert_model(model_bytes: bytes, dynamic_batch: bool = False) -> onnx.ModelProto:
    """Convert TFLite flatbuffer bytes into a checked ONNX model (``dynamic_batch``: symbolic leading dim)."""
    model = _Converter(model_bytes, dynamic_batch).convert()
    onnx.checker.check_model(model, full_check=True)
    return model


def convert(tflite_path: str | Path, onnx_path: str | Path, dynamic_batch: bool = False) -> None:
    """Convert ``tflite_path`` into an ONNX file at ``onnx_path``."""
    model = convert_model(Path(tflite_path).read_bytes(), dynamic_batch)
    onnx.save(model, str(onnx_path))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.tflite2onnx.convert",
        description="Convert a MediaPipe BlazePose .tflite model to ONNX (opset 17).",
    )
    parser.add_argument("tflite", type=Path, help="input .tflite file")
    parser.add_argument("onnx", type=Path, help="output .onnx file")
    parser.add_argument("--dynamic-batch", action="store_true", help="symbolic batch dimension (batched crops)")
    args = parser.parse_args(argv)
    try:
        convert(args.tflite, args.onnx, args.dynamic_batch)
    except UnsupportedModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model = onnx.load(str(args.onnx), load_external_data=False)

    def describe(values):
        return ", ".join(f"{v.name}{[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]}"
                         for v in values)

    print(f"wrote {args.onnx} ({len(model.graph.node)} nodes, opset {OPSET})")
    print(f"  inputs:  {describe(model.graph.input)}")
    print(f"  outputs: {describe(model.graph.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
