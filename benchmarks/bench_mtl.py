"""MTL (OpenFace 3.0 multitask network) speed: torch vs ONNX Runtime, batch 1 and 32, 2 threads, CPU.

Times the network call (``MTL.forward`` on preprocessed 224x224 tensors) and,
separately, the numpy preprocessing of one 300x260 face crop (antialiased
resize and PIL-style resize). Without ``--weights`` a random checkpoint in the
official layout is written to a temporary folder (the speed does not depend
on the weight values); the ONNX export is cached in benchmarks/.cache/ (see common.py).

    python benchmarks/bench_mtl.py [--weights MTL_backbone.pth] [--threads 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

from common import timed
from facemirror.models.mtl import MTL
from facemirror.models.nets.mtl_net import MTLNet


def random_checkpoint(folder: Path) -> Path:
    path = folder / "MTL_backbone.pth"
    torch.manual_seed(0)
    torch.save(MTLNet().state_dict(), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="MTL_backbone.pth (default: random weights)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or random_checkpoint(Path(tmp))
        models = {
            "torch": MTL.from_weights(weights, backend="torch", threads=args.threads),
            "onnx": MTL.from_weights(weights, backend="onnx", threads=args.threads),
        }
        rng = np.random.default_rng(0)
        crop = rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)
        cpu = platform.processor() or platform.machine()
        print(f"# MTL speed ({cpu}, {os.cpu_count()} cores, {args.threads} threads)")
        print()
        print("| backend | batch | ms / batch | ms / image |")
        print("|---|---|---|---|")
        for name, model in models.items():
            for batch in (1, 32):
                inputs = model.preprocess([crop] * batch)
                repeats = args.repeats if batch == 1 else max(2, args.repeats // 2)
                seconds = timed(lambda m=model, x=inputs: m.forward(x), repeats)
                print(f"| {name} | {batch} | {seconds * 1e3:.1f} | {seconds * 1e3 / batch:.1f} |")
        print()
        for resize in ("antialias", "pil"):
            model = MTL(models["onnx"].engine, resize=resize)
            seconds = timed(lambda m=model: m.preprocess([crop]), args.repeats * 4)
            print(f"preprocess one 300x260 crop (resize={resize}): {seconds * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
