"""docs/extending.md runs as written: its ```python blocks are executed in order, in one namespace (one session, as
in a notebook), in a temporary working folder, on a real face; then what its text says is checked, section by section.

The working folder holds ``patient01.mp4`` (the first 12 frames of ../shared/media/single_face.mp4) and
``videos/patient01.mp4``, ``videos/patient02.mp4`` (copies of it, for the batch examples). The weights cache
(``FACEMIRROR_CACHE``) starts empty, as on a fresh install. The namespace is a module of its own
(``docs_extending``), as a script's ``__main__`` is, so the classes the blocks define pickle in this process.

A block may follow one HTML comment (invisible when rendered) that says what the test provides for it, and nothing
else:

- ``<!-- test: weights NAME ... -->``: these OpenFace 3.0 weights exist, as after ``facemirror weights fetch NAME``:
  installed in the weights cache (:func:`facemirror.weights.import_file`, what ``facemirror weights import`` runs)
  and copied into the working folder under the file name the manifest gives them (``MTL_backbone.pth``...). STAR
  and MTL are random weights in the official checkpoint layouts (``fixtures_star``, ``fixtures_mtl``); RetinaFace
  is the real file of ../shared/weights.
- ``<!-- test: binds NAME ... -->``: the block calls the reader's own code by these names (a dlib landmark
  function, say); the test binds a stand-in for each, from :data:`STAND_INS`, whose docstrings say what it is.

Any other comment of that form fails the test, and so does a block that no section's test runs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

pytest.importorskip("torch", reason="the torch extra is part of the test install (the OpenFace 3.0 examples)")

from batch_fixtures import face_clip
from facemirror import Outputs, Pipeline, registry
from facemirror.aus.schema import AU_COLUMNS, BLINK_COLUMNS, GAZE_COLUMNS, IDENTITY_COLUMNS, POSE_COLUMNS
from facemirror.layouts import MEDIAPIPE_478, WFLW_98
from facemirror.layouts.mediapipe_topology import MIRROR_PERMUTATION
from facemirror.mirror.midline import estimate_midline
from facemirror.models.base import crop_box
from facemirror.models.facemesh import FaceMesh
from facemirror.models.far_face import ROI_SHIFT, ROI_SIDE, far_face_detector
from facemirror.models.roi import square_roi
from facemirror.video import VideoReader
from facemirror.weights import import_file
from fixtures_mtl import mtl_state, write_mtl_checkpoint
from fixtures_retinaface import retinaface_weights
from fixtures_star import write_star_checkpoint

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"
VIDEO = "patient01.mp4"
FRAMES = 12
#: a ```python block, with the ``<!-- test: ... -->`` comment on the line before it, if any
BLOCK = re.compile(r"(?:<!-- test: (?P<kind>\w+) (?P<names>[^>]*?) -->\n)?```python\n(?P<code>.*?)```", re.S)
SECTION = re.compile(r"^## (\d+)\. ", re.M)
KINDS = ("weights", "binds")

#: dlib's (iBUG) 68 points -> the face-mesh vertex at the same place (the subject's right is the image left).
#: Jaw from the right ear over the chin (8), brows' upper edges outer to inner, nose bridge and lower edge, eyes
#: from the outer corner (the mesh's blink points: docs of facemirror.aus.blink), outer then inner lips.
IBUG_FROM_MESH = np.array([
    234, 93, 132, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 361, 323, 454,  # jaw 0-16
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows 17-26
    168, 197, 5, 4, 98, 97, 2, 326, 327,  # nose 27-35
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,  # eyes 36-47
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,  # outer lips 48-59
    78, 81, 13, 311, 308, 402, 14, 178,  # inner lips 60-67
])  # fmt: skip


#: iBUG's eyes: outer corner, upper lid, inner corner, lower lid (each lid point facing the other)
IBUG_EYES = {"ear_right": (36, (37, 38), 39, (41, 40)), "ear_left": (45, (44, 43), 42, (46, 47))}


def mesh_68() -> Callable[[np.ndarray, Sequence[float]], np.ndarray]:
    """``predict_68(image, box)``: the shipped face mesh run on the box's region (RetinaFace's box convention,
    upright), read at :data:`IBUG_FROM_MESH`: a real 68-point landmark function of a face box."""
    mesh = FaceMesh.from_weights(backend="onnx")

    def predict_68(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        side = max(x2 - x1, y2 - y1)
        roi = square_roi((x1 + x2) / 2, (y1 + y2) / 2 + ROI_SHIFT * side, side, side, 0.0, ROI_SIDE)
        points: np.ndarray = mesh.run(image, roi).landmarks[0][IBUG_FROM_MESH, :2]
        return points

    return predict_68


#: name -> what builds the stand-in the test binds to it
STAND_INS: dict[str, Callable[[], Any]] = {"predict_68": mesh_68}


@dataclass
class Block:
    section: int
    line: int
    code: str
    kind: str | None = None
    names: tuple[str, ...] = ()


def doc_blocks(text: str) -> list[Block]:
    """Every ```python block of the doc with its section number and its test comment."""
    sections = [(m.start(), int(m.group(1))) for m in SECTION.finditer(text)]
    blocks = []
    for match in BLOCK.finditer(text):
        number = max((n for start, n in sections if start < match.start()), default=0)
        line = text.count("\n", 0, match.start("code"))
        names = tuple(match.group("names").split()) if match.group("kind") else ()
        blocks.append(Block(number, line, match.group("code"), match.group("kind"), names))
    return blocks


@dataclass
class DocSession:
    """The doc's blocks run so far, their namespace and what each section printed."""

    folder: Path
    scratch: Path
    blocks: list[Block]
    module: types.ModuleType
    done: int = 0
    printed: dict[int, str] = field(default_factory=dict)

    @property
    def ns(self) -> dict[str, Any]:
        return self.module.__dict__

    def run_through(self, section: int) -> None:
        """Run every block up to the end of ``section`` that has not run yet, in order."""
        while self.done < len(self.blocks) and self.blocks[self.done].section <= section:
            block = self.blocks[self.done]
            self._provide(block)
            out = io.StringIO()
            with working_folder(self.folder), contextlib.redirect_stdout(out):
                exec(compile(block.code, f"{DOC}:{block.line}", "exec"), self.ns)
            self.printed[block.section] = self.printed.get(block.section, "") + out.getvalue()
            self.done += 1

    def _provide(self, block: Block) -> None:
        if block.kind == "weights":
            for name in block.names:
                installed = import_file(self._weights(name), name)
                shutil.copy(installed, self.folder / installed.name)
        elif block.kind == "binds":
            for name in block.names:
                self.ns[name] = STAND_INS[name]()

    def _weights(self, name: str) -> Path:
        if name == "retinaface":
            return retinaface_weights()
        if name == "star":
            return write_star_checkpoint(self.scratch / "Landmark_98.pkl")
        assert name == "mtl", name
        return write_mtl_checkpoint(self.scratch / "MTL_backbone.pth", mtl_state())


@contextlib.contextmanager
def working_folder(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocSession]:
    folder = tmp_path_factory.mktemp("notebook")
    face_clip(folder / VIDEO)
    (folder / "videos").mkdir()
    for name in ("patient01.mp4", "patient02.mp4"):
        shutil.copy(folder / VIDEO, folder / "videos" / name)
    module = types.ModuleType("docs_extending")
    registered = dict(registry.FACE_TRACKERS), dict(registry.AU_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))
        patch.setitem(sys.modules, module.__name__, module)
        try:
            yield DocSession(folder, tmp_path_factory.mktemp("weights"), doc_blocks(DOC.read_text("utf-8")), module)
        finally:  # the doc registers a part by name: leave the registry as it was for other tests
            for table, before in zip((registry.FACE_TRACKERS, registry.AU_MODELS), registered):
                table.clear()
                table.update(before)


@pytest.fixture(scope="module")
def reference(doc: DocSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The embedded tracker's own midline CSV, mirrored videos and eye aspect ratios of the doc's video."""
    out = tmp_path_factory.mktemp("reference")
    pipeline = Pipeline(au_model="blendshapes", outputs=Outputs(quality="fast"), progress=False)
    mirrored = pipeline.mirror(doc.folder / VIDEO, out)
    aus = pipeline.extract_aus(doc.folder / VIDEO, out / "aus.csv")
    return {**mirrored.outputs, "aus": aus.outputs["csv"]}


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def frames(path: Path) -> list[tuple[np.ndarray, float]]:
    """Each decoded frame of ``path`` (BGR) and its timestamp, as the pipeline reads them."""
    with VideoReader(path) as reader:
        return [(frame.image.copy(), frame.timestamp) for frame in reader]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def number(cell: str) -> float:
    return float(cell) if cell != "" else math.nan


def same_line(ours: Path, theirs: Path, px: float) -> None:
    """Both midline CSVs' lines cross the frame's top and bottom edges within ``px`` of each other."""
    for a, b in zip(rows(ours), rows(theirs), strict=True):
        for key in ("midline_x1", "midline_x2"):
            assert abs(float(a[key]) - float(b[key])) < px, (a["frame"], key, a[key], b[key])


def test_the_doc_marks_its_blocks_only_in_the_ways_the_test_knows() -> None:
    text = DOC.read_text("utf-8")
    blocks = doc_blocks(text)
    assert len(blocks) >= 10 and {b.section for b in blocks} == {1, 2, 3, 4, 5}
    comments = re.findall(r"^<!-- test:", text, re.M)
    assert len(comments) == sum(b.kind is not None for b in blocks), "a test comment that is not right before a block"
    for block in blocks:
        assert block.kind in (None, *KINDS), block
        if block.kind == "binds":
            assert set(block.names) <= set(STAND_INS), block
            for name in block.names:
                assert name in block.code, f"{name} is bound but the block does not use it"


def test_section_1_a_custom_au_model_fills_its_own_columns_with_its_values(
    doc: DocSession, reference: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc.run_through(1)
    monkeypatch.chdir(doc.folder)  # the doc's results name their files relative to it
    folder, ns = doc.folder, doc.ns
    csv_path = folder / "out" / "patient01.csv"
    # OpenFace 2.0's block, then the model's labels as it names them, then the blink extras
    openface = [*IDENTITY_COLUMNS, *GAZE_COLUMNS, *POSE_COLUMNS, *AU_COLUMNS]
    assert header(csv_path) == [*openface, "crop_brightness", "crop_contrast", *BLINK_COLUMNS]
    table = rows(csv_path)
    mouth = rows(folder / "out" / "mouth.csv")
    assert len(table) == len(mouth) == FRAMES and all(r["success"] == "1" for r in table)
    # each value is the statistic of the crop the tracker's face box gives, as OpenFace 3.0 cuts it; the landmark
    # model's value is its ratio of the tracker's own landmarks
    tracker = Pipeline(progress=False).face_tracker.for_job(needs_midline=False)
    tracker.reset()
    lay = MEDIAPIPE_478
    with VideoReader(folder / VIDEO) as reader:
        for frame, row, mouth_row in zip(reader, table, mouth, strict=True):
            face = tracker.track(frame.image, frame.timestamp)
            assert face is not None
            x1, y1, x2, y2 = crop_box(face.box, frame.image.shape)
            grey = cv2.cvtColor(frame.image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
            assert float(row["crop_brightness"]) == pytest.approx(grey.mean(), abs=1e-3)
            assert float(row["crop_contrast"]) == pytest.approx(grey.std(), abs=1e-3)
            p = face.landmarks[:, :2]
            width = np.linalg.norm(p[lay.mouth_corners["left"]] - p[lay.mouth_corners["right"]])
            eyes = np.linalg.norm(p[lay.eyes["left"].outer] - p[lay.eyes["right"].outer])
            assert float(mouth_row["mouth_width_ratio"]) == pytest.approx(width / eyes, abs=1e-4)
    # the blink columns come from the landmarks, as the embedded AU model's run gives them
    assert [r["ear_left"] for r in table] == [r["ear_left"] for r in rows(reference["aus"])]
    # the batched split ran (crops prepared apart from the batch) and gives nearly the same statistics
    batched = ns["batched"]
    assert "au_preprocess" in batched.timings
    for plain, split in zip(table, rows(batched.outputs["csv"]), strict=True):
        assert float(split["crop_brightness"]) == pytest.approx(float(plain["crop_brightness"]), abs=1.0)
        assert float(split["crop_contrast"]) == pytest.approx(float(plain["crop_contrast"]), abs=1.5)
    # run(): one CSV per mirrored face, each from its own mirrored crops
    result = ns["result"]
    left, right = rows(result.outputs["left_csv"]), rows(result.outputs["right_csv"])
    assert len(left) == len(right) == FRAMES
    assert any(abs(float(a["crop_brightness"]) - float(b["crop_brightness"])) > 0.1 for a, b in zip(left, right))
    sidecar = json.loads(Path(f"{csv_path}.json").read_text())
    assert {"name": "crop_stats", "class": "docs_extending.CropStats"} in sidecar["models"]
    assert sidecar["parameters"]["au_model"] == "docs_extending.CropStats"
    assert ns["aus"].au_columns["AU model crop_stats"] == ["crop_brightness", "crop_contrast"]


def test_section_2_a_custom_tracker_and_layout_drive_the_midline_blink_and_crops(
    doc: DocSession, reference: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc.run_through(2)
    monkeypatch.chdir(doc.folder)  # the doc's results name their files relative to it
    ns = doc.ns
    five = ns["five"]
    assert five.face == "five_points" and five.landmark_sources == {"detected": FRAMES}
    # the midline is the five-point layout's symmetry axis of the detector's keypoints, frame by frame ...
    detector = far_face_detector()
    for (image, _), row in zip(frames(Path(VIDEO)), rows(five.outputs["midline_csv"]), strict=True):
        keypoints = detector.detect(image)[0].keypoints
        assert keypoints[1, 0] > keypoints[0, 0] and keypoints[4, 0] > keypoints[3, 0]  # image-left first
        raw = estimate_midline(keypoints, ns["FIVE"])
        assert float(row["raw_midline_x"]) == pytest.approx(raw.point[0], abs=1e-3)
        assert float(row["raw_midline_angle_deg"]) == pytest.approx(raw.angle_deg, abs=1e-3)
        assert row["pose_yaw_deg"] == "" and row["status"] == "tracked"  # no pose points: no pose, never "turned"
    # ... close to the embedded mesh's midline, with the subject's sides the right way round
    same_line(five.outputs["midline_csv"], reference["midline_csv"], px=3.0)
    for side, other in (("left", "right"), ("right", "left")):
        ours, theirs, swapped = (decoded(p) for p in (five.outputs[side], reference[side], reference[other]))
        near = np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(ours, theirs)])
        far = np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(ours, swapped)])
        assert near < far / 2, (side, near, far)
    # what the layout lacks is empty or NaN: no eyes (blink), no pose, no measures
    for row in rows(five.outputs["left_csv"]):
        assert row["success"] == "1" and row["crop_brightness"] != ""
        assert row["ear_left"] == row["AU45_r"] == row["pose_Rx"] == ""
    assert five.measures is not None and np.isnan(five.measures.values).all()

    # iBUG's 68 points: the doc's pairs, midline points and sides agree with the face mesh's own
    ibug = ns["IBUG_68"]
    for left, right in ibug.mirror_pairs:
        assert MIRROR_PERMUTATION[IBUG_FROM_MESH[left]] == IBUG_FROM_MESH[right], (left, right)
    assert all(MIRROR_PERMUTATION[IBUG_FROM_MESH[p]] == IBUG_FROM_MESH[p] for p in ibug.sagittal)
    assert len(ibug.mirror_pairs) * 2 + len(ibug.sagittal) == 68
    for side in ("left", "right"):
        assert IBUG_FROM_MESH[ibug.eyes[side].outer] == MEDIAPIPE_478.eyes[side].outer
        assert IBUG_FROM_MESH[ibug.mouth_corners[side]] == MEDIAPIPE_478.mouth_corners[side]
        assert tuple(IBUG_FROM_MESH[list(ibug.brows[side])]) == MEDIAPIPE_478.brows[side]
    run68 = ns["ibug"]
    assert run68.landmark_sources["detected"] >= 1 and run68.landmark_sources["tracked"] >= 1  # detect, then follow
    same_line(run68.outputs["midline_csv"], reference["midline_csv"], px=3.0)
    assert all(r["pose_yaw_deg"] == "" for r in rows(run68.outputs["midline_csv"]))
    # its eye rings give blink: iBUG's eye aspect ratio of the tracker's points (the left eye is 42-47), which
    # are the mesh's own blink points, so it is near the embedded tracker's (whose crop of the face differs)
    tracker = ns["tracker"]
    aus68 = Pipeline(face=tracker, au_model=ns["CropStats"](), progress=False).extract_aus(
        VIDEO, doc.scratch / "68.csv"
    )
    tracker.reset()
    table = zip(frames(Path(VIDEO)), rows(aus68.outputs["csv"]), rows(reference["aus"]), strict=True)
    for (image, timestamp), ours, theirs in table:
        face = tracker.track(image, timestamp)
        assert face is not None
        p = face.landmarks
        for eye, (outer, upper, inner, lower) in IBUG_EYES.items():
            ear = np.linalg.norm(p[list(upper)] - p[list(lower)], axis=1).mean() / np.linalg.norm(p[outer] - p[inner])
            assert float(ours[eye]) == pytest.approx(ear, abs=1e-4), (ours["frame"], eye)
            assert float(ours[eye]) == pytest.approx(float(theirs[eye]), abs=0.08), (ours["frame"], eye)

    # OpenFace 3.0 by name, from installed weights
    of3 = ns["of3"]
    assert of3.face == "openface3" and of3.au_model == "openface3"
    assert {"retinaface", "star", "mtl"} <= set(of3.engines)
    assert ns["openface3"].face_tracker.layout is WFLW_98
    assert all(r["success"] == "1" and r["AU12_p"] != "" for r in rows(of3.outputs["csv"]))


def test_section_3_backends_are_recorded_and_agree(doc: DocSession, monkeypatch: pytest.MonkeyPatch) -> None:
    doc.run_through(3)
    monkeypatch.chdir(doc.folder)  # the doc's results name their files relative to it
    ns = doc.ns
    on_onnx, on_litert = ns["on_onnx"], ns["on_litert"]
    assert {e["backend"] for e in on_onnx.engines.values()} == {"onnx"}
    assert {e["backend"] for e in on_litert.engines.values()} == {"litert"}
    sidecar = json.loads(Path(f"{on_litert.outputs['left']}.json").read_text())
    assert {m["engine"]["backend"] for m in sidecar["models"] if "engine" in m} == {"litert"}
    a, b = (rows(r.outputs["midline_csv"]) for r in (on_onnx, on_litert))
    assert max(abs(float(x["midline_x"]) - float(y["midline_x"])) for x, y in zip(a, b, strict=True)) < 0.5
    # the same network on two engines: the same AU scores, and each CSV's sidecar says which engine ran
    torch_run, onnx_run = (ns["by_backend"][k] for k in ("torch", "onnx"))
    au = ns["au"]
    assert au == ["AU01_p", "AU02_p", "AU04_p", "AU06_p", "AU09_p", "AU12_p", "AU25_p", "AU26_p"]
    assert float((torch_run[au] - onnx_run[au]).abs().max().max()) < 1e-3
    assert float(torch_run[au].std().max()) > 0  # the scores move from frame to frame: a comparison of something
    for backend in ("torch", "onnx"):
        record = json.loads((doc.folder / "out" / f"mtl_{backend}.csv.json").read_text())
        assert [m["engine"]["backend"] for m in record["models"] if m["name"] == "mtl"] == [backend]
    assert "largest AU difference" in doc.printed[3] and float(doc.ns["difference"]) < 1e-3


def test_section_4_configs_rebuild_pipelines_and_batches_take_instances_they_can_send(
    doc: DocSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc.run_through(4)
    monkeypatch.chdir(doc.folder)  # the doc's results name their files relative to it
    ns = doc.ns
    assert ns["again"].config == ns["named"].config and ns["again"].runtime.backend == "onnx"
    assert "True True" in doc.printed[4]
    assert [(o.file, o.status) for o in ns["batch"].outcomes] == [("patient01.mp4", "done"), ("patient02.mp4", "done")]
    for name in ("patient01", "patient02"):
        assert "crop_brightness" in header(doc.folder / "out" / "batch" / name / f"{name}.csv")
    # the class enters the configuration by name only: the same batch again skips what it finished
    again = Pipeline(au_model=ns["CropStats"](), progress=False).run_many("videos", "out/batch", job="aus", workers=1)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    # refused before any video started
    assert "cannot be sent to worker processes" in doc.printed[4]
    assert not any((doc.folder / "out" / "batch2").glob("patient*"))


def test_section_5_a_registered_part_makes_the_config_plain_again(
    doc: DocSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc.run_through(5)
    monkeypatch.chdir(doc.folder)  # the doc's results name their files relative to it
    by_name = doc.ns["by_name"]
    assert by_name.built_from_names and by_name.config.au_model == "crop_stats"
    rebuilt = Pipeline.from_config(by_name.config)
    assert isinstance(rebuilt.au_model_for(), doc.ns["CropStats"])
    assert doc.done == len(doc.blocks), "every block of the doc ran"
