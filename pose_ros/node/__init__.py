"""The ROS 2 side: message <-> array adapters and the pose node. Imports rclpy; the core does not."""
