"""OpenPifPaf 0.13.11's default CIF/CAF decoder (``decoder.CifCaf`` -> its C++ ``openpifpaf_decoder.CifCaf``), in numpy.

Fields as the ONNX model outputs them (heads in eval mode: confidences through a sigmoid, regressions plus the cell
index, scales through softplus), one image: ``cif`` (17, 5, H, W) = [b, c, x, y, s] and ``caf`` (19, 8, H, W) =
[b, c, x1, y1, x2, y2, s1, s2], in field cells; ``stride`` field cells -> input pixels. The steps and their default
constants are the C++ files' of openpifpaf 0.13.11 (src/openpifpaf/csrc/src/):

1. ``CifHr`` (cif_hr.cpp): every CIF cell with c >= 0.3 adds ``c / 16`` times a truncated Gaussian
   (sigma = max(1, s * stride / 2), radius 1 sigma, OpenPifPaf's ``approx_exp``) to a high-resolution map per joint
   ((H - 1) * stride + 1 by (W - 1) * stride + 1), capped at 1.
2. ``CifSeeds`` (cif_seeds.cpp): every cell with c >= 0.2 is a seed of value ``0.9 * cifhr(x, y) + 0.1 * c``, kept
   when >= 0.2, in decreasing order.
3. ``CafScored`` (caf_scored.cpp): CAF cells with c >= 0.3, each rescored by the CIF map at its target
   (``c * (0.1 + 0.9 * cifhr)``), kept when > 0.3, in both directions.
4. ``CifCaf`` (cifcaf.cpp): seeds not inside an occupied region (occupancy map at half resolution, radius
   max(2, s / 2)) start a person; the person grows over a priority queue of skeleton connections (not greedy):
   ``grow_connection_blend`` takes the two best CAF candidates near the start joint (Gaussian in the distance,
   sigma = s / 2, filter box s / 2), blends them when close; the joint's value is the geometric mean with the start
   joint's, rejected under 0.15 or under half the start's; a reverse match from the new joint must land within s of
   the start joint (L1).
5. ``NMSKeypoints`` (nms_keypoints.cpp): people by their mean joint value, each joint already covered by a better
   person's same joint multiplied by 1e-5; joints <= 0.15 dropped; people with mean < 0.15 dropped.
6. ``Annotation.score`` (annotation.py): weights 3, 3, 3, 1, ... (divided by their sum, 23) on the joint values
   sorted decreasingly.

What is vectorised (numpy over cells and candidates, as the C++ loops over them): the CIF map (one scatter of every
cell's Gaussian, accumulated in the same float32 order as the C++ loops, so the map is bit-identical), the seeds,
CafScored, each connection's candidate scoring. The growth itself is sequential in OpenPifPaf too (a priority queue
per person): it runs in Python here, on Python floats.

Where this differs from the C++ (deliberately): std::sort (seeds, people) and std::priority_queue leave the order
of equal values unspecified; here equal seeds keep field order, equal people their order of creation, equal queue
entries their order of insertion. With real (or noisy) fields equal values almost never occur; on synthetic fields
that are exactly equal (every cell of a joint saying 1.0) the two may start a person from another of its joints.
Non-finite field values are not OpenPifPaf's business (its C++ would cast NaN to an integer); the family zeroes them
before decoding (:func:`sanitize_fields`).

Float arithmetic follows the C++ types (float where it uses float, double where double; a float compared with a
double threshold is compared as a double, not as numpy's float32), so joints and scores match OpenPifPaf's to float
rounding (test_openpifpaf_parity.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pose_ros.core.families.openpifpaf.cpp_order import StdPriorityQueue, std_sort_descending

# COCO person skeleton of openpifpaf.plugins.coco.constants (1-based there), the CAF field order.
COCO_PERSON_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
                        (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
# COCO_PERSON_SCORE_WEIGHTS, normalised as Annotation does.
SCORE_WEIGHTS = np.array([3.0] * 3 + [1.0] * 14)
SCORE_WEIGHTS /= SCORE_WEIGHTS.sum()

F32 = np.float32


@dataclass(frozen=True)
class DecoderSettings:
    """OpenPifPaf 0.13.11's defaults (the C++ statics, which its CLI defaults repeat)."""

    cif_threshold: float = 0.3          # CifHr::threshold (--cif-th)
    cif_neighbors: int = 16             # CifHr::neighbors
    seed_threshold: float = 0.2         # CifSeeds::threshold (--seed-threshold)
    caf_threshold: float = 0.3          # CafScored::default_score_th (--caf-th)
    cif_floor: float = 0.1              # CafScored cif_floor
    keypoint_threshold: float = 0.15    # CifCaf::keypoint_threshold, NMSKeypoints::keypoint_threshold
    keypoint_threshold_rel: float = 0.5  # CifCaf::keypoint_threshold_rel
    instance_threshold: float = 0.15    # NMSKeypoints::instance_threshold (--instance-threshold)
    suppression: float = 0.00001        # NMSKeypoints::suppression
    occupancy_reduction: float = 2.0    # CifCaf's Occupancy(2.0, 4.0)
    occupancy_min_scale: float = 4.0
    reverse_match: bool = True          # CifCaf::reverse_match


DEFAULTS = DecoderSettings()


def sanitize_fields(field: np.ndarray) -> np.ndarray:
    """float32 copy with NaN and +-inf replaced by 0 (a broken output must not become a person or an int cast)."""
    return np.nan_to_num(np.asarray(field, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


# ------------------------------------------------------------------------------------------------ CIF map and seeds

def _trunc(values: np.ndarray) -> np.ndarray:
    """C++ ``int64_t(x)`` of a float: truncation toward zero."""
    return np.trunc(values).astype(np.int64)


def _approx_exp(x: np.ndarray) -> np.ndarray:
    """OpenPifPaf's ``approx_exp`` ((1 + x/8)^8 in float; 0 outside [-2, 2])."""
    y = (1.0 + x.astype(np.float64) / 8.0).astype(F32)
    y = y * y
    y = y * y
    y = y * y
    return np.where((x > 2.0) | (x < -2.0), F32(0.0), y)


class CifHr:
    """The high-resolution confidence map per joint (cif_hr.cpp), stored as OpenPifPaf stores it: ``1 + value``
    in float32 (revision 1 of a fresh decoder), so the rounding of every addition is the C++'s."""

    def __init__(self, cif: np.ndarray, stride: int, settings: DecoderSettings = DEFAULTS):
        n_fields, _, h, w = cif.shape
        self.shape = (n_fields, (h - 1) * stride + 1, (w - 1) * stride + 1)
        _, hr_h, hr_w = self.shape
        c = cif[:, 1]
        f, j, i = np.nonzero(~(c.astype(np.float64) < settings.cif_threshold))  # C order = the C++ loops' (f, j, i)
        scale = cif[f, 4, j, i]
        keep = ~(scale < F32(0.0))                              # min_scale 0 (NaN passes, as in C++)
        f, j, i, scale = f[keep], j[keep], i[keep], scale[keep]
        v = (c[f, j, i] / F32(settings.cif_neighbors)).astype(F32)
        x = (cif[f, 2, j, i] * F32(stride)).astype(F32)
        y = (cif[f, 3, j, i] * F32(stride)).astype(F32)
        sigma = np.maximum(F32(1.0), (0.5 * scale.astype(np.float64) * stride).astype(F32))
        minx = np.clip(_trunc(x - sigma), 0, hr_w - 1)
        miny = np.clip(_trunc(y - sigma), 0, hr_h - 1)
        maxx = np.clip(_trunc((x + sigma) + F32(1.0)), minx + 1, hr_w)
        maxy = np.clip(_trunc((y + sigma) + F32(1.0)), miny + 1, hr_h)
        minx, miny = minx.astype(np.int32), miny.astype(np.int32)   # int32 from here: the map has < 2^31 pixels
        nx, ny = (maxx - minx).astype(np.int32), (maxy - miny).astype(np.int32)
        counts = nx * ny
        cell = np.repeat(np.arange(len(f), dtype=np.int32), counts)
        local = np.arange(counts.sum(), dtype=np.int32) - np.repeat(np.cumsum(counts, dtype=np.int32) - counts, counts)
        ny_cell = ny[cell]
        xx = minx[cell] + local // ny_cell                    # xx outer, yy inner, as the C++ loops
        yy = miny[cell] + local % ny_cell
        dx = (xx.astype(F32) - x[cell]).astype(F32)
        dy = (yy.astype(F32) - y[cell]).astype(F32)
        dx2, dy2 = dx * dx, dy * dy
        d2 = (dx2 + dy2).astype(F32)
        sigma2 = (sigma * sigma).astype(F32)[cell]
        inside = ~(d2 > sigma2)
        closest = (dx2 < 0.25) & (dy2 < 0.25)
        vv = np.where(closest, v[cell], v[cell] * _approx_exp((-0.5 * d2.astype(np.float64) / sigma2).astype(F32)))
        flat = (f.astype(np.int32)[cell] * np.int32(hr_h) + yy) * np.int32(hr_w) + xx
        flat, vv = flat[inside], vv[inside].astype(F32)
        # The map as the C++ stores it: entry = revision (1) + sum where touched, 0 elsewhere. np.zeros of the whole
        # 17 x 481 x 641 map costs nothing until written (calloc'd pages), and only the touched pixels are written.
        self.map = np.zeros(n_fields * hr_h * hr_w, dtype=F32)
        self.map[flat] = F32(1.0)
        np.add.at(self.map, flat, vv)                        # sequential float32 sums in the C++ order
        self.map[flat] = np.minimum(self.map[flat], F32(2.0))   # min(revision + 1) after each addition = at the end
        self._max_x = F32(float(F32(hr_w)) - 0.51)
        self._max_y = F32(float(F32(hr_h)) - 0.51)

    def value(self, f: np.ndarray, x: np.ndarray, y: np.ndarray, default: float) -> np.ndarray:
        """``cifhr_value`` (cif_seeds.cpp / caf_scored.cpp) at float32 points: the map at the nearest pixel, or
        ``default`` outside the map or where it is negative."""
        xd, yd = x.astype(np.float64), y.astype(np.float64)
        ok = (f < self.shape[0]) & ~(xd < -0.49) & ~(yd < -0.49) & ~(x > self._max_x) & ~(y > self._max_y)
        xi = np.where(ok, _trunc(xd + 0.5), 0)
        yi = np.where(ok, _trunc(yd + 0.5), 0)
        _, hr_h, hr_w = self.shape
        v = self.map[(np.where(ok, f, 0) * hr_h + yi) * hr_w + xi] - F32(1.0)   # value = entry - revision
        return np.where(ok & ~(v < 0.0), v, F32(default))

    def dense(self) -> np.ndarray:
        """The whole map (K, H, W) float32 as OpenPifPaf's ``get_accumulated`` holds it (for checks)."""
        return self.map.reshape(self.shape)


def cif_seeds(cif: np.ndarray, stride: int, hr: CifHr, settings: DecoderSettings = DEFAULTS):
    """Seeds (cif_seeds.cpp), best first: fields (S,) int and (S, 4) float32 [v, x, y, s] in input pixels."""
    c = cif[:, 1]
    f, j, i = np.nonzero(~(c.astype(np.float64) < settings.seed_threshold))
    x = (cif[f, 2, j, i] * F32(stride)).astype(F32)
    y = (cif[f, 3, j, i] * F32(stride)).astype(F32)
    v = (0.9 * hr.value(f, x, y, -1.0).astype(np.float64) + 0.1 * c[f, j, i].astype(np.float64)).astype(F32)
    keep = ~(v.astype(np.float64) < settings.seed_threshold)
    s = (cif[f, 4, j, i] * F32(stride)).astype(F32)
    order = std_sort_descending(v[keep])
    return f[keep][order], np.stack([v, x, y, s], axis=1)[keep][order]


def caf_scored(caf: np.ndarray, stride: int, hr: CifHr, skeleton: np.ndarray,
               settings: DecoderSettings = DEFAULTS) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """CafScored (caf_scored.cpp): per CAF field, forward and backward candidates (n, 7) float32
    [c, x_from, y_from, x_to, y_to, s_from, s_to] in input pixels, in cell order."""
    forward, backward = [], []
    floor = settings.cif_floor
    for field in range(caf.shape[0]):
        c = caf[field, 1]
        j, i = np.nonzero(~(c.astype(np.float64) < settings.caf_threshold))
        v = (caf[field, 2:8, j, i] * F32(stride)).astype(F32)     # (n, 6): x1 y1 x2 y2 s1 s2
        x1, y1, x2, y2, s1, s2 = v.T
        c = c[j, i].astype(np.float64)
        fwd_hr = hr.value(np.full(len(j), skeleton[field, 1]), x2, y2, 0.0).astype(np.float64)
        bwd_hr = hr.value(np.full(len(j), skeleton[field, 0]), x1, y1, 0.0).astype(np.float64)
        c_fwd = (c * (floor + (1.0 - floor) * fwd_hr)).astype(F32)
        c_bwd = (c * (floor + (1.0 - floor) * bwd_hr)).astype(F32)
        keep_f = c_fwd.astype(np.float64) > settings.caf_threshold
        keep_b = c_bwd.astype(np.float64) > settings.caf_threshold
        forward.append(np.stack([c_fwd, x1, y1, x2, y2, s1, s2], axis=1)[keep_f])
        backward.append(np.stack([c_bwd, x2, y2, x1, y1, s2, s1], axis=1)[keep_b])
    return forward, backward


# ------------------------------------------------------------------------------------------------------- growing

def grow_connection_blend(caf: np.ndarray, x: float, y: float, xy_scale: float,
                          filter_sigmas: float = 1.0) -> tuple[float, float, float, float]:
    """``grow_connection_blend`` (cifcaf.cpp): the joint (v, x, y, s) this CAF's candidates (n, 7) point to from the
    joint at (x, y) of scale ``xy_scale``; v = 0 when none qualifies. The two best candidates are those the C++ scan
    keeps (its ``>=`` / ``>`` tie rules included)."""
    xy_scale = max(xy_scale, 0.5)
    sigma_filter = float(F32(filter_sigmas * xy_scale / 2.0))
    sigma2 = float(F32(0.25 * xy_scale * xy_scale))
    sx, sy = caf[:, 1].astype(np.float64), caf[:, 2].astype(np.float64)  # float vs double: compared as double
    near = np.flatnonzero(~(sx < x - sigma_filter) & ~(sx > x + sigma_filter)
                          & ~(sy < y - sigma_filter) & ~(sy > y + sigma_filter))
    if len(near) == 0:
        return 0.0, 0.0, 0.0, 0.0
    cand = caf[near]
    d2 = ((cand[:, 1].astype(np.float64) - x) ** 2 + (cand[:, 2].astype(np.float64) - y) ** 2).astype(F32)
    scores = (np.exp(-0.5 * d2.astype(np.float64) / sigma2) * cand[:, 0].astype(np.float64)).astype(F32)
    best = len(scores) - 1 - int(np.argmax(scores[::-1]))   # last index of the maximum (">=" replaces)
    score_1 = float(scores[best])
    if score_1 == 0.0:
        return 0.0, 0.0, 0.0, 0.0
    # second: the best before `best` (last index of its max), overtaken by a strictly larger one after it (first index)
    score_2, second = 0.0, 0
    if best > 0:
        before = scores[:best]
        second = best - 1 - int(np.argmax(before[::-1]))
        score_2 = float(before[second])
    if best + 1 < len(scores):
        after = scores[best + 1:]
        k = int(np.argmax(after))
        if float(after[k]) > score_2:
            score_2, second = float(after[k]), best + 1 + k
    e1 = cand[best]
    e1x, e1y, e1s = e1[3], e1[4], max(F32(0.0), e1[6])
    if score_2 < 0.01 or score_2 < 0.5 * score_1:
        return 0.5 * score_1, float(e1x), float(e1y), float(e1s)
    e2 = cand[second]
    e2x, e2y, e2s = e2[3], e2[4], max(F32(0.0), e2[6])
    blend_d2 = float(F32(float(F32(e1x - e2x)) ** 2 + float(F32(e1y - e2y)) ** 2))
    if blend_d2 > float(e1s) ** 2 / 4.0:
        return 0.5 * score_1, float(e1x), float(e1y), float(e1s)
    s1, s2 = F32(score_1), F32(score_2)
    total = F32(s1 + s2)
    return (0.5 * float(total), float(F32(F32(s1 * e1x) + F32(s2 * e2x)) / total),
            float(F32(F32(s1 * e1y) + F32(s2 * e2y)) / total), float(F32(F32(s1 * e1s) + F32(s2 * e2s)) / total))


class Occupancy:
    """occupancy.cpp: per joint, a half-resolution map of the regions already taken."""

    def __init__(self, hr_shape: tuple[int, int, int], settings: DecoderSettings = DEFAULTS):
        self.reduction = settings.occupancy_reduction
        self.min_scale_reduced = settings.occupancy_min_scale / self.reduction
        n, h, w = hr_shape
        self.map = np.zeros((n, int(h / self.reduction) + 1, int(w / self.reduction) + 1), dtype=bool)

    def set(self, f: int, x: float, y: float, sigma: float) -> None:
        x, y = x / self.reduction, y / self.reduction
        sigma = max(self.min_scale_reduced, sigma / self.reduction)
        _, h, w = self.map.shape
        minx = min(max(int(x - sigma), 0), w - 1)
        miny = min(max(int(y - sigma), 0), h - 1)
        maxx = min(max(int(x + sigma), minx + 1), w)
        maxy = min(max(int(y + sigma), miny + 1), h)
        self.map[f, miny:maxy, minx:maxx] = True

    def get(self, f: int, x: float, y: float) -> bool:
        if f >= self.map.shape[0]:
            return True
        _, h, w = self.map.shape
        xi = min(max(int(x / self.reduction), 0), w - 1)
        yi = min(max(int(y / self.reduction), 0), h - 1)
        return bool(self.map[f, yi, xi])


class _Grower:
    """CifCaf::_grow and its helpers for one image (cifcaf.cpp): joints are lists [v, x, y, s] of Python floats."""

    def __init__(self, caf_fb, skeleton: np.ndarray, settings: DecoderSettings):
        self.forward, self.backward = caf_fb
        self.skeleton = [tuple(int(v) for v in pair) for pair in skeleton]
        self.settings = settings
        # (start, end) -> (caf index, forward?) as the C++ scan of the skeleton finds it (first match)
        self.connection: dict[tuple[int, int], tuple[int, bool]] = {}
        for caf_i, (a, b) in enumerate(self.skeleton):
            self.connection.setdefault((a, b), (caf_i, True))
            self.connection.setdefault((b, a), (caf_i, False))

    def connection_value(self, joints: list, start_i: int, end_i: int, n_fields: int) -> list:
        caf_i, forward = self.connection[(start_i, end_i)]
        caf_f = self.forward[caf_i] if forward else self.backward[caf_i]
        caf_b = self.backward[caf_i] if forward else self.forward[caf_i]
        sv, sx, sy, ss = joints[start_i]
        v, x, y, s = grow_connection_blend(caf_f, sx, sy, ss)
        if v == 0.0:
            return [0.0, x, y, s]
        v = math.sqrt(v * sv)  # geometric mean
        cfg = self.settings
        if v < cfg.keypoint_threshold or v < sv * cfg.keypoint_threshold_rel:
            return [0.0, x, y, s]
        if cfg.reverse_match and start_i < n_fields:
            rv, rx, ry, _ = grow_connection_blend(caf_b, x, y, s)
            if rv == 0.0 or abs(sx - rx) + abs(sy - ry) > ss:
                return [0.0, x, y, s]
        return [v, x, y, s]

    def grow(self, joints: list, n_fields: int) -> None:
        frontier = StdPriorityQueue()   # max_score -> (joint or None, start, end)
        in_frontier: set = set()

        def add_from(start_i: int) -> None:
            max_score = float(F32(math.sqrt(joints[start_i][0])))
            for a, b in self.skeleton:
                if a == start_i:
                    pair = (a, b)
                elif b == start_i:
                    pair = (b, a)
                else:
                    continue
                if joints[pair[1]][0] > 0.0 or pair in in_frontier:
                    continue
                frontier.push(max_score, (None, *pair))
                in_frontier.add(pair)

        for j in range(len(joints)):
            if joints[j][0] != 0.0:
                add_from(j)
        while frontier:
            _, (joint, start_i, end_i) = frontier.pop()
            if joints[end_i][0] > 0.0:
                continue
            if joint is None:
                joint = self.connection_value(joints, start_i, end_i, n_fields)
                if joint[0] == 0.0:
                    continue
                frontier.push(float(F32(joint[0])), (joint, start_i, end_i))
                continue
            joints[end_i] = joint
            add_from(end_i)


def _uniform_score(v: np.ndarray) -> np.ndarray:
    """NMSKeypoints' UniformScore: std::accumulate of the joint values through a float parameter, / K. v (N, K)."""
    acc = np.zeros(v.shape[0], dtype=np.float64)
    for k in range(v.shape[1]):
        acc = acc.astype(F32).astype(np.float64) + v[:, k]
    return acc / v.shape[1]


def nms_keypoints(people: np.ndarray, occupancy: Occupancy, settings: DecoderSettings = DEFAULTS) -> np.ndarray:
    """NMSKeypoints (nms_keypoints.cpp) on people (N, K, 4) float64 [v, x, y, s]; returns the kept, best first."""
    occupancy.map[:] = False
    people = people[std_sort_descending(_uniform_score(people[..., 0]))]
    n_occupancy = occupancy.map.shape[0]
    for person in people:
        for f in range(min(n_occupancy, len(person))):
            v, x, y, s = person[f].tolist()
            if v == 0.0:
                continue
            if occupancy.get(f, x, y):
                person[f, 0] = v * settings.suppression
            else:
                occupancy.set(f, x, y, s)
    people[..., 0][~(people[..., 0] > settings.keypoint_threshold)] = 0.0
    people = people[~(_uniform_score(people[..., 0]) < settings.instance_threshold)]
    return people[std_sort_descending(_uniform_score(people[..., 0]))]


def annotation_scores(v: np.ndarray) -> np.ndarray:
    """``Annotation.score``: the COCO score weights on each person's joint values sorted decreasingly. v (N, K)."""
    return (SCORE_WEIGHTS * -np.sort(-v.astype(F32), axis=1)).sum(axis=1)


def decode_cifcaf(cif: np.ndarray, caf: np.ndarray, stride: int, settings: DecoderSettings = DEFAULTS,
                  skeleton=COCO_PERSON_SKELETON) -> tuple[np.ndarray, np.ndarray]:
    """People of one image's fields, as OpenPifPaf 0.13.11's default decoder finds them.

    cif: (K, 5, H, W), caf: (len(skeleton), 8, H, W), float32 (already finite: :func:`sanitize_fields`).
    Returns joints (N, K, 4) float32 [v, x, y, s] in input pixels (the C++ decoder's output tensor, best person first
    by mean joint value) and scores (N,) float64 (``Annotation.score``).
    """
    cif, caf = np.asarray(cif, dtype=F32), np.asarray(caf, dtype=F32)
    n_fields = cif.shape[0]
    skel = np.asarray(skeleton, dtype=np.int64) - 1
    if cif.ndim != 4 or cif.shape[1] != 5 or caf.shape != (len(skel), 8, *cif.shape[2:]):
        raise ValueError(f"CIF must be (K, 5, H, W) and CAF ({len(skel)}, 8, H, W) on the same grid; "
                         f"got {cif.shape} and {caf.shape}")
    hr = CifHr(cif, stride, settings)
    seed_f, seeds = cif_seeds(cif, stride, hr, settings)
    grower = _Grower(caf_scored(caf, stride, hr, skel, settings), skel, settings)
    occupancy = Occupancy(hr.shape, settings)
    people = []
    for f, (v, x, y, s) in zip(seed_f.tolist(), seeds.tolist()):
        if occupancy.get(f, x, y):
            continue
        joints = [[0.0, 0.0, 0.0, 0.0] for _ in range(n_fields)]
        joints[f] = [v, x, y, s]
        grower.grow(joints, n_fields)
        for of, (jv, jx, jy, js) in enumerate(joints):
            if jv != 0.0:
                occupancy.set(of, jx, jy, js)
        people.append(joints)
    if not people:
        return np.zeros((0, n_fields, 4), dtype=F32), np.zeros(0)
    kept = nms_keypoints(np.asarray(people, dtype=np.float64), occupancy, settings).astype(F32)
    return kept, annotation_scores(kept[..., 0])
