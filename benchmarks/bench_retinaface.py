"""RetinaFace MobileNet-0.25 speed: torch vs ONNX Runtime (fp32, fp16), 640x640 frames, batch 1/8/32, CPU threads.

Times the network call (``RetinaFace.forward`` on a preprocessed batch) and the
whole ``detect`` (preprocess + network + decode/NMS) of single_face.jpg
resized to 640x640, and of a 1920x1080 frame with the default 640 size cap.
Uses the real weights from ../shared when present, else random weights in the
official layout (speed does not depend on the values). Also prints how far
fp16 ONNX detections are from fp32 on the real photos.

    python benchmarks/bench_retinaface.py [--weights mobilenet0.25_Final.pth] [--threads 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from common import timed
from facemirror.models.nets.retinaface_net import RetinaFaceNet
from facemirror.models.retinaface import RetinaFace

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "weights" / "retinaface_mobilenet0.25_Final.pth"
PHOTOS = [SHARED / "media" / "single_face.jpg", SHARED / "media" / "multi_face.jpg"]


def random_checkpoint(folder: Path) -> Path:
    path = folder / "retinaface_random.pth"
    torch.manual_seed(0)
    torch.save(RetinaFaceNet().state_dict(), path)
    return path


def fp16_error(fp32: RetinaFace, fp16: RetinaFace) -> str:
    """Largest box/keypoint (px) and score differences between fp16 and fp32 detections on the real photos."""
    worst_px, worst_score, counts = 0.0, 0.0, []
    for photo in PHOTOS:
        image = cv2.imread(str(photo))
        a, b = fp32.detect(image), fp16.detect(image)
        counts.append(f"{photo.name}: {len(a)} vs {len(b)} faces")
        for fa, fb in zip(a, b):
            worst_px = max(
                worst_px, float(np.abs(fa.box - fb.box).max()), float(np.abs(fa.keypoints - fb.keypoints).max())
            )
            worst_score = max(worst_score, abs(fa.score - fb.score))
    return f"{'; '.join(counts)}; max |box/keypoint| diff {worst_px:.3f} px, max |score| diff {worst_score:.5f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", type=Path, help="RetinaFace checkpoint (default: ../shared real weights, else random)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or (REAL if REAL.is_file() else random_checkpoint(Path(tmp)))
        models = {
            "torch": RetinaFace.from_weights(weights, backend="torch", threads=args.threads),
            "onnx": RetinaFace.from_weights(weights, backend="onnx", threads=args.threads),
            "onnx-fp16": RetinaFace.from_weights(weights, backend="onnx", threads=args.threads, precision="fp16"),
        }
        photo = cv2.imread(str(PHOTOS[0])) if PHOTOS[0].is_file() else np.full((562, 572, 3), 128, np.uint8)
        frame = cv2.resize(photo, (640, 640))
        hd = cv2.resize(photo, (1920, 1080))
        cpu = platform.processor() or platform.machine()
        print(f"# RetinaFace speed ({cpu}, {os.cpu_count()} cores, {args.threads} threads, weights {weights.name})")
        print()
        print("| backend | batch | ms / batch | ms / frame |")
        print("|---|---|---|---|")
        for name, model in models.items():
            for batch in (1, 8, 32):
                inputs = model.preprocess_batch([frame] * batch)
                repeats = args.repeats if batch == 1 else max(2, args.repeats // 2)
                seconds = timed(lambda m=model, x=inputs: m.forward(x), repeats)
                print(f"| {name} | {batch} | {seconds * 1e3:.1f} | {seconds * 1e3 / batch:.1f} |")
        print()
        for name, model in models.items():
            full = timed(lambda m=model: m.detect(frame), args.repeats)
            capped = timed(lambda m=model: m.detect(hd), args.repeats)
            print(f"{name}: detect 640x640 {full * 1e3:.1f} ms; detect 1920x1080 (to 640x360) {capped * 1e3:.1f} ms")
        if weights == REAL and all(p.is_file() for p in PHOTOS):
            print()
            print("fp16 vs fp32 ONNX:", fp16_error(models["onnx"], models["onnx-fp16"]))


if __name__ == "__main__":
    main()
