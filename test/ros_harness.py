"""Real rclpy over DDS for tests: a private Context per test, nodes spun by an executor thread."""
from __future__ import annotations

import threading
import time

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from pose_ros.core.message_fields import stamp_fields, stamp_ns  # noqa: F401 - the tests' stamp_ns
from pose_ros.node.conversions import bgr_to_image
from pose_ros.tools.spinner import RosSpinner


def image_msg(image: np.ndarray, stamp_ns: int, frame_id: str = "camera") -> Image:
    return bgr_to_image(image, Header(stamp=Time(**stamp_fields(stamp_ns)), frame_id=frame_id))


class Collector:
    """Subscription callback that keeps every message and lets a test wait for a condition."""

    def __init__(self):
        self.messages = []
        self._cond = threading.Condition()

    def __call__(self, msg) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout)


class RosHarness:
    """Owns a private rclpy Context, a probe node for the test side, and an executor thread."""

    def __init__(self):
        # One executor thread, as the node runs in production (pose_node.main): see pose_ros/tools/spinner.py.
        self._spinner = RosSpinner("probe")
        self.context, self.executor, self.probe = self._spinner.context, self._spinner.executor, self._spinner.node
        self._nodes = self._spinner.nodes  # the probe, then the nodes added (tests reach the pose node)
        self._clients = {}

    def add_node(self, node):
        return self._spinner.add_node(node)

    def pose_node(self, wait_active: bool = True, **params):
        """The pose node with parameter overrides; by default waits until autostart made it active."""
        from pose_ros.node.pose_node import PoseNode

        overrides = [Parameter(name, value=value) for name, value in params.items()]
        node = self.add_node(PoseNode(context=self.context, parameter_overrides=overrides))
        if wait_active:
            deadline = time.monotonic() + 60
            while (state := self.lifecycle_state()) != "active":
                assert time.monotonic() < deadline, f"pose_node stuck in {state}"
                time.sleep(0.1)
        return node

    def service_client(self, key, srv_type, name: str, attempts: int = 3, timeout_s: float = 20.0):
        """The probe's client of service ``name``, made once per ``key``, once the service is available. A client
        not matched within ``timeout_s`` is made again (seen once in three fresh-clone runs: the in-process node
        active, its get_state service not available to the probe's first client for 30 s); generous, since on a
        loaded 2-core machine discovery can take several seconds."""
        for _ in range(attempts):
            if key not in self._clients:
                self._clients[key] = self.probe.create_client(srv_type, name)
            if self._clients[key].wait_for_service(timeout_sec=timeout_s):
                return self._clients[key]
            self.probe.destroy_client(self._clients.pop(key))
        raise AssertionError(f"{name} not available after {attempts} clients of {timeout_s:.0f} s each")

    def lifecycle_state(self, node: str = "/pose_node") -> str:
        """The node's lifecycle state label, asked over its get_state service."""
        from lifecycle_msgs.srv import GetState

        client = self.service_client(node, GetState, f"{node}/get_state")
        response = client.call(GetState.Request(), timeout_sec=30)
        assert response is not None, f"{node}/get_state did not answer within 30 s"
        return response.current_state.label

    def set_parameters(self, *params, atomically: bool = False, node: str = "/pose_node"):
        """Set (name, value) parameters over the node's parameter service; returns the results."""
        from rcl_interfaces.srv import SetParameters, SetParametersAtomically

        srv_type, name = (SetParametersAtomically, "set_parameters_atomically") if atomically \
            else (SetParameters, "set_parameters")
        key = (node, name)
        client = self.service_client(key, srv_type, f"{node}/{name}")
        request = srv_type.Request(parameters=[Parameter(n, value=v).to_parameter_msg() for n, v in params])
        response = client.call(request, timeout_sec=30)
        return [response.result] if atomically else response.results

    def change_state(self, transition: str, node: str = "/pose_node") -> bool:
        """Trigger a lifecycle transition (configure, activate, deactivate, cleanup) over the service."""
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState

        key = (node, "change")
        client = self.service_client(key, ChangeState, f"{node}/change_state")
        ids = {"configure": Transition.TRANSITION_CONFIGURE, "activate": Transition.TRANSITION_ACTIVATE,
               "deactivate": Transition.TRANSITION_DEACTIVATE, "cleanup": Transition.TRANSITION_CLEANUP}
        request = ChangeState.Request(transition=Transition(id=ids[transition]))
        return client.call(request, timeout_sec=60).success

    def wait_for_subscribers(self, publisher, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while publisher.get_subscription_count() == 0:
            assert time.monotonic() < deadline, f"nobody subscribed to {publisher.topic_name}"
            time.sleep(0.05)

    def close(self) -> None:
        self._spinner.close()  # the spin thread ends before the nodes are destroyed
