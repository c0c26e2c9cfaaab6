"""Messages <-> arrays for rclpy. The only place that knows both the rclpy message types and the core's types; the
field values come from core.message_fields (shared with the bag tools' rosbags messages), only what rclpy's
message classes want otherwise (bytes, Python lists) is adapted here."""
from __future__ import annotations

import cv2
import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_ros.core.message_fields import (bgr8_image_fields, image_from_message, person_fields, pose_array_fields,
                                          skeleton_info_fields, stamp_seconds)
from pose_ros.core.result import Poses
from pose_ros.core.stream import StreamResult
from pose_ros.core.skeletons import Skeleton
from pose_ros.msg import PersonPose, PoseArray, SkeletonInfo


def image_to_bgr(msg: Image | CompressedImage, min_long_side: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    """sensor_msgs Image (a view of msg.data for bgr8) or CompressedImage -> (H, W, 3) uint8 BGR and the (x, y)
    factors to full-size pixels: a JPEG is decoded at reduced size when its long side stays >= ``min_long_side``
    (0 = full size). Raises ImageDecodeError."""
    return image_from_message(msg, isinstance(msg, CompressedImage), min_long_side)


def bgr_to_image(image: np.ndarray, header: Header) -> Image:
    fields = bgr8_image_fields(image, header)
    fields["data"] = fields["data"].tobytes()  # rclpy's uint8[] takes bytes
    return Image(**fields)


def bgr_to_compressed(image: np.ndarray, header: Header, quality: int = 80) -> CompressedImage:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return CompressedImage(header=header, format="jpeg", data=data.tobytes())


def pose_array_msg(result: StreamResult, header: Header) -> PoseArray:
    """The PoseArray of one stream result, from the fields shared with the bag tools (core.message_fields);
    ``header`` is the image's."""
    depth_header = result.points_3d.source if result.points_3d is not None else Header()
    msg = PoseArray(**pose_array_fields(result, header, depth_header))
    people = []
    for fields in person_fields(result):
        fields["keypoint_3d_valid"] = fields["keypoint_3d_valid"].tolist()  # rclpy's bool[] takes Python bools
        people.append(PersonPose(**fields))
    msg.people = people
    return msg


def skeleton_info_msg(skeleton: Skeleton, model: str, header: Header) -> SkeletonInfo:
    fields = skeleton_info_fields(skeleton, model, header)
    fields["edge_start"], fields["edge_end"] = fields["edge_start"].tolist(), fields["edge_end"].tolist()
    return SkeletonInfo(**fields)


_LIMB = ColorRGBA(r=1.0, g=0.5, b=0.0, a=1.0)
_JOINT = ColorRGBA(r=0.0, g=1.0, b=1.0, a=1.0)


def poses_to_markers(poses: Poses, header: Header, image_hw: tuple[int, int], plane_distance_m: float = 1.0,
                     lifetime_s: float = 0.5) -> MarkerArray:
    """RViz skeletons in the camera's optical frame (x right, y down, z forward).

    Without depth the 2D skeleton is drawn on a plane ``plane_distance_m`` in front of the camera, the image
    spanning 1 m across: a picture of the detections placed where the camera looks, not metric 3D. The first
    marker clears the previous frame's people. Joints with score 0 (not found, or below keypoint_threshold) are
    left out.
    """
    height, width = image_hw
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    edges = np.asarray(poses.skeleton.edges, dtype=np.int64).reshape(-1, 2)
    scale = 1.0 / max(width, 1)
    lifetime = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1) * 1e9))
    for i, kps in enumerate(poses.keypoints):
        visible = kps[:, 2] > 0  # as published: joints below keypoint_threshold have score 0
        xyz = np.column_stack([(kps[:, 0] - width / 2) * scale, (kps[:, 1] - height / 2) * scale,
                               np.full(len(kps), plane_distance_m)])
        limbs = edges[visible[edges[:, 0]] & visible[edges[:, 1]]].reshape(-1)
        person_id = int(poses.track_ids[i]) if poses.track_ids[i] >= 0 else i
        common = dict(header=header, ns="pose", lifetime=lifetime)
        lines = Marker(id=2 * person_id, type=Marker.LINE_LIST, action=Marker.ADD, color=_LIMB, **common)
        lines.scale.x = 0.005
        lines.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in xyz[limbs]]
        joints = Marker(id=2 * person_id + 1, type=Marker.SPHERE_LIST, action=Marker.ADD, color=_JOINT, **common)
        joints.scale.x = joints.scale.y = joints.scale.z = 0.01
        joints.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in xyz[visible]]
        lines.pose.orientation.w = joints.pose.orientation.w = 1.0
        markers += [lines, joints]
    return MarkerArray(markers=markers)


def diagnostic_status(name: str, hardware_id: str, level: int, message: str, values: dict[str, str]) -> DiagnosticStatus:
    return DiagnosticStatus(level=bytes([level]), name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


__all__ = ["bgr_to_compressed", "bgr_to_image", "diagnostic_status", "image_to_bgr", "pose_array_msg",
           "poses_to_markers", "skeleton_info_msg", "stamp_seconds"]  # stamp_seconds: core.message_fields'
