"""How much of a known one-sided displacement each method recovers: landmarks vs mirror-flow asymmetry fields.

Truth. A real face (../shared/media/single_face.jpg, and frames of single_face.mp4) is made exactly
mirror-symmetric (tests/symmetric_face.py) and placed upright in a 1920x1080 frame with its landmarks 500 px
tall. One feature on one side (mouth corner 61/291, brow 105/334, upper lid 159/386; each side in turn) is
then moved down the face by a known amount with a smooth local warp (facemirror.asymmetry.synthetic.Droop:
bump radii across / above / below the point, in face heights H: corner 0.12 / 0.14 / 0.14, brow
0.20 / 0.25 / 0.14, lid 0.14 / 0.10 / max(0.04, 2 x amount / H)), centred on the flip-averaged mesh's point of
the symmetric face.

Measure. Each method gives the pair's asymmetry down the face, left - reflect(right) (px). Recovery =
(asymmetry on the moved face - asymmetry on the symmetric face) / true displacement, signed so 1 is exact;
"false asymmetry" is the asymmetry on the symmetric face. The mesh rows read the landmark pair; the flow
rows correct the plain mesh's pair with the field (facemirror.asymmetry.correct_pairs) unless named
"from flip-averaged points". The midline is the true one except in the robustness rows.

Cost: one asymmetry field at 1080p, OpenCV on 1 thread, the median process CPU time of --repeat calls (the
machine is shared, so wall time would count other people's work), all methods taking turns.

    python benchmarks/bench_asymmetry.py [--faces 3] [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from common import SHARED, machine, machine_lines, md_table, write_result
from facemirror.asymmetry import DEFAULT_METHOD, METHODS, FlowMethod, asymmetry_field, correct_pairs
from facemirror.asymmetry.synthetic import Droop
from facemirror.mirror.landmarks import reflect_points
from facemirror.mirror.midline import Midline, estimate_midline
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.video import VideoReader, VideoWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from symmetric_face import WIDTH, Pose, make_symmetric_face, render

IRIS_MM = 11.77
FACE_PX = 500.0
AMOUNTS = (6.0, 12.0, 24.0, 30.0)
ROBUST_AMOUNT = 12.0


@dataclass(frozen=True)
class Feature:
    """A mirror pair (subject's left index, right index) of the 478-point mesh and its droop radii in face heights."""

    left: int
    right: int
    across: float
    up: float
    down: float | None  # None: max(0.04 H, 2 x amount), the lid's (pushed into the eye below it)

    def droop(self, centre: np.ndarray, amount: float, height: float, direction: tuple[float, float]) -> Droop:
        """Move ``centre`` by ``amount`` px along ``direction`` (down the face)."""
        down = self.down * height if self.down is not None else max(0.04 * height, 2.0 * amount)
        centre_xy = (float(centre[0]), float(centre[1]))
        return Droop(centre_xy, amount, direction, self.across * height, self.up * height, down)


FEATURES = {
    "mouth corner": Feature(291, 61, 0.12, 0.14, 0.14),
    "brow": Feature(334, 105, 0.20, 0.25, 0.14),
    "upper lid": Feature(386, 159, 0.14, 0.10, None),
}
#: Narrower bumps that bend the feature instead of moving it: a brow bowed down in its middle, and an upper lid
#: pulled into a V that shuts the eye (24 px; the lid sits about 19 px above the lower lid).
HARD_FEATURES = {
    "brow bowed (0.14 / 0.12 / 0.12)": Feature(334, 105, 0.14, 0.12, 0.12),
    "upper lid in a V (0.10 / 0.10 / 2 x amount)": Feature(386, 159, 0.10, 0.10, None),
}
HARD_AMOUNT = 24.0
INCONSISTENT = f"{DEFAULT_METHOD} without keeping the halves consistent"


@dataclass
class Truth:
    """A symmetric face in a 1080p frame, its true midline, the flip-averaged mesh on it and its iris scale."""

    name: str
    frame: np.ndarray
    midline: Midline
    landmarks: np.ndarray
    height: float
    mm_per_px: float


class Landmarks:
    """The plain and the flip-averaged mesh (IMAGE mode, onnx so results do not depend on installed backends)."""

    def __init__(self) -> None:
        self.plain = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False, threads=1)
        self.flipped = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False, symmetric=True, threads=1)

    def both(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        plain, flipped = self.plain.process_image(image), self.flipped.process_image(image)
        assert plain is not None and flipped is not None, "no face found in a benchmark frame"
        return plain.landmarks[:, :2].astype(np.float64), flipped.landmarks[:, :2].astype(np.float64)


def truths(marks: Landmarks, faces: int, face_px: float = FACE_PX, roll: float = 0.0) -> list[Truth]:
    """The photo, then frames of the video, each made symmetric and rendered with its face ``face_px`` tall,
    rolled ``roll`` degrees (clockwise)."""
    photos = [("single_face.jpg", cv2.imread(str(SHARED / "media" / "single_face.jpg")))]
    with VideoReader(SHARED / "media" / "single_face.mp4") as reader:
        photos += [(f"single_face.mp4 frame {f.index}", f.image) for f in reader if f.index in (10, 50)]
    out = []
    for name, photo in photos[:faces]:
        face = make_symmetric_face(marks.plain, photo)
        frame, point, angle = render(face, Pose(roll, face_px / face.face_height, WIDTH / 2, 540.0))
        midline = Midline.from_angle(point, angle)
        _, lm = marks.both(frame)
        iris = 0.5 * (np.linalg.norm(lm[469] - lm[471]) + np.linalg.norm(lm[474] - lm[476]))
        height = float(np.ptp(lm @ np.asarray(midline.direction)))
        out.append(Truth(name, frame, midline, lm, height, IRIS_MM / iris))
    return out


Degrade = Callable[[np.ndarray], np.ndarray]


def _noise(image: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(int(image[::97, ::89].sum()))
    return np.clip(image + rng.normal(0.0, 2.0, image.shape), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], cv2.IMREAD_COLOR)


def _h264(image: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.mp4"
        with VideoWriter(path, image.shape[1], image.shape[0], Fraction(30), quality=23, preset="medium") as w:
            for _ in range(3):  # the last frame is predicted from the first, as in a video
                w.write(image)
        with VideoReader(path) as reader:
            return [f.image for f in reader][-1]


def _shift(midline: Midline, px: float = 0.0, deg: float = 0.0) -> Midline:
    """The midline moved ``px`` along its normal and turned ``deg`` about its point."""
    n = np.asarray(midline.normal)
    point = np.asarray(midline.point) + px * n
    return Midline.from_angle((float(point[0]), float(point[1])), midline.angle_deg + deg)


@dataclass(frozen=True)
class Variant:
    """A robustness condition: how the frame is degraded and which midline the methods are given."""

    degrade: Degrade | None = None
    midline: Callable[[Midline, np.ndarray], Midline] | None = None  # (true midline, flip-averaged mesh)


VARIANTS: dict[str, Variant] = {
    "reference": Variant(),
    "midline fitted (estimate_midline, flip-averaged mesh)": Variant(midline=lambda m, lm: estimate_midline(lm)),
    "midline off by 0.5 px": Variant(midline=lambda m, lm: _shift(m, px=0.5)),
    "midline off by 0.3 deg": Variant(midline=lambda m, lm: _shift(m, deg=0.3)),
    "noise sigma 2 (8-bit)": Variant(degrade=_noise),
    "JPEG quality 80": Variant(degrade=_jpeg),
    "H.264 CRF 23 (P-frame)": Variant(degrade=_h264),
}


def measure(
    image: np.ndarray,
    midline: Midline,
    marks: Landmarks,
    methods: dict[str, FlowMethod],
    pairs: list[Feature],
    truth: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Each method's down-the-face asymmetry (px) of each feature pair on ``image``.

    ``truth`` (left, right): where the pairs' features really are; the default method's field is also
    read there, which separates the flow's own error from the landmarks' placing.
    """
    plain, flipped = marks.both(image)
    out: dict[str, np.ndarray] = {}
    for name, lm in (("plain mesh", plain), ("flip-averaged mesh", flipped)):
        left, right = lm[[f.left for f in pairs]], lm[[f.right for f in pairs]]
        out[name] = (left - reflect_points(right, midline)) @ np.asarray(midline.direction)
    for name, method in methods.items():
        field = asymmetry_field(image, midline, plain, method)
        out[name] = correct_pairs(field, plain[[f.left for f in pairs]], plain[[f.right for f in pairs]]).asymmetry[
            :, 1
        ]
        if name == DEFAULT_METHOD:
            flip_points = flipped[[f.left for f in pairs]], flipped[[f.right for f in pairs]]
            out[f"{name} from flip-averaged points"] = correct_pairs(field, *flip_points).asymmetry[:, 1]
            out[f"{name} read at the true points"] = correct_pairs(field, *truth).asymmetry[:, 1]
    return out


def recoveries(
    truth_list: list[Truth],
    marks: Landmarks,
    methods: dict[str, FlowMethod],
    amounts: tuple[float, ...],
    variant: Variant,
    features: dict[str, Feature] = FEATURES,
) -> tuple[dict[tuple[str, str, float], list[float]], dict[str, list[float]]]:
    """Recovery per (method, feature, amount) over faces and sides, and false asymmetry (px) per method."""
    rec: dict[tuple[str, str, float], list[float]] = defaultdict(list)
    false: dict[str, list[float]] = defaultdict(list)
    degrade = variant.degrade or (lambda im: im)
    for truth in truth_list:
        midline = variant.midline(truth.midline, truth.landmarks) if variant.midline else truth.midline
        pairs = list(features.values())
        lm = truth.landmarks
        true_base = lm[[f.left for f in pairs]], lm[[f.right for f in pairs]]
        base = measure(degrade(truth.frame), midline, marks, methods, pairs, true_base)
        for name, values in base.items():
            false[name] += list(np.abs(values))
        for k, (fname, feature) in enumerate(features.items()):
            for moved, sign in ((feature.left, 1.0), (feature.right, -1.0)):
                for amount in amounts:
                    down = truth.midline.direction
                    droop = feature.droop(lm[moved], amount, truth.height, down)
                    true_points = lm[[feature.left]], lm[[feature.right]]
                    true_points[0 if moved == feature.left else 1][0] += amount * np.asarray(down)
                    got = measure(degrade(droop.apply(truth.frame)), midline, marks, methods, [feature], true_points)
                    for name, values in got.items():
                        rec[(name, fname, amount)].append(sign * (values[0] - base[name][k]) / amount)
        print(f"  {truth.name} done", file=sys.stderr, flush=True)
    return rec, false


def cost(truth: Truth, marks: Landmarks, methods: dict[str, FlowMethod], repeat: int) -> dict[str, float]:
    """CPU ms per 1080p frame (1 thread): each method's field, correcting all 225 mesh pairs, and the meshes.

    The steps take turns, ``repeat`` rounds after an untimed one, so a change in the machine's load
    falls on all of them alike; each gets its median.
    """
    from facemirror.layouts.mediapipe_topology import LEFT_RIGHT_PAIRS

    feature = FEATURES["mouth corner"]
    down = truth.midline.direction
    image = feature.droop(truth.landmarks[feature.right], 12.0, truth.height, down).apply(truth.frame)
    plain, _ = marks.both(image)
    field = asymmetry_field(image, truth.midline, plain, DEFAULT_METHOD)
    left, right = plain[LEFT_RIGHT_PAIRS[:, 0]], plain[LEFT_RIGHT_PAIRS[:, 1]]
    steps: dict[str, Callable[[], object]] = {
        name: (lambda m=method: asymmetry_field(image, truth.midline, plain, m)) for name, method in methods.items()
    }
    steps["correct_pairs (225 mesh pairs)"] = lambda: correct_pairs(field, left, right)
    steps["plain mesh (detect + landmarks, for scale)"] = lambda: marks.plain.process_image(image)
    steps["flip-averaged mesh (detect + landmarks)"] = lambda: marks.flipped.process_image(image)
    times: dict[str, list[float]] = defaultdict(list)
    for round_ in range(repeat + 1):
        for name, step in steps.items():
            start = time.process_time()
            step()
            if round_:
                times[name].append(1e3 * (time.process_time() - start))
    return {name: statistics.median(values) for name, values in times.items()}


def fmt(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else ""


def span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=3, help="how many real faces (photo, then video frames)")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per method for the cost")
    parser.add_argument("--quick", action="store_true", help="one face, fewer amounts and variants (a smoke run)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    facts = machine()
    marks = Landmarks()
    faces = 1 if args.quick else args.faces
    amounts = (6.0, 24.0) if args.quick else AMOUNTS
    methods = dict(METHODS)
    started = time.time()
    truth_list = truths(marks, faces)
    mm = statistics.fmean(t.mm_per_px for t in truth_list)
    heights = ", ".join(f"{t.name}: H {t.height:.0f} px, {t.mm_per_px:.3f} mm/px" for t in truth_list)

    print("main table", file=sys.stderr)
    rec, false = recoveries(truth_list, marks, methods, amounts, VARIANTS["reference"])
    names = list(false)
    header = ["method", *(f"{f} {a:g} px ({a * mm:.1f} mm)" for f in FEATURES for a in amounts)]
    mean_rows = [[n, *(fmt(rec[(n, f, a)]) for f in FEATURES for a in amounts)] for n in names]
    span_rows = [[n, *(span(rec[(n, f, a)]) for f in FEATURES for a in amounts)] for n in names]
    false_rows = [[n, f"{statistics.fmean(false[n]):.2f}", f"{max(false[n]):.2f}"] for n in names]

    print("cost", file=sys.stderr)
    costs = cost(truth_list[0], marks, methods, args.repeat)

    robust_methods = {k: methods[k] for k in ("dis-medium", "dis-iterated", DEFAULT_METHOD)}
    robust_names = ["plain mesh", "flip-averaged mesh", *robust_methods, f"{DEFAULT_METHOD} from flip-averaged points"]
    variants = dict(list(VARIANTS.items())[: 3 if args.quick else None])
    robust_rows = []
    for vname, variant in variants.items():
        print(f"robustness: {vname}", file=sys.stderr)
        r, fa = recoveries(truth_list[:1], marks, robust_methods, (ROBUST_AMOUNT,), variant)
        robust_rows += [
            [vname, n, *(fmt(r[(n, f, ROBUST_AMOUNT)]) for f in FEATURES), f"{max(fa[n]):.2f}"] for n in robust_names
        ]
    other_methods = dict(robust_methods)
    other_methods["mirror-flow-full"] = METHODS["mirror-flow-full"]
    other_names = [*robust_names[:-1], "mirror-flow-full", robust_names[-1]]
    other_truths = [
        (f"face {FACE_PX / 2:g} px tall ({ROBUST_AMOUNT / 2:g} px)", truths(marks, 1, FACE_PX / 2), ROBUST_AMOUNT / 2),
        ("face rolled 15 deg", truths(marks, 1, roll=15.0), ROBUST_AMOUNT),
    ]
    for label, others, amount in other_truths:
        print(f"robustness: {label}", file=sys.stderr)
        r, fa = recoveries(others, marks, other_methods, (amount,), VARIANTS["reference"])
        robust_rows += [
            [label, n, *(fmt(r[(n, f, amount)]) for f in FEATURES), f"{max(fa[n]):.2f}"] for n in other_names
        ]

    print("hard cases", file=sys.stderr)
    hard_methods = dict(robust_methods)
    hard_methods[INCONSISTENT] = replace(METHODS[DEFAULT_METHOD], consistent=False)
    r, _ = recoveries(truth_list, marks, hard_methods, (HARD_AMOUNT,), VARIANTS["reference"], HARD_FEATURES)
    hard_rows = [[n, *(span(r[(n, f, HARD_AMOUNT)]) for f in HARD_FEATURES)] for n in [*robust_names, INCONSISTENT]]

    lid_gap = statistics.fmean(float(t.landmarks[145, 1] - t.landmarks[159, 1]) for t in truth_list)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        __doc__.split("\n\n    python")[0].strip(),
        "",
        f"Faces ({len(truth_list)}): {heights}. 1 mm = {1 / mm:.1f} px (iris 11.77 mm). "
        f"The upper lid of these faces lies {lid_gap:.0f} px above the lower lid: a lid droop of 24 or 30 px "
        "pushes the eye shut and the lower lid down with it.",
        "",
        "## Recovery (mean over faces and both sides; 1 = the whole displacement)",
        "",
        *md_table(header, mean_rows),
        "",
        "## Recovery range (min-max over faces and both sides)",
        "",
        *md_table(header, span_rows),
        "",
        "## False asymmetry on the symmetric faces (px, |down-the-face asymmetry| of the three pairs)",
        "",
        *md_table(["method", "mean", "max"], false_rows),
        "",
        f"## Robustness ({truth_list[0].name}, {ROBUST_AMOUNT:g} px unless said; recovery, and max false asymmetry px)",
        "",
        *md_table(["condition", "method", *FEATURES, "false asymmetry max (px)"], robust_rows),
        "",
        f"## Hard cases ({HARD_AMOUNT:g} px; recovery min-max over faces and sides; radii across / up / down in H)",
        "",
        *md_table(["method", *HARD_FEATURES], hard_rows),
        "",
        "## Cost per 1080p frame (CPU ms, OpenCV and ONNX Runtime on 1 thread, median; the face 500 px tall)",
        "",
        *md_table(["step", "ms"], [[k, f"{v:.1f}"] for k, v in costs.items()]),
        "",
        *machine_lines(facts, load_after),
        f"Run time {time.time() - started:.0f} s.",
    ]
    write_result(
        "asymmetry_recovery",
        "Asymmetry recovery: landmarks vs mirror-flow fields",
        "python benchmarks/bench_asymmetry.py",
        lines,
    )


if __name__ == "__main__":
    main()
