"""Tools around the pipeline: sample data, rosbag annotate/replay, the demo. Not imported by the node."""
