"""Per-camera streams: estimator, mode auto, tracking, smoothing, continuity checks and 3D keypoints."""
from pose_ros.core.stream.stream import (Frame, Points3D, PoseStream, SkipFrame, StreamConfig, StreamResult,
                                         process_together)

__all__ = ["Frame", "Points3D", "PoseStream", "SkipFrame", "StreamConfig", "StreamResult", "process_together"]
