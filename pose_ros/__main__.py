import sys

from pose_ros.cli import main

sys.exit(main())
