"""The openpifpaf decoder on hand-made fields whose people are known exactly (no reference needed), and on broken
fields (it must not crash or invent joints from NaN). The comparison with OpenPifPaf itself is
test_openpifpaf_parity.py."""
import numpy as np
import pytest

from pose_ros.core.families.openpifpaf.decode import COCO_PERSON_SKELETON, decode_cifcaf, sanitize_fields
from pose_ros.core.families.openpifpaf.model import boxes_of_found

STRIDE, H, W = 16, 31, 41


def person(x0, y0, size=1.0):
    """A standing COCO-17 person (input pixels), head at the top, ~300 px tall at size 1."""
    rel = np.array([[0, 0], [-8, -8], [8, -8], [-16, -4], [16, -4], [-40, 40], [40, 40], [-55, 100], [55, 100],
                    [-60, 150], [60, 150], [-25, 160], [25, 160], [-28, 230], [28, 230], [-30, 300], [30, 300]],
                   dtype=np.float64)
    return np.array([x0, y0]) + rel * size


def fields_of(people, scale=1.0):
    """CIF cells (3x3 around each joint) and CAF cells (along each limb) that point exactly at the joints."""
    cif = np.zeros((17, 5, H, W), np.float32)
    caf = np.zeros((19, 8, H, W), np.float32)
    for joints in people:
        f = joints / STRIDE
        for k, (x, y) in enumerate(f):
            i, j = int(round(x)), int(round(y))
            cif[k, :, max(j - 1, 0):j + 2, max(i - 1, 0):i + 2] = np.array([0, 1, x, y, scale], np.float32)[:, None,
                                                                                                           None]
        for c, (a, b) in enumerate(COCO_PERSON_SKELETON):
            (x1, y1), (x2, y2) = f[a - 1], f[b - 1]
            for t in np.linspace(0, 1, 8):
                i, j = int(round(x1 + t * (x2 - x1))), int(round(y1 + t * (y2 - y1)))
                caf[c, :, j, i] = [0, 1, x1, y1, x2, y2, scale, scale]
    return cif, caf


def test_two_separate_people_are_found_exactly():
    people = [person(150, 60), person(480, 90, 0.9)]
    joints, scores = decode_cifcaf(*fields_of(people), STRIDE)
    assert len(joints) == 2
    assert (joints[..., 0] > 0.5).all(), "every joint found"
    found = sorted(joints[..., 1:3], key=lambda p: p[0, 0])
    for got, want in zip(found, people):
        np.testing.assert_allclose(got, want, atol=1e-3)
    assert (scores > 0.5).all() and (scores <= 1.0).all()


def test_a_missing_limb_keeps_the_rest_of_the_person():
    cif, caf = fields_of([person(300, 60)])
    caf[COCO_PERSON_SKELETON.index((8, 10))] = 0.0      # left elbow -> left wrist gone
    joints, _ = decode_cifcaf(cif, caf, STRIDE)
    assert joints[0, 9, 0] == 0.0                       # left wrist not reached
    assert (np.delete(joints[0, :, 0], 9) > 0.5).all()   # nor anything else lost


def test_nothing_in_nothing_out_and_broken_fields_survive():
    cif, caf = np.zeros((17, 5, H, W), np.float32), np.zeros((19, 8, H, W), np.float32)
    joints, scores = decode_cifcaf(cif, caf, STRIDE)
    assert joints.shape == (0, 17, 4) and scores.shape == (0,)
    cif, caf = fields_of([person(300, 60)])
    cif[:, :, 5:9] = np.nan
    caf[:, 2:6, 0:3] = np.inf
    joints, _ = decode_cifcaf(sanitize_fields(cif), sanitize_fields(caf), STRIDE)
    assert np.isfinite(joints).all()
    with pytest.raises(ValueError, match="same grid"):
        decode_cifcaf(cif[:, :, :-1], caf, STRIDE)


def test_boxes_span_found_joints_only():
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, 3] = [10, 20, 0.9]
    kp[0, 5] = [50, 80, 0.5]
    np.testing.assert_array_equal(boxes_of_found(kp), [[10, 20, 50, 80]])


CPP_ORDER = r"""
#include <algorithm>
#include <iostream>
#include <queue>
#include <vector>
struct E { double v; int i; };
struct Less { bool operator()(const E& a, const E& b) const { return a.v < b.v; } };
int main() {
  int n; std::cin >> n; std::vector<E> e(n);
  for (int i = 0; i < n; i++) { std::cin >> e[i].v; e[i].i = i; }
  std::vector<E> s(e);
  std::sort(s.begin(), s.end(), [](const E& a, const E& b) { return a.v > b.v; });
  for (auto& x : s) std::cout << x.i << ' ';
  std::cout << '\n';
  std::priority_queue<E, std::vector<E>, Less> q;   // pushes, with a pop after every third push, then drain
  for (int i = 0; i < n; i++) {
    q.push(e[i]);
    if (i % 3 == 2) { std::cout << q.top().i << ' '; q.pop(); }
  }
  while (!q.empty()) { std::cout << q.top().i << ' '; q.pop(); }
  std::cout << '\n';
}
"""


def test_cpp_orders_of_equal_values_are_libstdcxx(tmp_path):
    """cpp_order.py against g++/libstdc++ itself on inputs full of equal values (as clean fields make them)."""
    import shutil
    import subprocess

    from pose_ros.core.families.openpifpaf.cpp_order import StdPriorityQueue, std_sort_descending

    if not shutil.which("g++"):
        pytest.skip("g++ not installed: libstdc++'s orders are checked indirectly by test_openpifpaf_parity.py")
    (tmp_path / "order.cpp").write_text(CPP_ORDER)
    subprocess.run(["g++", "-O2", "-o", str(tmp_path / "order"), str(tmp_path / "order.cpp")], check=True)
    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 16, 17, 33, 100, 1000):
        keys = rng.choice([0.25, 0.5, 1.0], n) if n % 2 else rng.integers(0, 4, n) / 4.0
        out = subprocess.run([str(tmp_path / "order")], input=f"{n} " + " ".join(map(repr, keys.tolist())),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        assert std_sort_descending(keys).tolist() == [int(v) for v in out[0].split()], n
        queue, popped = StdPriorityQueue(), []
        for i, k in enumerate(keys.tolist()):
            queue.push(k, i)
            if i % 3 == 2:
                popped.append(queue.pop()[1])
        while queue:
            popped.append(queue.pop()[1])
        assert popped == [int(v) for v in out[1].split()], n
