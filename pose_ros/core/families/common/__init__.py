"""Pre- and post-processing shared by the model families (no family of its own): person crops (crops.py), the
detector's people a top-down model crops (people.py), model outputs back to the source image (outputs.py).
Families import from here, never from one another (test/test_core_is_ros_free.py checks it)."""
