"""The message fields pose_ros reads and writes, in one place, for rclpy and rosbags messages alike: PoseArray and
PersonPose of a stream result, SkeletonInfo, bgr8 Images, header stamps, and the pixels of a received Image or
CompressedImage.

No message types are imported: the node builds rclpy messages and the bag tools rosbags messages from these same
values (both kinds have the same field names), so a bag annotated offline holds what the node publishes. Arrays
are numpy (float32, uint16, bool, uint8); headers are passed through as the caller's own objects.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from pose_ros.core.imaging import bgr_from_compressed_scaled, bgr_from_raw
from pose_ros.core.skeletons import Skeleton
from pose_ros.core.stream import StreamResult

_NO_FLOATS = np.zeros(0, np.float32)
_NO_BOOLS = np.zeros(0, np.bool_)


def person_fields(result: StreamResult) -> list[dict[str, Any]]:
    """One dict of PersonPose fields per person, in score order."""
    poses, depth = result.poses, result.points_3d
    people = []
    for i in range(len(poses)):
        kps = poses.keypoints[i]
        person = dict(box=poses.boxes[i].astype(np.float32), score=float(poses.scores[i]),
                      track_id=int(poses.track_ids[i]), keypoint_source=int(poses.keypoint_source[i]),
                      keypoint_x=kps[:, 0].copy(), keypoint_y=kps[:, 1].copy(), keypoint_score=kps[:, 2].copy(),
                      keypoint_3d_x=_NO_FLOATS, keypoint_3d_y=_NO_FLOATS, keypoint_3d_z=_NO_FLOATS,
                      keypoint_3d_valid=_NO_BOOLS, keypoint_3d_variance=_NO_FLOATS)
        if depth is not None:
            person.update(keypoint_3d_x=depth.points[i, :, 0].astype(np.float32),
                          keypoint_3d_y=depth.points[i, :, 1].astype(np.float32),
                          keypoint_3d_z=depth.points[i, :, 2].astype(np.float32),
                          keypoint_3d_valid=depth.valid[i].astype(np.bool_),
                          keypoint_3d_variance=depth.variance[i].astype(np.float32))
        people.append(person)
    return people


def pose_array_fields(result: StreamResult, header: Any, depth_header: Any) -> dict[str, Any]:
    """PoseArray fields except ``people``: ``header`` is the image's header (copied, never the processing
    time); ``depth_header`` the depth frame's (an empty header without depth)."""
    return dict(header=header, skeleton=result.poses.skeleton.name, model=result.model, depth_header=depth_header,
                mode=result.mode, image_width=int(result.image_hw[1]), image_height=int(result.image_hw[0]))


def skeleton_info_fields(skeleton: Skeleton, model: str, header: Any) -> dict[str, Any]:
    """SkeletonInfo fields: the published layout's names, edges (uint16 arrays) and OKS sigmas."""
    edges = np.asarray(skeleton.edges, dtype=np.uint16).reshape(-1, 2)
    return dict(header=header, skeleton=skeleton.name, model=model, keypoint_names=list(skeleton.keypoint_names),
                edge_start=edges[:, 0].copy(), edge_end=edges[:, 1].copy(),
                oks_sigmas=skeleton.oks_sigmas.astype(np.float32))


def bgr8_image_fields(image: np.ndarray, header: Any) -> dict[str, Any]:
    """sensor_msgs/Image fields of a BGR array (``data`` a flat uint8 view of the contiguous pixels)."""
    height, width = image.shape[:2]
    return dict(header=header, height=height, width=width, encoding="bgr8", is_bigendian=0, step=width * 3,
                data=np.ascontiguousarray(image).reshape(-1))


def image_from_message(msg: Any, compressed: bool, min_long_side: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    """An Image (a view of its data for bgr8) or, when ``compressed``, a CompressedImage -> (H, W, 3) uint8 BGR
    and the (x, y) factors to full-size pixels: a JPEG is decoded at reduced size when its long side stays
    >= ``min_long_side`` (0 = full size; the node's reduced_jpeg_decode). Raises ImageDecodeError."""
    if compressed:
        return bgr_from_compressed_scaled(msg.data, msg.format, min_long_side)
    return bgr_from_raw(msg.data, msg.height, msg.width, msg.step, msg.encoding), (1.0, 1.0)


def stamp_ns(header: Any) -> int:
    """A header's stamp in integer nanoseconds (exact: the key the tools match answers by)."""
    return header.stamp.sec * 10**9 + header.stamp.nanosec


def stamp_seconds(header: Any) -> float:
    """A header's stamp in seconds (a Frame's stamp)."""
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def stamp_fields(ns: int) -> dict[str, int]:
    """builtin_interfaces/Time fields of a stamp in nanoseconds."""
    return dict(sec=ns // 10**9, nanosec=ns % 10**9)
