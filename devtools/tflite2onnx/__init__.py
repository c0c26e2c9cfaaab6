"""Project-owned TFLite -> ONNX converter for MediaPipe's BlazePose models."""
