"""pip install . -> the ROS-free core and the `pose-ros` CLI (no rclpy needed).

The ROS 2 package itself (messages, node, launch) is built by colcon from CMakeLists.txt.
"""
from setuptools import setup

setup()
