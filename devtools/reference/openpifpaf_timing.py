#!/usr/bin/env python3
"""Decoder time of the openpifpaf family against OpenPifPaf 0.13.11's own (C++) decoder, on real-layout fields
(641x481 input, stride 16: 17x5x31x41 CIF, 19x8x31x41 CAF) of COCO photos with 1, 4 and 8 people (coco_minipose,
people with >= 5 labelled joints), made by OpenPifPaf's encoders and noised as a network would blur them.

    source scripts/env.sh && python devtools/reference/openpifpaf_timing.py [--repeat 20] [--coco PATH]

Prints one line per photo: people decoded, median and least milliseconds of pose_ros' numpy decoder and of OpenPifPaf's whole
default decoder call (C++ CifCaf + Python annotations), pose_ros first. A measurement, not a test; on a busy
machine the least time is the steadier figure.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
from openpifpaf_fields import STRIDE, coco_people, encode, noisy, run_reference  # noqa: E402

from pose_ros.core.families.openpifpaf.decode import decode_cifcaf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coco", type=Path, default=HERE.parents[2] / "shared" / "data" / "coco_minipose")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    images = coco_people(args.coco, "val2017", 5) + coco_people(args.coco, "train2017", 5)
    chosen = [next(im for im in images if im["count"] == n) for n in (1, 4, 8)]
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fields = {"stride": np.array(STRIDE)}
        for image, (cif, caf) in zip(chosen, encode(chosen, tmp)):
            fields[f"cif_{image['name']}"], fields[f"caf_{image['name']}"] = noisy(cif, caf, rng)
        ours = {}
        for image in chosen:
            cif, caf = fields[f"cif_{image['name']}"], fields[f"caf_{image['name']}"]
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                joints, _ = decode_cifcaf(cif, caf, STRIDE)
                times.append(time.perf_counter() - t0)
            ours[image["name"]] = (len(joints), float(np.median(times)), float(np.min(times)))
        np.savez(tmp / "fields.npz", **fields)
        run_reference("decode", tmp / "fields.npz", tmp / "out.npz", "--repeat", args.repeat)
        theirs = np.load(tmp / "out.npz")
        print(f"{'photo':<22} {'annotated':>9} {'decoded':>7} {'pose_ros ms (median / min)':>27} "
              f"{'OpenPifPaf ms (median / min)':>29}")
        for image in chosen:
            n, median, least = ours[image["name"]]
            their_median, their_least = theirs["seconds_" + image["name"]] * 1e3
            print(f"{image['name']:<22} {image['count']:>9} {n:>7} {median * 1e3:>18.2f} / {least * 1e3:>6.2f} "
                  f"{their_median:>20.2f} / {their_least:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
