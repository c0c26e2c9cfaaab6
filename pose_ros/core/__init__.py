"""The ROS-free pose pipeline: image (numpy) in, :class:`~pose_ros.core.result.Poses` out.

Nothing under ``pose_ros.core`` imports rclpy or ROS message types (test_core_is_ros_free.py checks);
the node only adapts messages to arrays and back. Heavy libraries (onnxruntime) are imported lazily.
"""
