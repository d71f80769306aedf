"""STAR (98-point landmarks) speed: torch vs ONNX Runtime (fp32, fp16), batch 1 and 32, CPU threads.

Times the network call (``STAR.forward`` on preprocessed 256x256 crops) and
the numpy crop + normalisation of one face. Without ``--weights`` a random
checkpoint in the official ``{"net": ...}`` layout is written to a temporary
folder (speed does not depend on the values); the ONNX exports are cached in
benchmarks/.cache/ (see common.py). Also prints how far fp16 ONNX landmarks are
from fp32 (crop pixels).

    python benchmarks/bench_star.py [--weights Landmark_98.pkl] [--threads 2] [--repeats 3] [--batches 1 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import timed
from facemirror.models.star import STAR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fixtures_star import write_star_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="Landmark_98.pkl (default: random weights)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or write_star_checkpoint(Path(tmp) / "Landmark_98.pkl")
        models = {
            "torch": STAR.from_weights(weights, backend="torch", threads=args.threads),
            "onnx": STAR.from_weights(weights, backend="onnx", threads=args.threads),
            "onnx-fp16": STAR.from_weights(weights, backend="onnx", threads=args.threads, precision="fp16"),
        }
        rng = np.random.default_rng(0)
        frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        box = np.array([200, 120, 420, 380], np.float32)
        cpu = platform.processor() or platform.machine()
        print(f"# STAR speed ({cpu}, {os.cpu_count()} cores, {args.threads} threads, weights {weights.name})")
        print()
        print("| backend | batch | ms / batch | ms / face |")
        print("|---|---|---|---|")
        outputs = {}
        for name, model in models.items():
            for batch in args.batches:
                inputs = model.preprocess(frame, [box] * batch)
                repeats = args.repeats if batch == 1 else max(1, args.repeats // 2)
                seconds = timed(lambda m=model, x=inputs: m.forward(x), repeats, warmup=1 if batch == 1 else 0)
                print(f"| {name} | {batch} | {seconds * 1e3:.1f} | {seconds * 1e3 / batch:.1f} |")
            outputs[name] = model.forward(model.preprocess(frame, [box]))["landmarks"]
        print()
        seconds = timed(lambda: models["onnx"].preprocess(frame, [box]), args.repeats * 10)
        print(f"preprocess (crop + normalise) one face: {seconds * 1e3:.2f} ms")
        diff = np.abs(outputs["onnx-fp16"] - outputs["onnx"]).max() * 128  # [-1, 1] -> crop pixels
        print(f"fp16 vs fp32 ONNX: max landmark difference {diff:.3f} crop px (256x256 crop)")


if __name__ == "__main__":
    main()
