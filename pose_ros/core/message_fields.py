"""The field values of pose_ros/msg/PoseArray and PersonPose for a stream result, in one place.

No message types are imported: the node builds rclpy messages and the bag tools rosbags messages from these same
values, so a bag annotated offline holds what the node publishes. Arrays are numpy (float32, bool); headers are
passed through as the caller's own objects.
"""
from __future__ import annotations

from typing import Any

import numpy as np

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
