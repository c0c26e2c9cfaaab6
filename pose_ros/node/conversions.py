"""Messages <-> arrays. The only place that knows both the message types and the core's types."""
from __future__ import annotations

import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from pose_ros.core.imaging import bgr_from_raw
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton
from pose_ros.msg import PersonPose, PoseArray, SkeletonInfo


def image_to_bgr(msg: Image) -> np.ndarray:
    """sensor_msgs/Image -> (H, W, 3) uint8 BGR; a view of msg.data for bgr8. Raises ImageDecodeError."""
    return bgr_from_raw(msg.data, msg.height, msg.width, msg.step, msg.encoding)


def bgr_to_image(image: np.ndarray, header: Header) -> Image:
    height, width = image.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding="bgr8", is_bigendian=0, step=width * 3)
    msg.data = np.ascontiguousarray(image).tobytes()
    return msg


def poses_to_msg(poses: Poses, header: Header, model: str, image_hw: tuple[int, int]) -> PoseArray:
    """Build the PoseArray; whole keypoint columns are assigned at once (no per-keypoint Python loop)."""
    msg = PoseArray(header=header, skeleton=poses.skeleton.name, model=model,
                    image_height=int(image_hw[0]), image_width=int(image_hw[1]))
    people = []
    for box, score, track, kps in zip(poses.boxes, poses.scores, poses.track_ids, poses.keypoints):
        person = PersonPose(box=box, score=float(score), track_id=int(track))
        person.keypoint_x = kps[:, 0].copy()
        person.keypoint_y = kps[:, 1].copy()
        person.keypoint_score = kps[:, 2].copy()
        people.append(person)
    msg.people = people
    return msg


def skeleton_info_msg(skeleton: Skeleton, model: str, header: Header) -> SkeletonInfo:
    edges = np.asarray(skeleton.edges, dtype=np.uint16).reshape(-1, 2)
    return SkeletonInfo(header=header, skeleton=skeleton.name, model=model,
                        keypoint_names=list(skeleton.keypoint_names),
                        edge_start=edges[:, 0].tolist(), edge_end=edges[:, 1].tolist(),
                        oks_sigmas=skeleton.oks_sigmas.astype(np.float32))
