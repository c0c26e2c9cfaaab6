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
from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from pose_ros.core.message_fields import bgr8_image_fields, stamp_fields, stamp_ns

LOG = logging.getLogger(__name__)
IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
INPUT_TYPES = (IMAGE_TYPE, COMPRESSED_TYPE)


class BagError(ValueError):
    """A bag or topic that cannot be used (missing, unreadable, not an image topic); the message says why."""


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
    """One image message of a bag: the log time, the header stamp, its raw CDR bytes and its type
    (Image or CompressedImage)."""

    log_time_ns: int
    stamp_ns: int
    frame_id: str
    cdr: bytes
    msgtype: str = IMAGE_TYPE


def open_bag(path: Path) -> Reader:
    """An opened reader of the rosbag2 at ``path`` (mcap or sqlite3); BagError when it is not one."""
    path = Path(path)
    if not path.exists():
        raise BagError(f"input bag {path} does not exist")
    try:
        reader = Reader(path)
        reader.open()
    except ReaderError as err:
        raise BagError(f"cannot read {path} as a rosbag2: {err}") from None
    return reader


def image_connections(reader: Reader, path: Path, topic: str) -> list:
    """The connections of ``topic``, which must be an Image or CompressedImage topic; BagError (listing the
    bag's topics) otherwise."""
    conns = [c for c in reader.connections if c.topic == topic]
    if not conns:
        topics = sorted({(c.topic, c.msgtype) for c in reader.connections})
        listing = "\n".join(f"  {t}  {m}{'  (image)' if m in INPUT_TYPES else ''}" for t, m in topics) or "  (none)"
        raise BagError(f"no topic {topic!r} in {path}; its topics:\n{listing}")
    wrong = sorted({c.msgtype for c in conns} - set(INPUT_TYPES))
    if wrong:
        raise BagError(f"{topic} in {path} is {', '.join(wrong)}; expected {' or '.join(INPUT_TYPES)}")
    return conns


def image_msg(store, image: np.ndarray, stamp_ns: int, frame_id: str):
    """A rosbags sensor_msgs/Image (bgr8) for a BGR array (the node's fields: core.message_fields)."""
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    header = Header(stamp=Time(**stamp_fields(stamp_ns)), frame_id=frame_id)
    return store.types[IMAGE_TYPE](**bgr8_image_fields(image, header))


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
    """Image or CompressedImage messages of ``topic`` in log-time order; BagError for an unusable bag or topic."""
    store = typestore()
    reader = open_bag(path)
    try:
        conns = image_connections(reader, path, topic)
        for conn, log_time, raw in reader.messages(connections=conns):
            header = store.deserialize_cdr(raw, conn.msgtype).header
            yield BagImage(log_time, stamp_ns(header), header.frame_id, bytes(raw), conn.msgtype)
    finally:
        reader.close()


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
