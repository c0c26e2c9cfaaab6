"""Running models: the ONNX Runtime backend, optional torch pre-processing on the model's device, stage timing."""
