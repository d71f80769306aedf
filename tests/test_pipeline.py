"""The jobs end to end on real videos: mirror, extract_aus and run (one pass), their outputs and flags."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from facemirror import Mirroring, Outputs, Pipeline, Runtime, Tracking
from facemirror.errors import NoFaceError, OutputError, UnreadableVideoError, WeightsMissingError
from facemirror.face import FaceTracker, TrackedFace
from facemirror.layouts import MEDIAPIPE_478
from facemirror.mirror.smoothing import SmoothingParams
from facemirror.models import AUModel, AUPrediction
from facemirror.results import JobResult
from fs_fixtures import unwritable_folder
from video_fixtures import shared_media

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def empty_weights_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user-installed OpenFace weights: ``auto`` must fall back to the embedded model."""
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))


FAST = Outputs(quality="fast")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(outputs=FAST, progress=False)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def video_frames(path: Path) -> tuple[list[int], Fraction, bool]:
    """(pts of every frame, average rate, whether there is an audio stream)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        pts = [f.pts for f in c.decode(stream)]
        return pts, Fraction(stream.average_rate), bool(c.streams.audio)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


# --- mirror on every shared video --------------------------------------------


def test_mirror_face_leaves_frame(pipeline: Pipeline, tmp_path: Path) -> None:
    video = shared_media("face_noface.mov")
    result = pipeline.mirror(video, tmp_path)
    assert result.frames == 169
    table = rows(result.outputs["midline_csv"])
    assert [int(r["frame"]) for r in table] == list(range(1, 170))
    source_pts, _, _ = video_frames(video)
    for key in ("left", "right", "debug"):
        pts, _, has_audio = video_frames(result.outputs[key])
        assert len(pts) == 169
        assert has_audio == (key != "debug")
    left_pts, _, _ = video_frames(result.outputs["left"])
    base = source_pts[0]
    np.testing.assert_allclose(
        [float(r["timestamp"]) for r in table], [float((p - base) / 15360) for p in source_pts], atol=1e-4
    )
    assert len(set(np.diff(left_pts))) > 1, "variable frame rate must survive"
    status = [r["status"] for r in table]
    assert status[0] in ("tracked", "turned")
    # the face leaves: a few held frames (at most hold_seconds of video), then frames without a face
    assert "held" in status and "none" in status
    first_gap = status.index("held")
    held = [i for i in range(first_gap, len(status)) if status[i] == "held"]
    t = [float(r["timestamp"]) for r in table]
    assert t[held[-1]] - t[first_gap - 1] <= 0.5 + 1e-6
    for r in table:
        assert r["success"] == ("1" if r["status"] in ("tracked", "held", "turned") else "0")
        assert (r["midline_x"] == "") == (r["status"] == "none")
    assert result.statuses["none"] == status.count("none")
    assert (
        result.landmark_sources["detected"] >= 1 and result.landmark_sources["tracked"] > 60
    )  # face in the first ~2.4 s


@pytest.mark.parametrize("job", ["mirror", "run", "measure", "extract_aus"])
def test_a_video_without_any_face_is_an_error_and_writes_nothing(pipeline: Pipeline, tmp_path: Path, job: str) -> None:
    video = shared_media("no_face.mp4")
    out = tmp_path / "out"
    with pytest.raises(NoFaceError, match=r"no_face\.mp4: no face found in any of its 95 frames; nothing was written"):
        getattr(pipeline, job)(video, out / "no_face.csv" if job == "extract_aus" else out)
    assert not out.exists() or list(out.iterdir()) == []


def test_frames_without_a_face_are_counted_everywhere(pipeline: Pipeline, tmp_path: Path) -> None:
    result = pipeline.mirror(shared_media("face_noface.mov"), tmp_path)
    # without a face: the frames whose midline was held from earlier ones, and those with none
    assert result.frames_without_face == result.statuses["none"] + result.statuses["held"] > 0
    sidecar = json.loads(Path(f"{result.outputs['left']}.json").read_text())
    assert sidecar["parameters"]["frames_without_face"] == result.frames_without_face
    assert f"{result.frames_without_face} without" in result.summary()


def test_mirror_result_and_sidecars(pipeline: Pipeline, tmp_path: Path) -> None:
    result = pipeline.mirror(ROOT / "examples" / "single_face.mp4", tmp_path)
    assert set(result.outputs) == {"left", "right", "debug", "midline_csv"}
    assert result.statuses == {"tracked": 72}
    assert result.engines["face_landmarks"]["backend"] in ("litert", "onnx", "coreml", "torch")
    assert result.timings["landmarks"]["calls"] == 72
    for path in result.outputs.values():
        sidecar = json.loads(Path(f"{path}.json").read_text())
        assert sidecar["input"]["sha256"]
        assert {m["name"] for m in sidecar["models"]} == {"face_detector", "face_landmarks"}
        assert sidecar["parameters"]["encoder_used"] == result.encoder == "libx264"  # no hardware encoder here
        assert sidecar["parameters"]["encoders_skipped"] == result.encoder_skipped  # and why the others were not
    # nothing but finished files (and their sidecars) in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in result.outputs.values()] + [f"{p.name}.json" for p in result.outputs.values()]
    )


def test_bad_input_leaves_no_output(pipeline: Pipeline, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n")
    out = tmp_path / "out"
    with pytest.raises(UnreadableVideoError, match=r"notes\.mp4"):
        pipeline.mirror(bad, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_unwritable_output_folder(pipeline: Pipeline, tmp_path: Path) -> None:
    folder = unwritable_folder(tmp_path)
    with pytest.raises(OutputError, match="not writable"):
        pipeline.run(ROOT / "examples" / "single_face.mp4", folder)
    assert not any(p.name.startswith("single_face") or ".partial" in p.name for p in folder.iterdir())


class CrashingTracker(FaceTracker):
    """The embedded tracker, crashing on its 20th frame (the face stage, on the caller's thread)."""

    layout = MEDIAPIPE_478

    def __init__(self) -> None:
        self.inner = Pipeline(progress=False).face_tracker
        self.frames = 0

    def track(self, image: np.ndarray, timestamp: float) -> TrackedFace | None:
        self.frames += 1
        if self.frames == 20:
            raise RuntimeError("simulated crash")
        return self.inner.track(image, timestamp)


class CrashingAUs(AUModel):
    """An AU model crashing on its 5th batch (the AU thread)."""

    name = "crashing"
    labels = {"mean": ("mean",)}
    batch_size = 2

    def __init__(self) -> None:
        self.batches = 0

    def predict(self, items: list[np.ndarray]) -> AUPrediction:
        self.batches += 1
        if self.batches == 5:
            raise RuntimeError("simulated crash")
        return AUPrediction({"mean": np.array([[float(c.mean())] for c in items])}, dict(self.labels))


@pytest.mark.parametrize("where", ["face stage", "AU thread"])
def test_crash_mid_video_leaves_no_finished_looking_file(tmp_path: Path, where: str) -> None:
    parts: dict[str, object] = {"face": CrashingTracker()} if where == "face stage" else {"au_model": CrashingAUs()}
    with pytest.raises(RuntimeError, match="simulated crash"):
        Pipeline(**parts, outputs=FAST, progress=False).run(ROOT / "examples" / "single_face.mp4", tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_old_keyword_arguments_still_work_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning) as caught:
        old = Pipeline(quality="fast", hold_seconds=1.0, progress=False)
    assert {str(w.message).split(": use ")[1] for w in caught} == {
        "Pipeline(outputs=Outputs(quality=...))",
        "Pipeline(mirroring=Mirroring(hold_seconds=...))",
    }
    assert old.outputs.quality == "fast" and old.mirroring.hold_seconds == 1.0
    with pytest.warns(DeprecationWarning, match="Runtime"):
        assert Pipeline("onnx", progress=False).runtime.backend == "onnx"  # the old positional backend
        assert Pipeline(["onnx", "litert"], progress=False).runtime.backend == ("onnx", "litert")  # as a list
    # the hold time lives in one place: a smoothing object's hold is used, not silently replaced
    with pytest.warns(DeprecationWarning):
        assert Pipeline(smoothing=SmoothingParams(hold_seconds=1.0)).mirroring.smoothing.hold_seconds == 1.0
    with pytest.raises(ValueError, match="hold_seconds"), pytest.warns(DeprecationWarning):
        Pipeline(smoothing=SmoothingParams(hold_seconds=1.0), hold_seconds=0.5)
    assert Pipeline(mirroring=Mirroring(hold_seconds=1.0)).mirroring.smoothing.hold_seconds == 1.0


# --- AUs ----------------------------------------------------------------------


def test_extract_aus_face_leaving(pipeline: Pipeline, tmp_path: Path) -> None:
    result = pipeline.extract_aus(shared_media("face_noface.mov"), tmp_path / "face_noface.csv")
    table = rows(result.outputs["csv"])
    assert [int(r["frame"]) for r in table] == list(range(1, 170))
    success = [r["success"] for r in table]
    assert success[0] == "1" and success[-1] == "0"
    assert sum(s == "1" for s in success) == result.landmark_sources.get("detected", 0) + result.landmark_sources.get(
        "tracked", 0
    )
    for r in table:
        assert (r["bs_jawOpen"] == "") == (r["success"] == "0")


def test_blendshapes_are_plausible_on_the_smiling_face(pipeline: Pipeline) -> None:
    import cv2

    from facemirror.models.blendshapes import BLENDSHAPE_NAMES, Blendshapes

    landmarker = pipeline.face_tracker.landmarker  # type: ignore[attr-defined]
    face = landmarker.process_image(cv2.imread(str(ROOT / "tests" / "data" / "single_face.jpg")))
    assert face is not None
    scores = dict(zip(BLENDSHAPE_NAMES, Blendshapes.from_weights().predict(face.landmarks)))
    assert scores["mouthSmileLeft"] > 0.5 and scores["mouthSmileRight"] > 0.5
    assert scores["mouthFrownLeft"] < 0.2 and scores["eyeBlinkLeft"] < 0.5


def _single_face_clip(path: Path, rotation: int, frames: int = 30) -> Path:
    """The first frames of single_face.mp4, stored turned a quarter counter-clockwise when ``rotation``
    (270) and turned back by the display matrix."""
    images = decoded(ROOT / "examples" / "single_face.mp4")[:frames]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"crf": "12", "preset": "ultrafast"})
        h, w = images[0].shape[:2]
        stream.width, stream.height = (h, w) if rotation else (w, h)
        stream.pix_fmt = "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(images):
            stored = np.ascontiguousarray(np.rot90(image, k=1)) if rotation else image
            frame = av.VideoFrame.from_ndarray(stored, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_rotated_container_gives_the_same_aus(pipeline: Pipeline, tmp_path: Path) -> None:
    upright = pipeline.extract_aus(_single_face_clip(tmp_path / "upright.mp4", 0), tmp_path / "upright.csv")
    rotated = pipeline.extract_aus(_single_face_clip(tmp_path / "rotated.mp4", 270), tmp_path / "rotated.csv")
    assert rotated.video.rotation == 270 and (rotated.video.width, rotated.video.height) == (640, 360)
    a, b = rows(upright.outputs["csv"]), rows(rotated.outputs["csv"])
    assert len(a) == len(b) == 30
    cols = [c for c in a[0] if c.startswith("bs_")] + ["ear_left", "ear_right", "AU45_r"]
    diff = np.array([[float(ra[c]) - float(rb[c]) for c in cols] for ra, rb in zip(a, b)])
    worst = np.abs(diff).max(axis=0)
    # the two files are separate lossy encodes: single blendshapes of the plain mesh move by up to ~0.13 on a frame
    assert np.abs(diff).mean() < 0.01 and worst.max() < 0.2, sorted(zip(worst.round(3), cols))[-4:]


def test_rotated_container_gives_the_same_mirrored_videos(pipeline: Pipeline, tmp_path: Path) -> None:
    # the mirrored planes of a rotated phone video are turned upright before the reflection
    upright = pipeline.mirror(_single_face_clip(tmp_path / "upright.mp4", 0), tmp_path / "a")
    rotated = pipeline.mirror(_single_face_clip(tmp_path / "rotated.mp4", 270), tmp_path / "b")
    for side in ("left", "right"):
        a, b = decoded(upright.outputs[side]), decoded(rotated.outputs[side])
        assert len(a) == len(b) == 30 and a[0].shape == b[0].shape == (360, 640, 3)
        # two lossy encodes of the same pictures, each mirrored across its own (equal) midline
        assert np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]) < 2.0
    ends = [
        [[float(r[c]) for c in ("midline_x1", "midline_x2")] for r in rows(job.outputs["midline_csv"])]
        for job in (upright, rotated)
    ]
    assert np.abs(np.subtract(*ends)).max() < 0.5


def test_run_equals_mirror_then_extract_aus(tmp_path: Path) -> None:
    """One pass (run) gives what extract_aus gives on the written mirrored videos, within codec noise.

    Both with the flip-averaged mesh (extract_aus runs the plain mesh unless asked, which moves single
    blendshapes by up to ~0.3 on a frame).
    """
    pipeline = Pipeline(tracking=Tracking(symmetric_landmarks=True), outputs=FAST, progress=False)
    result = pipeline.run(ROOT / "examples" / "single_face.mp4", tmp_path / "run")
    assert result.au_model == "blendshapes"
    for side in ("left", "right"):
        one_pass = rows(result.outputs[f"{side}_csv"])
        two_pass = rows(pipeline.extract_aus(result.outputs[side], tmp_path / f"{side}.csv").outputs["csv"])
        assert len(one_pass) == len(two_pass) == 72
        assert all(a["success"] == b["success"] == "1" for a, b in zip(one_pass, two_pass))
        cols = [c for c in one_pass[0] if c.startswith("bs_")] + ["ear_left", "ear_right"]
        diff = np.array([[float(a[c]) - float(b[c]) for c in cols] for a, b in zip(one_pass, two_pass)])
        assert np.abs(diff).mean() < 0.02, np.abs(diff).mean()
        assert np.abs(diff).max() < 0.25
        # a mirrored face is symmetric: both eyes are the same eye
        ears = np.array([[float(r["ear_left"]), float(r["ear_right"])] for r in one_pass])
        np.testing.assert_allclose(ears[:, 0], ears[:, 1], atol=0.02)


# --- OpenFace 3.0 (random weights in the official layout) ------------------


@pytest.fixture(scope="module")
def mtl_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch", reason="the torch extra is part of the test install")
    from fixtures_mtl import mtl_state, write_mtl_checkpoint

    return write_mtl_checkpoint(tmp_path_factory.mktemp("mtl") / "MTL_backbone.pth", mtl_state())


def test_run_with_openface3_writes_mtl_aus(mtl_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facemirror.models.mtl import AU_NAMES

    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path / "cache"))
    p = Pipeline(
        au_model="openface3",
        runtime=Runtime(weights={"mtl": str(mtl_weights)}),
        outputs=Outputs(quality="fast", debug_video=False),
        progress=False,
    )
    result: JobResult = p.run(ROOT / "examples" / "single_face.mp4", tmp_path / "out")
    assert result.au_model == "openface3"
    assert result.engines["mtl"]["model"] == "mtl"
    table = rows(result.outputs["left_csv"])
    assert len(table) == 72
    for r in table:
        for au in AU_NAMES:
            p_value = float(r[f"{au}_p"])
            assert 0.0 <= p_value <= 1.0
            assert r[f"{au}_c"] == str(int(p_value >= 0.5))
            assert r[f"{au}_r"] == ""  # MTL gives occurrence scores, not intensities
        assert r["emotion_happy_p"] != "" and r["gaze_yaw"] != "" and r["gaze_angle_x"] != ""
        assert r["AU45_r"] != ""  # blink from the eye landmarks
    df = result.to_dataframe("left")
    assert len(df) == 72 and "AU12_p" in df.columns
    sidecar = json.loads(Path(f"{result.outputs['left_csv']}.json").read_text())
    mtl = next(m for m in sidecar["models"] if m["name"] == "mtl")
    import hashlib

    assert mtl["sha256"] == hashlib.sha256(mtl_weights.read_bytes()).hexdigest()


def test_missing_openface_weights_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(WeightsMissingError, match=r"facemirror weights fetch mtl"):
        Pipeline(au_model="openface3", progress=False).extract_aus(
            ROOT / "examples" / "single_face.mp4", tmp_path / "x.csv"
        )
    assert not (tmp_path / "x.csv").exists()


def test_flip_every_reaches_the_landmarker_and_is_checked_at_once() -> None:
    tracker = Pipeline(tracking=Tracking(flip_every=3), progress=False).face_tracker
    assert tracker.landmarker.flip_every == 3  # type: ignore[attr-defined]
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="flip_every"):
            Tracking(flip_every=bad)  # type: ignore[arg-type]
