"""Convert an OpenFace 3.0 network's PyTorch weights to a CoreML ML Program and print its ANE report.

    python conversion/export_coreml.py retinaface ../shared/weights/retinaface_mobilenet0.25_Final.pth out/
    python conversion/export_coreml.py mtl MTL_backbone.pth out/ --shape 1,3,224,224 --shape 32,3,224,224

Writes ``out/<name>.mlpackage`` (fp16 ops, fp32 inputs/outputs, iOS16/macOS13).
Without ``--shape`` the input shape is fixed to the network's example shape;
each ``--shape`` adds an enumerated shape (the first is the default), which
Core ML can compile for the Neural Engine one by one. Conversion runs on
Linux too; predictions and the measured compute plan need macOS.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from facemirror.convert import ane_report, export_coreml
from facemirror.convert.coreml import COMPUTE_UNITS
from facemirror.convert.networks import NETWORKS, network


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(NETWORKS))
    parser.add_argument("weights", type=Path, help="the official checkpoint (.pth / .pkl)")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--precision", choices=["fp16", "fp32"], default="fp16")
    parser.add_argument("--compute-units", choices=COMPUTE_UNITS, default="CPU_AND_NE")
    parser.add_argument("--shape", type=_shape, action="append", help="N,C,H,W; repeatable (enumerated shapes)")
    args = parser.parse_args(argv)
    spec = network(args.name)
    shapes = args.shape or [spec.example_shape]
    start = time.perf_counter()
    path = export_coreml(
        spec.build(args.weights),
        (np.zeros(shapes[0], np.float32),),
        spec.input_names,
        spec.output_names,
        args.out / f"{spec.name}.mlpackage",
        precision=args.precision,
        compute_units=args.compute_units,
        flexible_shapes={spec.input_names[0]: shapes} if len(shapes) > 1 else None,
    )
    print(f"{path}  ({time.perf_counter() - start:.1f} s)")
    print(ane_report(path, compute_units=args.compute_units).format_text())


if __name__ == "__main__":
    main()
