#!/usr/bin/env python3
"""Text-line crops for the classifier benchmark: the text-line classifier's real input is a line
cut out by the text detector, not a whole photo. Runs the DB detector (onnxruntime) on the text
images, cuts each detected line's bounding box (plus a 4 px margin) from the original, and also
writes each crop turned by 180 degrees (the classifier's other class). Writes the crops and a list
of >= 135 entries cycling over them.

Usage: python3 scripts/bench/crops.py [MODELS_DIR]   (writes MODELS_DIR/bench/lines/)
"""
import os
import sys

import cv2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
import goldens  # noqa: E402  (DB pre-processing, model session, image reader)

SOURCES = ["page.png", "text.png"]
ENTRIES = 135


def lines(session, bgr):
    mask, _ = goldens.db_text_mask(session, bgr)
    h, w = mask.shape
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = sorted(cv2.boundingRect(c) for c in contours)
    for x0, y0, bw, bh in boxes:
        if bw >= 16 and bh >= 8:
            x1, y1 = max(x0 - 4, 0), max(y0 - 4, 0)
            yield bgr[y1:min(y0 + bh + 4, h), x1:min(x0 + bw + 4, w)]


def main():
    out = os.path.join(goldens.MODELS, "bench", "lines")
    os.makedirs(out, exist_ok=True)
    session = goldens.session("det_db")
    files = []
    for name in SOURCES:
        for i, crop in enumerate(lines(session, goldens.imread(name))):
            for turned, im in (("", crop), ("_180", cv2.rotate(crop, cv2.ROTATE_180))):
                path = os.path.join(out, f"{os.path.splitext(name)[0]}_{i:02d}{turned}.png")
                cv2.imwrite(path, im)
                files.append(path)
    if not files:
        sys.exit("bench_crops: the detector found no text lines")
    with open(os.path.join(out, "list.txt"), "w") as f:
        for k in range(max(ENTRIES, len(files))):
            f.write(files[k % len(files)] + "\n")
    print(f"bench_crops: {len(files)} crops, list {os.path.join(out, 'list.txt')}")


if __name__ == "__main__":
    main()
