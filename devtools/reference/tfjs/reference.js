#!/usr/bin/env node
// The TF.js reference for pose_ros' parity tests (test/test_tfjs_parity.py): @tensorflow-models/pose-detection's
// own PoseNet and MoveNet MultiPose detectors, and raw GraphModel.executeAsync outputs, on the pure-JS 'cpu' backend.
//
//   NODE_PATH=$POSE_ROS_CACHE/node-tfjs/node_modules node reference.js < request.json > answer.json
//
// Request (JSON on stdin; every file is plain bytes that Python wrote, nothing is evaluated):
//   {"models_dir": ".../human-models-3.0.4/package/models",
//    "posenet": {"model": "posenet.json", "input_resolution": 385, "output_stride": 16, "max_poses": 10,
//                "score_threshold": 0.5, "nms_radius": 20, "images": [IMAGE, ...]},                 // optional
//    "movenet_multipose": {"model": "movenet-multipose.json", "min_pose_score": 0.25, "max_dimension": 256,
//                          "images": [IMAGE, ...]},                                                // optional
//    "raw": [{"name": "posenet", "model": "posenet.json", "file": "/tmp/x/posenet.in", "dtype": "float32",
//             "shape": [1, 385, 385, 3], "out_dir": "/tmp/x/out", "extra_outputs": [node name, ...]}]}  // optional
//   IMAGE = {"name": "bus.jpg", "file": "/tmp/x/bus.rgb", "height": 1080, "width": 810}: uint8 RGB bytes, HWC.
//   A detector's "capture_dir" (optional): the tensor the detector feeds its model, per image, is written there.
// Answer (JSON on stdout): {"versions": {...}, "posenet": {image name: [pose]}, "movenet_multipose": {...},
//   "inputs": {detector: {image name: {"file", "shape", "dtype"}}} (captured model inputs, little-endian bytes),
//   "raw": {name: [{"key": signature key, "tensor": tensor name, "shape": [...], "file": float32 LE bytes}]},
//   "seconds": {...}}; a pose is {"score", "keypoints": [[x, y, score] x 17], "box"} in source-image pixels.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const poseDetection = require('@tensorflow-models/pose-detection');

function readStdin() {
  return JSON.parse(fs.readFileSync(0, 'utf8'));
}

function arrayBufferOf(buffer) {
  // A Buffer may be a view into a shared pool: copy out exactly its bytes (aligned, for typed arrays).
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

// model.json and its weight shards from disk, as ModelArtifacts for tf.io.fromMemory (no fetch, no network).
// `patch` may edit the parsed model.json before it is handed over.
function localModel(modelsDir, jsonName, patch) {
  const jsonPath = path.join(modelsDir, path.basename(jsonName));
  const model = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  if (patch) patch(model);
  const weightSpecs = [];
  const shards = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      shards.push(fs.readFileSync(path.join(path.dirname(jsonPath), path.basename(shard))));
    }
  }
  return tf.io.fromMemory({
    modelTopology: model.modelTopology,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
    userDefinedMetadata: model.userDefinedMetadata,
    weightSpecs,
    weightData: arrayBufferOf(Buffer.concat(shards)),
  });
}

// PoseNet as shipped has a fixed 385x385 input and its outputs in the file's order (fwd, heatmap, bwd, offset);
// pose-detection's PosenetDetector asserts free H/W and reads predict()'s outputs by position as
// offset, heatmap, fwd, bwd (MobileNetV1).
function posenetForPoseDetection(model) {
  for (const node of model.modelTopology.node) {
    if (node.op === 'Placeholder') {
      const dims = node.attr.shape.shape.dim;
      dims[1].size = '-1';
      dims[2].size = '-1';
    }
  }
  for (const input of Object.values(model.signature.inputs)) {
    const dims = input.tensorShape.dim;
    dims[1].size = '-1';
    dims[2].size = '-1';
  }
  const outputs = model.signature.outputs;
  const role = (key) => ['offset', 'heatmap', 'displacement_fwd', 'displacement_bwd']
    .findIndex((layer) => key.split('/')[1].startsWith(layer));
  const keys = Object.keys(outputs).sort((a, b) => role(a) - role(b));
  if (keys.some((key) => role(key) < 0)) throw new Error(`unexpected PoseNet outputs ${keys}`);
  model.signature.outputs = Object.fromEntries(keys.map((key) => [key, outputs[key]]));
}

function imageTensor(image) {
  const bytes = fs.readFileSync(image.file);
  if (bytes.length !== image.height * image.width * 3) {
    throw new Error(`${image.file}: ${bytes.length} bytes, not ${image.height}x${image.width}x3`);
  }
  return tf.tensor3d(new Uint8Array(arrayBufferOf(bytes)), [image.height, image.width, 3], 'int32');
}

function poseJson(pose) {
  return {
    score: pose.score,
    keypoints: pose.keypoints.map((k) => [k.x, k.y, k.score]),
    box: pose.box ? [pose.box.xMin, pose.box.yMin, pose.box.xMax, pose.box.yMax] : null,
  };
}

// Wraps model[method] so that every call's first argument (the model input the detector built) is kept.
function captureInputs(model, method) {
  const original = model[method].bind(model);
  const captured = [];
  model[method] = (input, ...rest) => {
    captured.push({shape: input.shape, dtype: input.dtype, data: input.dataSync().slice()});
    return original(input, ...rest);
  };
  return captured;
}

function writeCaptured(captured, dir, detectorName, imageName) {
  if (captured.length !== 1) throw new Error(`${detectorName} ${imageName}: ${captured.length} model calls`);
  const {shape, dtype, data} = captured.pop();
  fs.mkdirSync(dir, {recursive: true});
  const file = path.join(dir, `${detectorName}__${imageName}.in`);
  fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return {file, shape, dtype};
}

async function runDetector(detector, cfg, estimationConfig, name, captured, inputs) {
  const answers = {};
  for (const image of cfg.images) {
    const tensor = imageTensor(image);
    const poses = await detector.estimatePoses(tensor, estimationConfig);
    tensor.dispose();
    answers[image.name] = poses.map(poseJson);
    if (cfg.capture_dir) {
      inputs[name] = inputs[name] || {};
      inputs[name][image.name] = writeCaptured(captured, cfg.capture_dir, name, image.name);
    }
  }
  detector.dispose();
  return answers;
}

async function posenet(request, cfg, inputs) {
  const detector = await poseDetection.createDetector(poseDetection.SupportedModels.PoseNet, {
    architecture: 'MobileNetV1',
    outputStride: cfg.output_stride,
    multiplier: 0.75,
    inputResolution: {width: cfg.input_resolution, height: cfg.input_resolution},
    modelUrl: localModel(request.models_dir, cfg.model, posenetForPoseDetection),
  });
  const captured = cfg.capture_dir ? captureInputs(detector.posenetModel, 'predict') : [];
  return runDetector(detector, cfg, {
    maxPoses: cfg.max_poses, flipHorizontal: false, scoreThreshold: cfg.score_threshold, nmsRadius: cfg.nms_radius,
  }, 'posenet', captured, inputs);
}

async function movenetMultipose(request, cfg, inputs) {
  const detector = await poseDetection.createDetector(poseDetection.SupportedModels.MoveNet, {
    modelType: poseDetection.movenet.modelType.MULTIPOSE_LIGHTNING,
    enableSmoothing: false,
    enableTracking: false,
    minPoseScore: cfg.min_pose_score,
    multiPoseMaxDimension: cfg.max_dimension,
    modelUrl: localModel(request.models_dir, cfg.model),
  });
  const captured = cfg.capture_dir ? captureInputs(detector.moveNetModel, 'execute') : [];
  return runDetector(detector, cfg, {}, 'movenet_multipose', captured, inputs);
}

const DTYPES = {float32: Float32Array, int32: Int32Array};

// Every output of the graph, named by its signature key and tensor name, on the given input; then any inner
// tensors asked for by node name (key and tensor name are that name).
async function rawOutputs(request, job) {
  const model = await tf.loadGraphModel(localModel(request.models_dir, job.model));
  const signature = {...model.modelSignature.outputs};
  for (const name of job.extra_outputs || []) signature[name] = {name};
  const keys = Object.keys(signature);
  const Type = DTYPES[job.dtype];
  if (!Type) throw new Error(`dtype ${job.dtype}`);
  const input = tf.tensor(new Type(arrayBufferOf(fs.readFileSync(job.file))), job.shape, job.dtype);
  const outputs = await model.executeAsync(input, keys.map((key) => signature[key].name));
  fs.mkdirSync(job.out_dir, {recursive: true});
  const answer = [];
  for (const [i, tensor] of [outputs].flat().entries()) {
    const file = path.join(job.out_dir, `${job.name}.${i}.f32`);
    fs.writeFileSync(file, Buffer.from((await tensor.data()).buffer));
    answer.push({key: keys[i], tensor: signature[keys[i]].name, shape: tensor.shape, file});
  }
  tf.dispose([input, outputs]);
  model.dispose();
  return answer;
}

async function timed(seconds, name, work) {
  const start = process.hrtime.bigint();
  const result = await work();
  seconds[name] = Number(process.hrtime.bigint() - start) / 1e9;
  return result;
}

async function main() {
  const request = readStdin();
  await tf.setBackend('cpu');
  await tf.ready();
  const answer = {
    versions: {tfjs: tf.version.tfjs, backend: tf.getBackend(), node: process.version,
      pose_detection: require('@tensorflow-models/pose-detection/package.json').version},
    seconds: {},
    inputs: {},
  };
  if (request.posenet) {
    answer.posenet = await timed(answer.seconds, 'posenet', () => posenet(request, request.posenet, answer.inputs));
  }
  if (request.movenet_multipose) {
    answer.movenet_multipose = await timed(answer.seconds, 'movenet_multipose',
      () => movenetMultipose(request, request.movenet_multipose, answer.inputs));
  }
  answer.raw = {};
  for (const job of request.raw || []) {
    answer.raw[job.name] = await timed(answer.seconds, `raw ${job.name}`, () => rawOutputs(request, job));
  }
  process.stdout.write(JSON.stringify(answer));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
