"""rosbag2 files (mcap or sqlite3) without ros2 bag: sample bags of photos, reading image topics.

Uses ``rosbags`` (pure Python), which reads and writes rosbag2 with the project's own message types.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

LOG = logging.getLogger(__name__)
IMAGE_TYPE = "sensor_msgs/msg/Image"


def _msg_dir() -> Path:
    """msg/ of the source checkout, else the installed share/pose_ros/msg."""
    source = Path(__file__).resolve().parents[2] / "msg"
    if source.is_dir():
        return source
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("pose_ros")) / "msg"


def typestore():
    """Jazzy's standard types plus pose_ros/msg/*."""
    store = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for path in sorted(_msg_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"pose_ros/msg/{path.stem}"))
    store.register(types)
    return store


@dataclass(frozen=True)
class BagImage:
    """One image message of a bag: the log time, the header stamp, and its raw CDR bytes."""

    log_time_ns: int
    stamp_ns: int
    frame_id: str
    cdr: bytes


def image_msg(store, image: np.ndarray, stamp_ns: int, frame_id: str):
    """A rosbags sensor_msgs/Image (bgr8) for a BGR array."""
    Image = store.types[IMAGE_TYPE]
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    height, width = image.shape[:2]
    return Image(header=Header(stamp=Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=frame_id),
                 height=height, width=width, encoding="bgr8", is_bigendian=0, step=width * 3,
                 data=np.ascontiguousarray(image).reshape(-1))


def write_image_bag(path: Path, images: list[np.ndarray], topic: str = "/camera/image_raw",
                    frame_id: str = "camera", start_ns: int = 1_700_000_000 * 10**9, period_ns: int = 200_000_000,
                    storage: str = "mcap") -> list[int]:
    """Write ``images`` as a rosbag2 at ``period_ns`` intervals; returns their header stamps (ns)."""
    store = typestore()
    plugin = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}[storage]
    stamps = []
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        conn = writer.add_connection(topic, IMAGE_TYPE, typestore=store)
        for i, image in enumerate(images):
            stamp = start_ns + i * period_ns
            writer.write(conn, stamp, store.serialize_cdr(image_msg(store, image, stamp, frame_id), IMAGE_TYPE))
            stamps.append(stamp)
    return stamps


def read_images(path: Path, topic: str) -> Iterator[BagImage]:
    """Image messages of ``topic`` in log-time order."""
    store = typestore()
    with Reader(path) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        if not conns:
            topics = ", ".join(sorted({c.topic for c in reader.connections}))
            raise ValueError(f"no topic {topic!r} in {path}; topics: {topics}")
        if conns[0].msgtype != IMAGE_TYPE:
            raise ValueError(f"{topic} in {path} is {conns[0].msgtype}, expected {IMAGE_TYPE}")
        for conn, log_time, raw in reader.messages(connections=conns):
            header = store.deserialize_cdr(raw, conn.msgtype).header
            yield BagImage(log_time, header.stamp.sec * 10**9 + header.stamp.nanosec, header.frame_id, bytes(raw))


def sample_bag(path: Path, repeats: int = 2) -> Path:
    """The demo/test bag: each sample photo (scaled to fit 640x640), ``repeats`` times, 5 Hz, mcap."""
    from pose_ros.tools.sample_data import ensure_photos

    if path.exists():
        return path
    images = []
    for photo in ensure_photos().values():
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        scale = min(1.0, 640 / max(image.shape[:2]))
        images.append(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image_bag(path, images * repeats)
    LOG.info("wrote sample bag %s (%d frames)", path, len(images) * repeats)
    return path
