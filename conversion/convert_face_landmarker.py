"""Convert MediaPipe's ``face_landmarker.task`` (TFLite) into the three ONNX files facemirror ships.

Steps, each checked:

1. unzip the .task bundle (face detector, landmarks, blendshapes TFLite models);
2. convert each with tf2onnx (opset 17) and give the graph inputs/outputs stable names;
3. rewrite every ``PRelu`` as ``Relu(x) + slope * Min(x, 0)``: onnxruntime's CPU PRelu
   with a per-channel slope is slow, the rewrite runs about twice as fast and gives the
   same numbers (checked here on real face crops);
4. compare onnxruntime with the TFLite interpreter on the same real inputs;
5. time every net on onnxruntime with 1 and 2 threads, before and after the rewrite;
6. print the sha256 and size of every output file.

Needs TensorFlow and tf2onnx at conversion time only (a separate environment)::

    python -m venv /tmp/convenv
    /tmp/convenv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnxruntime opencv-python-headless
    /tmp/convenv/bin/pip install --no-deps -e .        # for the real-face crops (facemirror's own pre-processing)
    /tmp/convenv/bin/python conversion/convert_face_landmarker.py face_landmarker.task weights/ \
        --images ../shared/media/single_face.jpg
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

#: tflite member of the .task -> (output ONNX file, new input names, new output names)
NETWORKS = {
    "face_detector.tflite": ("face_detector.onnx", ["input"], ["regressors", "classificators"]),
    "face_landmarks_detector.tflite": (
        "face_landmarks.onnx",
        ["input"],
        ["landmarks", "presence_logit", "aux"],
    ),
    "face_blendshapes.tflite": ("face_blendshapes.onnx", ["points"], ["blendshapes"]),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(tflite: Path, out: Path, inputs: list[str], outputs: list[str]) -> list[str]:
    """tf2onnx conversion (opset 17), then rename the graph's inputs and outputs; returns the TFLite output names."""
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(str(tflite), opset=17)
    original = [o.name for o in model.graph.output]
    rename_io(model.graph, inputs, outputs)
    canonicalize(model.graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return original


def rename_io(graph, inputs: list[str], outputs: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Give the graph's inputs and outputs the names facemirror's models use."""
    mapping = {}
    for value, name in zip(graph.input, inputs):
        mapping[value.name] = name
        value.name = name
    for value, name in zip(graph.output, outputs):
        mapping[value.name] = name
        value.name = name
    for node in graph.node:
        node.input[:] = [mapping.get(n, n) for n in node.input]
        node.output[:] = [mapping.get(n, n) for n in node.output]


def canonicalize(graph) -> None:  # type: ignore[no-untyped-def]
    """Order nodes by structure and rename internal tensors and nodes by order of first use.

    tf2onnx numbers its constants from global counters and may list
    independent nodes in any order; after this, the same .task always gives
    byte-identical files (tf2onnx's optimizer also needs a fixed PYTHONHASHSEED: main() sets it).
    """
    sig: dict[str, str] = {v.name: f"input:{v.name}" for v in graph.input}
    for tensor in graph.initializer:
        sig[tensor.name] = (
            "init:" + hashlib.sha256(tensor.SerializeToString().replace(tensor.name.encode(), b"")).hexdigest()
        )
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(not i or i in sig for i in n.input)]
        keyed = []
        for node in ready:
            attrs = b"".join(a.SerializeToString() for a in node.attribute)
            key = hashlib.sha256(
                node.op_type.encode() + attrs + "|".join(sig.get(i, "") for i in node.input).encode()
            ).hexdigest()
            keyed.append((key, node))
        keyed.sort(key=lambda kn: kn[0])
        for key, node in keyed:
            for k, out in enumerate(node.output):
                sig[out] = f"{key}:{k}"
            ordered.append(node)
            pending.remove(node)
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    mapping: dict[str, str] = {}
    for node in ordered:
        for name in [*node.input, *node.output]:
            if name and name not in keep and name not in mapping:
                mapping[name] = f"t{len(mapping)}"
    nodes = []
    for k, node in enumerate(ordered):
        copy = type(node)()
        copy.CopyFrom(node)
        copy.name = f"{node.op_type.lower()}_{k}"
        copy.input[:] = [mapping.get(n, n) for n in node.input]
        copy.output[:] = [mapping.get(n, n) for n in node.output]
        nodes.append(copy)
    del graph.node[:]
    graph.node.extend(nodes)
    inits = []
    for tensor in sorted(graph.initializer, key=lambda t: int(mapping[t.name][1:])):
        copy = type(tensor)()
        copy.CopyFrom(tensor)
        copy.name = mapping[tensor.name]
        inits.append(copy)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]
    for value in [*graph.input, *graph.output]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = "batch"


def rewrite_prelu(src: Path, dst: Path) -> int:
    """Replace each ``PRelu(x, slope)`` by ``Relu(x) + slope * Min(x, 0)``; returns how many were replaced.

    The slope initializer keeps its shape, so it broadcasts exactly as PRelu's does.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    zero_name = "prelu_rewrite_zero"
    graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), zero_name))
    nodes = []
    count = 0
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        (y,) = node.output
        base = node.name or y
        relu, neg, scaled = f"{base}/relu", f"{base}/neg", f"{base}/scaled"
        nodes += [
            helper.make_node("Relu", [x], [relu], name=relu),
            helper.make_node("Min", [x, zero_name], [neg], name=neg),
            helper.make_node("Mul", [neg, slope], [scaled], name=scaled),
            helper.make_node("Add", [relu, scaled], [y], name=f"{base}/add"),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return count


def session(path: Path, threads: int):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def run_onnx(path: Path, feed: np.ndarray, threads: int = 1) -> list[np.ndarray]:
    sess = session(path, threads)
    return sess.run(None, {sess.get_inputs()[0].name: feed})


def run_tflite(path: Path, feed: np.ndarray, order: list[str]) -> list[np.ndarray]:
    """Run the TFLite model on each batch item (the TFLite models have batch 1); outputs in ``order`` (names)."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    by_name = {d["name"]: d for d in interp.get_output_details()}
    outs = [by_name[name] for name in order]
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for item in feed:
        interp.set_tensor(inp["index"], item[None].astype(np.float32))
        interp.invoke()
        for k, det in enumerate(outs):
            results[k].append(interp.get_tensor(det["index"]).copy())
    return [np.concatenate(r) if r[0].ndim else np.stack(r) for r in results]


def ms_per_call(path: Path, feed: np.ndarray, threads: int, repeat: int) -> float:
    sess = session(path, threads)
    name = sess.get_inputs()[0].name
    for _ in range(3):
        sess.run(None, {name: feed})
    best = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, {name: feed})
        best.append(time.perf_counter() - t0)
    return 1000 * float(np.median(best))


def real_inputs(images: list[Path], onnx_dir: Path) -> dict[str, np.ndarray]:
    """Each network's input tensors for real faces, made by facemirror's own pre-processing.

    Falls back to deterministic noise (with a warning) when facemirror or the images are unavailable.
    """
    try:
        import cv2

        from facemirror.models.face_landmarker import FaceLandmarker
    except ImportError as exc:
        print(f"WARNING: facemirror not importable ({exc}); checking on random inputs only", file=sys.stderr)
        return random_inputs()
    lm = FaceLandmarker.from_weights(
        detector_path=onnx_dir / "face_detector.onnx",
        landmarks_path=onnx_dir / "face_landmarks.onnx",
        blendshapes_path=onnx_dir / "face_blendshapes.onnx",
    )
    det, mesh, blend = [], [], []
    for path in images:
        bgr = cv2.imread(str(path))
        if bgr is None:
            print(f"WARNING: cannot read {path}", file=sys.stderr)
            continue
        for angle in (0, 30, -30):
            img = rotate(bgr, angle)
            det.append(lm.detector.preprocess(img)["input"][0])
            result = lm.process_image(img)
            if result is None:
                continue
            mesh.append(lm.mesh.preprocess(img, result.roi)["input"][0])
            blend.append(lm.blendshapes.preprocess(result.landmarks)["points"][0])
    if not mesh:
        print("WARNING: no face found in the images; checking on random inputs only", file=sys.stderr)
        return random_inputs()
    return {
        "face_detector.onnx": np.stack(det),
        "face_landmarks.onnx": np.stack(mesh),
        "face_blendshapes.onnx": np.stack(blend),
    }


def rotate(bgr: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    if degrees == 0:
        return bgr
    h, w = bgr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(bgr, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def random_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "face_detector.onnx": rng.uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32),
        "face_landmarks.onnx": rng.uniform(0, 1, (2, 256, 256, 3)).astype(np.float32),
        "face_blendshapes.onnx": rng.uniform(100, 300, (2, 146, 2)).astype(np.float32),
    }


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":  # tf2onnx's graph optimizer iterates over sets of names
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", type=Path, help="face_landmarker.task (a zip of TFLite models)")
    parser.add_argument("out", type=Path, help="output folder for the ONNX files")
    parser.add_argument("--images", type=Path, nargs="*", default=[], help="face photos for the numeric checks")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per measurement")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{args.task}: sha256 {sha256(args.task)}, {args.task.stat().st_size} bytes")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with zipfile.ZipFile(args.task) as bundle:
            bundle.extractall(tmp)
        plain: dict[str, Path] = {}
        tflite_outputs: dict[str, list[str]] = {}
        for member, (onnx_name, inputs, outputs) in NETWORKS.items():
            plain[onnx_name] = tmp / f"plain_{onnx_name}"
            tflite_outputs[onnx_name] = convert(tmp / member, plain[onnx_name], inputs, outputs)
            count = rewrite_prelu(plain[onnx_name], args.out / onnx_name)
            print(f"{member} -> {onnx_name}: {count} PRelu rewritten")

        feeds = real_inputs(args.images, args.out)
        print("\nnumeric checks (max |difference| over all outputs and inputs):")
        for member, (onnx_name, _, _) in NETWORKS.items():
            feed = feeds[onnx_name]
            if onnx_name != "face_landmarks.onnx":
                # these graphs have a fixed batch of 1
                rewritten = [np.concatenate(o) for o in zip(*(run_onnx(args.out / onnx_name, f[None]) for f in feed))]
                before = [np.concatenate(o) for o in zip(*(run_onnx(plain[onnx_name], f[None]) for f in feed))]
            else:
                rewritten = run_onnx(args.out / onnx_name, feed)
                before = run_onnx(plain[onnx_name], feed)
            lite = run_tflite(tmp / member, feed, tflite_outputs[onnx_name])
            d_rewrite = max(float(np.abs(a - b).max()) for a, b in zip(rewritten, before))
            d_lite = max(float(np.abs(a.reshape(b.shape) - b).max()) for a, b in zip(lite, rewritten))
            print(
                f"  {onnx_name}: {len(feed)} real inputs; rewritten vs tf2onnx {d_rewrite:.2e}; vs TFLite {d_lite:.2e}"
            )

        print("\nms per call (onnxruntime CPU, batch 1, median):")
        for onnx_name in plain:
            one = feeds[onnx_name][:1]
            cells = []
            for threads in (1, 2):
                t_before = ms_per_call(plain[onnx_name], one, threads, args.repeat)
                t_after = ms_per_call(args.out / onnx_name, one, threads, args.repeat)
                cells.append(f"{threads} thread(s): {t_before:.2f} -> {t_after:.2f}")
            print(f"  {onnx_name}: " + "; ".join(cells))

    if args.task.resolve() != (args.out / "face_landmarker.task").resolve():
        shutil.copyfile(args.task, args.out / "face_landmarker.task")
    print("\nfiles:")
    for name in [*plain, "face_landmarker.task"]:
        path = args.out / name
        print(f"  {name}: sha256 {sha256(path)}, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
