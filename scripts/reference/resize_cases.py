#!/usr/bin/env python3
"""Random resize cases for the cross-check in crates/modelseal-deploy/tests/resize_random.rs.

Writes N seeded random u8 RGB images (1 to 300 pixels a side, noise or blurred noise) with a random
target size or fx/fy and method, and OpenCV's result for each computed by OpenCV's own code
(`cv2.ipp.setUseIPP(False)`; see docs in crates/modelseal-deploy/README.md on IPP), to OUT_DIR
as in<i>.bin / out<i>.bin plus cases.json.

Usage: python3 scripts/reference/resize_cases.py OUT_DIR SEED N
"""
import json
import os
import random
import sys

import cv2
import numpy as np

METHODS = {"NEAREST": cv2.INTER_NEAREST, "LINEAR": cv2.INTER_LINEAR, "CUBIC": cv2.INTER_CUBIC,
           "AREA": cv2.INTER_AREA, "LANCZOS4": cv2.INTER_LANCZOS4}


def main():
    out_dir, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cv2.ipp.setUseIPP(False)
    rnd = random.Random(seed)
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        side = rnd.choice([12, 40, 300])  # many tiny images: the borders are where methods differ
        sw, sh = rnd.randint(1, side), rnd.randint(1, side)
        method = rnd.choice(list(METHODS))
        if rnd.random() < 0.5:
            dw, dh, fxy = rnd.randint(1, 2 * side), rnd.randint(1, 2 * side), None
        else:
            fx = rnd.choice([0.5, 0.25, 1 / 3, 1 / 7, 2.0, 3.0, rnd.uniform(0.05, 3)])
            fy = rnd.choice([fx, rnd.uniform(0.05, 3)])
            dw, dh, fxy = int(np.rint(sw * fx)), int(np.rint(sh * fy)), (fx, fy)
        if dw < 1 or dh < 1 or (dw, dh) == (sw, sh):
            continue
        img = rng.integers(0, 256, (sh, sw, 3), dtype=np.uint8)
        if rnd.random() < 0.5:
            img = cv2.GaussianBlur(img, (7, 7), 2)
        if fxy:
            res = cv2.resize(img, None, fx=fxy[0], fy=fxy[1], interpolation=METHODS[method])
        else:
            res = cv2.resize(img, (dw, dh), interpolation=METHODS[method])
        assert res.shape[:2] == (dh, dw)
        i = len(cases)
        img.tofile(os.path.join(out_dir, f"in{i}.bin"))
        res.tofile(os.path.join(out_dir, f"out{i}.bin"))
        cases.append({"i": i, "sw": sw, "sh": sh, "dw": dw, "dh": dh, "fxy": fxy, "interp": method})
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"opencv": cv2.__version__, "seed": seed, "cases": cases}, f)


if __name__ == "__main__":
    main()
