"""Make the shipped far-face detector, ``weights/retinaface_mit.onnx``, from the MIT RetinaFace weights.

The source is ``mobilenet0.25_Final.pth`` of biubug6/Pytorch_Retinaface (MIT),
the ``retinaface`` manifest entry's MIT alternative; its sha256 is checked
first, so the file can only be made from those exact weights. Steps:

1. load the checkpoint strictly into facemirror's RetinaFace network;
2. export it with ``facemirror.convert.export_onnx`` (opset 17, fp32, batch,
   height and width dynamic); the export is deterministic, so the same torch
   and facemirror versions give a byte-identical file (the file records the
   facemirror version in its metadata);
3. compare ONNX Runtime with PyTorch on real frames at the input sizes the far
   detector uses (raw outputs, and the decoded faces);
4. print the sha256 and size, and whether they match the manifest entry ``retinaface_mit``.

Needs the ``torch`` extra at conversion time only; facemirror runs the file with ONNX Runtime::

    python conversion/export_far_face_detector.py ../shared/weights/retinaface_mobilenet0.25_Final.pth weights/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from facemirror.convert import export_onnx
from facemirror.convert.networks import network
from facemirror.models.far_face import FAR_FACE_WEIGHTS, far_face_detector
from facemirror.weights import load_manifest, sha256_file

FILE = "retinaface_mit.onnx"
SOURCE_FILE = "mobilenet0.25_Final.pth"
REPO_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def test_frames() -> list[np.ndarray]:
    """Real faces in frames of the shapes the detector sees: 1080p landscape, portrait, and a small frame."""
    photo = cv2.imread(str(REPO_DATA / "single_face.jpg"))
    group = cv2.imread(str(REPO_DATA / "multi_face.jpg"))
    wide = np.full((1080, 1920, 3), 90, np.uint8)
    small = cv2.resize(photo, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    wide[700 : 700 + small.shape[0], 1500 : 1500 + small.shape[1]] = small
    tall = np.full((1920, 1080, 3), 90, np.uint8)
    tall[600:1320] = cv2.resize(group, (1080, 720), interpolation=cv2.INTER_AREA)
    return [wide, tall, photo, group]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path, help=f"{SOURCE_FILE} (MIT, biubug6/Pytorch_Retinaface)")
    parser.add_argument("out", type=Path, help="output folder (weights/ in the repository)")
    args = parser.parse_args(argv)

    expected = load_manifest()["retinaface"].candidate(SOURCE_FILE)
    got = sha256_file(args.weights)
    if got != expected.sha256:
        print(f"{args.weights}: sha256 {got} is not {SOURCE_FILE}'s {expected.sha256}", file=sys.stderr)
        return 1
    spec = network("retinaface")
    module = spec.build(args.weights)
    path = export_onnx(
        module,
        (np.zeros(spec.example_shape, np.float32),),
        args.out / FILE,
        spec.input_names,
        spec.output_names,
        spec.dynamic_axes,
    )

    shipped = far_face_detector(path, backend="onnx", threads=1)
    reference = far_face_detector(args.weights, backend="torch", threads=1)
    print("ONNX Runtime vs PyTorch on real frames:")
    for image in test_frames():
        inputs = shipped.preprocess(image)
        ours, theirs = shipped.forward(inputs), reference.forward(inputs)
        diff = max(float(np.abs(ours[n] - theirs[n]).max()) for n in spec.output_names)
        faces, ref_faces = shipped.postprocess(ours, image.shape)[0], reference.postprocess(theirs, image.shape)[0]
        box_diff = max((float(np.abs(a.box - b.box).max()) for a, b in zip(faces, ref_faces)), default=0.0)
        print(
            f"  {image.shape[1]}x{image.shape[0]} -> input {inputs['input'].shape[3]}x{inputs['input'].shape[2]}: "
            f"max |output difference| {diff:.1e}; faces {len(faces)} vs {len(ref_faces)}, "
            f"max |box difference| {box_diff:.3f} px"
        )
        if len(faces) != len(ref_faces) or diff > 1e-3:
            print("the ONNX file does not reproduce the PyTorch network", file=sys.stderr)
            return 1

    sha, size = sha256_file(path), path.stat().st_size
    print(f"\n{path}: sha256 {sha}, {size} bytes")
    entry = load_manifest().get(FAR_FACE_WEIGHTS)
    if entry is not None and (entry.sha256, entry.size) == (sha, size):
        print(f"matches the manifest entry '{FAR_FACE_WEIGHTS}'")
    else:
        print(f"update the manifest entry '{FAR_FACE_WEIGHTS}' with this sha256 and size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
