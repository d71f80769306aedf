"""Convert the three shipped MediaPipe Face Landmarker ONNX files into CoreML ML Programs.

    /work/venv/bin/python conversion/convert_face_landmarker_coreml.py weights/ weights/ \
        --image ../shared/media/single_face.jpg --video ../shared/media/single_face.mp4

Steps, each checked on real inputs (the tensors facemirror's own models feed the
networks for the given image and video, scaled to 1080 rows):

1. rebuild each ONNX graph as a torch module (``onnx_graph_torch``: coremltools 9
   converts PyTorch, not ONNX) and compare it with onnxruntime (max |difference|);
2. simulate fp16 (the torch module in ``half()``) for each network in turn inside
   the full FaceLandmarker, symmetric and plain, and measure how far the landmarks,
   the midline and the blendshapes move from fp32; a network is converted in fp16
   only if the mean landmark shift stays within ``--max-mean-px`` (0.05 px) and the
   blendshapes within ``--max-blendshape`` (0.01), else in fp32 (CPU/GPU, no ANE);
3. ``facemirror.convert.export_coreml`` each network to ``OUT/<name>.mlpackage``
   with the ONNX input/output names and layout (NHWC image inputs); face_landmarks
   gets enumerated batch shapes 1 and 2 (symmetric mode runs a crop and its mirror);
4. print each package's Neural-Engine report, tree sha256 and size (for weights/manifest.json).

Build-time only: needs torch, onnx, onnxruntime, coremltools and opencv (all in the
dev environment); nothing here becomes a runtime dependency. Predictions of the
packages need macOS (tests/test_facemesh_coreml.py checks them there).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from facemirror.convert import ane_report, export_coreml
from facemirror.mirror.midline import estimate_midline
from facemirror.models.blazeface import BlazeFace
from facemirror.models.blendshapes import Blendshapes
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import FaceMesh
from facemirror.weights import sha256_tree, tree_size
from onnx_graph_torch import OnnxGraphModule, load_onnx_module

NETWORKS = ("face_detector", "face_landmarks", "face_blendshapes")
#: enumerated input shapes per network (the first is the default); None = the example shape only
SHAPES: dict[str, list[tuple[int, ...]]] = {
    "face_detector": [(1, 128, 128, 3)],
    "face_landmarks": [(1, 256, 256, 3), (2, 256, 256, 3)],
    "face_blendshapes": [(1, 146, 2)],
}
#: torch rebuild vs onnxruntime, max |difference| / max(1, max |output|) (float32 reassociation only)
TORCH_TOLERANCE = 1e-4
ROWS = 1080

Engine = Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]


class FnEngine:
    """The smallest engine facemirror's models accept: ``run(inputs) -> outputs``, optionally recording inputs."""

    def __init__(self, fn: Engine, record: list[dict[str, np.ndarray]] | None = None) -> None:
        self.fn, self.record = fn, record

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.record is not None:
            self.record.append({k: np.array(v, np.float32) for k, v in inputs.items()})
        return self.fn(inputs)


def ort_fn(path: Path) -> Engine:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return lambda inputs: dict(zip(names, session.run(None, {k: np.asarray(v) for k, v in inputs.items()})))


def torch_fn(module: OnnxGraphModule, half: bool) -> Engine:
    """Run the rebuilt module in fp32, or in fp16 (weights, activations and input; outputs back to fp32)."""
    dtype = torch.float16 if half else torch.float32
    module = module.to(dtype)

    def run(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            outs = module(*(torch.from_numpy(np.asarray(inputs[n], np.float32)).to(dtype) for n in module.input_names))
        return {n: o.float().numpy() for n, o in zip(module.output_names, outs)}

    return run


def landmarker(engines: Mapping[str, Engine], symmetric: bool, record: dict[str, list[Any]] | None = None) -> Any:
    """A FaceLandmarker on the given per-network engines (optionally recording every network input)."""
    rec = record or {}
    return FaceLandmarker(
        BlazeFace(FnEngine(engines["face_detector"], rec.get("face_detector"))),
        FaceMesh(FnEngine(engines["face_landmarks"], rec.get("face_landmarks")), symmetric=symmetric),
        Blendshapes(FnEngine(engines["face_blendshapes"], rec.get("face_blendshapes"))),
    )


def frames(image: Path, video: Path) -> Iterator[tuple[str, np.ndarray]]:
    """The image, then every video frame, each resized to 1080 rows (where the midline tolerance is set)."""

    def scaled(bgr: np.ndarray) -> np.ndarray:
        width = round(bgr.shape[1] * ROWS / bgr.shape[0])
        return cv2.resize(bgr, (width, ROWS), interpolation=cv2.INTER_CUBIC)

    bgr = cv2.imread(str(image))
    if bgr is None:
        raise SystemExit(f"{image}: cannot read the image")
    yield "image", scaled(bgr)
    capture = cv2.VideoCapture(str(video))
    k = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield f"frame {k}", scaled(frame)
        k += 1
    capture.release()
    if k == 0:
        raise SystemExit(f"{video}: no frames read")


def run_all(lm: Any, images: list[tuple[str, np.ndarray]]) -> list[Any]:
    """The image in IMAGE mode, then the video frames tracked (VIDEO mode), as the pipeline runs them."""
    results = [lm.process_image(images[0][1])]
    lm.reset()
    results += [lm.track(bgr) for _, bgr in images[1:]]
    return results


def check_torch(folder: Path, modules: Mapping[str, OnnxGraphModule], inputs: Mapping[str, list[Any]]) -> None:
    """Step 1: the torch rebuild equals onnxruntime on the recorded real inputs (and batch 2 for face_landmarks)."""
    for name in NETWORKS:
        ort_run, torch_run = ort_fn(folder / f"{name}.onnx"), torch_fn(modules[name], half=False)
        batches = inputs[name]
        if name == "face_landmarks":
            batches = [*batches, {"input": np.concatenate([batches[0]["input"][:1], batches[-1]["input"][:1]])}]
        worst, where = 0.0, ""
        for feed in batches:
            ref, got = ort_run(feed), torch_run(feed)
            for key in ref:
                error = float(np.abs(ref[key] - got[key]).max()) / max(float(np.abs(ref[key]).max()), 1.0)
                worst, where = max((worst, where), (error, key))
        print(
            f"{name}: torch rebuild vs onnxruntime on {len(batches)} real inputs: worst {where}, "
            f"max |diff| / max(1, max |out|) {worst:.2e}"
        )
        if worst > TORCH_TOLERANCE:
            raise SystemExit(f"{name}: the torch rebuild differs from onnxruntime ({worst:.2e} > {TORCH_TOLERANCE})")


def measure_fp16(
    fp32: Mapping[str, Engine], fp16: Mapping[str, Engine], images: list[tuple[str, np.ndarray]]
) -> dict[str, tuple[float, float]]:
    """Step 2: each network alone in fp16, the others fp32, in symmetric and plain mode.

    Prints the landmark shift and midline offset (px at 1080 rows) and the blendshape change against
    all-fp32; returns per network its worst (mean landmark shift, max blendshape change) over both modes.
    """
    worst = {name: (0.0, 0.0) for name in NETWORKS}
    for symmetric in (True, False):
        ref_results = run_all(landmarker(fp32, symmetric), images)
        for name in NETWORKS:
            got_results = run_all(landmarker({**fp32, name: fp16[name]}, symmetric), images)
            shifts, mid_px, blend = [], [], []
            for ref, got in zip(ref_results, got_results):
                if (ref is None) != (got is None):
                    raise SystemExit(f"{name} fp16: a face was found by only one precision")
                if ref is None:
                    continue
                shifts.append(np.linalg.norm(ref.landmarks[:, :2] - got.landmarks[:, :2], axis=1))
                a, b = estimate_midline(ref.landmarks), estimate_midline(got.landmarks)
                mid_px.append(abs(float(a.signed_distance(*b.point))))
                blend.append(float(np.abs(ref.blendshapes - got.blendshapes).max()))
            d = np.concatenate(shifts)
            print(
                f"  {'symmetric' if symmetric else 'plain':9} {name} fp16: {len(shifts)} faces, landmark shift mean "
                f"{d.mean():.4f} px, p99 {np.percentile(d, 99):.4f}, max {d.max():.4f}; midline offset mean "
                f"{np.mean(mid_px):.4f} px, max {np.max(mid_px):.4f}; blendshapes max |diff| {np.max(blend):.4f}"
            )
            worst[name] = (max(worst[name][0], float(d.mean())), max(worst[name][1], float(np.max(blend))))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path, help="folder with the three shipped ONNX files")
    parser.add_argument("out", type=Path, help="output folder for the .mlpackage folders")
    parser.add_argument("--image", type=Path, required=True, help="a real face photo")
    parser.add_argument("--video", type=Path, required=True, help="a real face video")
    parser.add_argument("--max-mean-px", type=float, default=0.05, help="fp16 budget: mean landmark shift, px")
    parser.add_argument("--max-blendshape", type=float, default=0.01, help="fp16 budget: max blendshape change")
    parser.add_argument("--compute-units", default="CPU_AND_NE", help="recorded in the fp16 packages (fp32: ALL)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    modules = {name: load_onnx_module(str(args.weights / f"{name}.onnx")) for name in NETWORKS}
    images = list(frames(args.image, args.video))
    record: dict[str, list[Any]] = {name: [] for name in NETWORKS}
    fp32 = {name: ort_fn(args.weights / f"{name}.onnx") for name in NETWORKS}
    run_all(landmarker(fp32, True, record), images[:8])
    check_torch(args.weights, modules, record)

    fp16 = {name: torch_fn(load_onnx_module(str(args.weights / f"{name}.onnx")), half=True) for name in NETWORKS}
    print(f"fp16 (torch half) vs fp32 (onnxruntime), {len(images)} images at {ROWS} rows:")
    precision = {}
    for name, (mean_px, blend) in measure_fp16(fp32, fp16, images).items():
        precision[name] = "fp16" if mean_px <= args.max_mean_px and blend <= args.max_blendshape else "fp32"
        print(
            f"{name}: worst mean landmark shift {mean_px:.4f} px (budget {args.max_mean_px}), "
            f"blendshapes {blend:.4f} (budget {args.max_blendshape}) -> {precision[name]}"
        )

    for name in NETWORKS:
        module, shapes = modules[name].float(), SHAPES[name]
        units = args.compute_units if precision[name] == "fp16" else "ALL"  # fp32 runs on GPU/CPU, not the ANE
        start = time.perf_counter()
        path = export_coreml(
            module,
            (np.zeros(shapes[0], np.float32),),
            module.input_names,
            module.output_names,
            args.out / f"{name}.mlpackage",
            precision=precision[name],
            compute_units=units,
            flexible_shapes={module.input_names[0]: shapes} if len(shapes) > 1 else None,
        )
        for file in path.rglob("*"):  # coremltools writes model.mlmodel 0600: unreadable to others once installed
            if file.is_file():
                file.chmod(0o644)
        print(
            f"{path} ({precision[name]}, {time.perf_counter() - start:.1f} s): "
            f"sha256 {sha256_tree(path)}, size {tree_size(path)}"
        )
        print(ane_report(path, compute_units=units).format_text())


if __name__ == "__main__":
    main()
