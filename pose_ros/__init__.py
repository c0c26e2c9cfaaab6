"""pose_ros: real-time human pose estimation for ROS 2.

Kept light on purpose: importing ``pose_ros`` must not pull in rclpy, onnxruntime or OpenCV.
The ROS-free pipeline lives in :mod:`pose_ros.core`; the ROS node in :mod:`pose_ros.node`.
"""
import pkgutil

# The generated messages (pose_ros.msg) are installed by colcon beside the Python sources. When the
# sources are imported straight from a checkout (tests, `python -m pose_ros` in the repo), this lets
# `pose_ros.msg` still resolve to the installed copy further down sys.path.
__path__ = pkgutil.extend_path(__path__, __name__)

__version__ = "0.1.0"
