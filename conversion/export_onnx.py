"""Export an OpenFace 3.0 network's PyTorch weights to ONNX (opset 17, fp32 and/or fp16).

    python conversion/export_onnx.py retinaface ../shared/weights/retinaface_mobilenet0.25_Final.pth out/
    python conversion/export_onnx.py mtl MTL_backbone.pth out/ --precision fp32 --precision fp16

Writes ``out/<name>_<precision>.onnx`` and prints each file's size, sha256 and
export time. (The library exports on demand into its cache through
``facemirror.convert.cached_onnx``; this script is for files you want to keep.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from facemirror.convert import export_onnx
from facemirror.convert.networks import NETWORKS, network
from facemirror.weights import sha256_file


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(NETWORKS))
    parser.add_argument("weights", type=Path, help="the official checkpoint (.pth / .pkl)")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--precision", action="append", choices=["fp32", "fp16"], help="repeatable; default fp32")
    args = parser.parse_args(argv)
    spec = network(args.name)
    module = spec.build(args.weights)
    example = spec.example_inputs()
    for precision in args.precision or ["fp32"]:
        start = time.perf_counter()
        path = export_onnx(
            module,
            example,
            args.out / f"{spec.name}_{precision}.onnx",
            spec.input_names,
            spec.output_names,
            spec.dynamic_axes,
            precision=precision,
        )
        took = time.perf_counter() - start
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB  sha256 {sha256_file(path)}  ({took:.1f} s)")


if __name__ == "__main__":
    main()
