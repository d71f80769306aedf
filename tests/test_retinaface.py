"""RetinaFace MobileNet-0.25: layout, priors, decoding, loading errors, backend parity, and real-weight detections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is part of the test install")
pytest.importorskip("onnx", reason="the torch extra (with onnx) is part of the test install")

from checkpoint_fixtures import BROKEN_CASES, Breakage, assert_load_fails  # noqa: E402
from facemirror.errors import WeightsCorruptError, WeightsMissingError  # noqa: E402
from facemirror.models.base import Face  # noqa: E402
from facemirror.models.nets.retinaface_net import RetinaFaceNet  # noqa: E402
from facemirror.models.retinaface import RetinaFace, decode_boxes, nms, priors  # noqa: E402
from fixtures_retinaface import MEDIA, REAL_WEIGHTS, retinaface_state, write_retinaface_checkpoint  # noqa: E402
from fixtures_star import write_star_checkpoint  # noqa: E402

REFERENCE = Path(__file__).parent / "data" / "retinaface_reference.json"
needs_real = pytest.mark.skipif(
    not REAL_WEIGHTS.is_file(), reason=f"real RetinaFace weights not found at {REAL_WEIGHTS}"
)
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}")


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Converted ONNX files go to a throw-away cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def random_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_retinaface_checkpoint(tmp_path_factory.mktemp("rf") / "retinaface_random.pth")


@pytest.fixture(scope="module")
def real() -> dict[str, RetinaFace]:
    if not REAL_WEIGHTS.is_file():
        pytest.skip(f"real RetinaFace weights not found at {REAL_WEIGHTS}")
    return {b: RetinaFace.from_weights(REAL_WEIGHTS, backend=b) for b in ("torch", "onnx")}


def _image(name: str) -> np.ndarray:
    image = cv2.imread(str(MEDIA / name), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {MEDIA / name}"
    return image


# --- network layout ------------------------------------------------------------


def test_state_dict_layout_matches_the_official_checkpoint() -> None:
    state = RetinaFaceNet().state_dict()
    assert len(state) == 300
    assert sum(p.numel() for p in RetinaFaceNet().parameters()) == 426_608
    assert sum(v.numel() for v in state.values()) == 433_343
    shapes = {
        "body.stage1.0.0.weight": (8, 3, 3, 3),
        "body.stage1.1.0.weight": (8, 1, 3, 3),
        "body.stage3.1.3.weight": (256, 256, 1, 1),
        "fpn.merge1.0.weight": (64, 64, 3, 3),
        "ssh1.conv3X3.0.weight": (32, 64, 3, 3),
        "ssh1.conv7X7_2.0.weight": (16, 16, 3, 3),
        "ssh3.conv7x7_3.1.running_mean": (16,),
        "ClassHead.0.conv1x1.weight": (4, 64, 1, 1),
        "BboxHead.2.conv1x1.weight": (8, 64, 1, 1),
        "LandmarkHead.1.conv1x1.bias": (20,),
    }
    assert {k: tuple(state[k].shape) for k in shapes} == shapes
    if REAL_WEIGHTS.is_file():
        real = torch.load(REAL_WEIGHTS, map_location="cpu", weights_only=True)
        assert {k: tuple(v.shape) for k, v in real.items()} == {k: tuple(v.shape) for k, v in state.items()}


def test_priors_layout() -> None:
    anchors = priors(640, 640)
    assert anchors.shape == (16800, 4) and anchors.dtype == np.float32
    # first cell of stride 8: two anchors (16 and 32 px) centred at (4, 4)
    np.testing.assert_allclose(anchors[:2] * 640, [[4, 4, 16, 16], [4, 4, 32, 32]], atol=1e-4)
    # last anchor: stride 32, bottom-right cell, 512 px
    np.testing.assert_allclose(anchors[-1] * 640, [624, 624, 512, 512], atol=1e-3)
    # row-major cell order: the third anchor is the next column
    np.testing.assert_allclose(anchors[2, :2] * 640, [12, 4], atol=1e-4)


@pytest.mark.parametrize("size", [(250, 333), (97, 131)])
def test_network_outputs_one_row_per_prior(size: tuple[int, int]) -> None:
    net = RetinaFaceNet().eval()
    with torch.no_grad():
        loc, conf, landms = net(torch.zeros(1, 3, *size))
    assert loc.shape[1] == conf.shape[1] == landms.shape[1] == len(priors(*size))
    np.testing.assert_allclose(conf.sum(-1).numpy(), 1.0, atol=1e-6)  # test-phase softmax


# --- decoding -------------------------------------------------------------------


def test_decode_zero_offsets_gives_the_anchor_box() -> None:
    anchors = np.array([[0.5, 0.25, 0.1, 0.2]], np.float32)
    np.testing.assert_allclose(
        decode_boxes(np.zeros((1, 4), np.float32), anchors), [[0.45, 0.15, 0.55, 0.35]], atol=1e-7
    )


def test_nms_uses_the_plus_one_area_convention() -> None:
    boxes = np.array([[0, 0, 9, 9], [5, 0, 14, 9]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    # IoU is 50/150 = 0.333 with +1 areas (0.286 without): suppressed at 0.3
    assert nms(boxes, scores, 0.3).tolist() == [0]
    assert nms(boxes, scores, 0.34).tolist() == [0, 1]


def _one_anchor_outputs(height: int, width: int, index: int, loc: list[float]) -> dict[str, np.ndarray]:
    n = len(priors(height, width))
    conf = np.zeros((1, n, 2), np.float32)
    conf[..., 0] = 1
    conf[0, index] = [0.1, 0.9]
    locs = np.zeros((1, n, 4), np.float32)
    locs[0, index] = loc
    return {"loc": locs, "conf": conf, "landms": np.zeros((1, n, 10), np.float32)}


def test_capped_frames_map_back_and_boxes_clip(random_ckpt: Path) -> None:
    model = RetinaFace.from_weights(random_ckpt, backend="torch", max_size=640)
    assert model.input_size(1080, 1920) == (360, 640)
    assert model.input_size(480, 640) == (480, 640)
    # the last anchor (512 px, bottom-right) of a 360x640 input, shifted right so the box leaves the frame
    index = len(priors(360, 640)) - 1
    outputs = _one_anchor_outputs(360, 640, index, [5.0, 0, 0, 0])
    anchor = priors(360, 640)[index] * np.array([640, 360, 640, 360])
    cx = anchor[0] + 5.0 * 0.1 * anchor[2]
    unclipped = RetinaFace(model.engine, max_size=640, clip=False).detections(outputs, (1080, 1920))[0]
    assert len(unclipped) == 1
    np.testing.assert_allclose(unclipped[0, [0, 2]], np.array([cx - 256, cx + 256]) * 3, rtol=1e-5)
    np.testing.assert_allclose(unclipped[0, [1, 3]], np.array([anchor[1] - 256, anchor[1] + 256]) * 3, rtol=1e-5)
    np.testing.assert_allclose(unclipped[0, 5:7], [anchor[0] * 3, anchor[1] * 3], rtol=1e-5)  # keypoints too
    clipped = model.detections(outputs, (1080, 1920))[0]
    assert clipped[0, 2] == 1920 and clipped[0, 3] == 1080 and clipped[0, 0] == unclipped[0, 0]


def test_preprocess_subtracts_the_bgr_mean(random_ckpt: Path) -> None:
    model = RetinaFace.from_weights(random_ckpt, backend="torch", max_size=None)
    image = np.zeros((5, 7, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 10, 120, 250
    x = model.preprocess(image)["input"]
    assert x.shape == (1, 3, 5, 7) and x.dtype == np.float32
    assert x[0, :, 0, 0].tolist() == [10 - 104, 120 - 117, 250 - 123]


# --- loading --------------------------------------------------------------------


BREAKAGE = Breakage(
    missing="ssh2.conv7X7_2.1.running_var",
    extra="ssh2.conv7x7_4.weight",
    misshapen="LandmarkHead.1.conv1x1.bias",
    shape=(20,),
    foreign=write_star_checkpoint,
    foreign_error=WeightsCorruptError,
    foreign_names=("entry 'net' is not a tensor",),
)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, random_ckpt: Path) -> dict[str, Path]:
    return BREAKAGE.write(random_ckpt, retinaface_state(), tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("case", BROKEN_CASES)
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_bad_checkpoints_raise_weights_errors(broken: dict[str, Path], backend: str, case: str) -> None:
    assert_load_fails(lambda p: RetinaFace.from_weights(p, backend=backend), broken[case], *BREAKAGE.expected(case))


def test_missing_manifest_weights_say_how_to_get_them() -> None:
    with pytest.raises(WeightsMissingError, match="facemirror weights fetch retinaface"):
        RetinaFace.from_weights()


def test_an_onnx_path_loads_directly(random_ckpt: Path) -> None:
    exported = Path(RetinaFace.from_weights(random_ckpt, backend="onnx").engine_info.source)
    assert exported.suffix == ".onnx" and exported.is_file()
    direct = RetinaFace.from_weights(exported, backend="onnx")
    assert direct.engine_info.source == str(exported)
    frame = _frames(1, 64, 80, seed=1)[0]
    a, b = (m.forward(m.preprocess(frame)) for m in (RetinaFace.from_weights(random_ckpt, backend="torch"), direct))
    np.testing.assert_allclose(b["conf"], a["conf"], atol=1e-4)


# --- backends and batching (random weights) -------------------------------------


def _frames(n: int, height: int, width: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(n)]


def test_torch_and_onnx_agree_with_dynamic_sizes(random_ckpt: Path) -> None:
    models = {b: RetinaFace.from_weights(random_ckpt, backend=b) for b in ("torch", "onnx")}
    assert models["onnx"].engine_info.backend == "onnx" and models["torch"].engine_info.backend == "torch"
    for height, width in [(120, 160), (97, 203)]:
        inputs = models["torch"].preprocess_batch(_frames(2, height, width, seed=height))
        a, b = (models[k].forward(inputs) for k in ("torch", "onnx"))
        for name in ("loc", "conf", "landms"):
            assert a[name].shape == b[name].shape == (2, len(priors(height, width)), a[name].shape[2])
            np.testing.assert_allclose(b[name], a[name], rtol=1e-4, atol=1e-4 * np.abs(a[name]).max())


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_batch_equals_singles(random_ckpt: Path, backend: str) -> None:
    model = RetinaFace.from_weights(random_ckpt, backend=backend, score_threshold=0.0)
    frames = _frames(3, 90, 130, seed=3)
    batched = model.forward(model.preprocess_batch(frames))
    for k, frame in enumerate(frames):
        single = model.forward(model.preprocess(frame))
        for name, value in single.items():
            np.testing.assert_allclose(batched[name][k : k + 1], value, rtol=1e-5, atol=1e-5)
    faces = model.detect_batch(frames)
    assert len(faces) == 3 and all(isinstance(f, Face) for per in faces for f in per)
    assert model.detect_batch([]) == []
    with pytest.raises(ValueError, match="one size"):
        model.detect_batch([frames[0], np.zeros((10, 10, 3), np.uint8)])


# --- real weights -----------------------------------------------------------------


def _assert_face_geometry(face: Face) -> None:
    """Keypoints inside the box, in RetinaFace order: eyes above nose above mouth, image-left first."""
    x1, y1, x2, y2 = face.box
    kp = face.keypoints
    assert kp.shape == (5, 2)
    assert np.all((kp[:, 0] > x1) & (kp[:, 0] < x2) & (kp[:, 1] > y1) & (kp[:, 1] < y2))
    left_eye, right_eye, nose, mouth_left, mouth_right = kp
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


@needs_real
@needs_media
@pytest.mark.parametrize(("name", "count"), [("single_face.jpg", 1), ("multi_face.jpg", 5)])
def test_real_weights_find_every_face(real: dict[str, RetinaFace], name: str, count: int) -> None:
    image = _image(name)
    per_backend = {b: m.detect(image) for b, m in real.items()}
    for faces in per_backend.values():
        assert len(faces) == count
        for face in faces:
            assert face.score >= 0.5
            _assert_face_geometry(face)
    for a, b in zip(per_backend["torch"], per_backend["onnx"]):
        np.testing.assert_allclose(b.box, a.box, atol=0.05)
        np.testing.assert_allclose(b.keypoints, a.keypoints, atol=0.05)
        assert abs(a.score - b.score) < 1e-4


@needs_real
@needs_media
def test_full_resolution_equals_the_reference_pipeline() -> None:
    """``max_size=None, clip=False`` reproduces biubug6/OpenFace 3.0's detect_faces rows (recorded in tests/data)."""
    reference = json.loads(REFERENCE.read_text())
    model = RetinaFace.from_weights(REAL_WEIGHTS, backend="torch", max_size=None, clip=False)
    for name in ("single_face.jpg", "multi_face.jpg"):
        image = _image(name)
        rows = model.detections(model.forward(model.preprocess(image)), image.shape)[0]
        expected = np.asarray(reference[name], np.float32)
        assert rows.shape == expected.shape
        np.testing.assert_allclose(rows, expected, atol=1e-3)


@needs_real
@needs_media
def test_no_face_video_gives_no_detections(real: dict[str, RetinaFace]) -> None:
    av = pytest.importorskip("av")
    with av.open(str(MEDIA / "no_face.mp4")) as container:
        frames = [f.to_ndarray(format="bgr24") for k, f in enumerate(container.decode(video=0)) if k % 12 == 0]
    assert len(frames) >= 8
    for backend, model in real.items():
        assert [len(faces) for faces in model.detect_batch(frames)] == [0] * len(frames), backend


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@needs_real
@needs_media
def test_face_filling_a_1080p_frame_needs_the_size_cap(real: dict[str, RetinaFace]) -> None:
    """A face ~1000 px tall exceeds the 512 px anchors: only the downscaled frame finds it whole.

    At full resolution the detector returns parts of the face (boxes about half
    its size around eyes, mouth, cheek), none of which covers the face.
    """
    photo = _image("single_face.jpg")
    frame = cv2.resize(photo[140:400, 53:515], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    capped = real["torch"].detect(frame)
    assert len(capped) == 1 and capped[0].height > 900
    _assert_face_geometry(capped[0])
    full = RetinaFace(real["torch"].engine, max_size=None).detect(frame)
    assert all(_iou(f.box, capped[0].box) < 0.5 for f in full)


@needs_real
@needs_media
def test_fp16_onnx_stays_within_half_a_pixel(real: dict[str, RetinaFace]) -> None:
    """fp16 weights/compute (softmax and exp kept fp32): measured 0.05 px / 1e-5 score on these photos; bound 0.5 px."""
    fp16 = RetinaFace.from_weights(REAL_WEIGHTS, backend="onnx", precision="fp16")
    assert fp16.engine_info.precision == "fp16"
    for name in ("single_face.jpg", "multi_face.jpg"):
        image = _image(name)
        a, b = real["onnx"].detect(image), fp16.detect(image)
        assert len(a) == len(b)
        for fa, fb in zip(a, b):
            np.testing.assert_allclose(fb.box, fa.box, atol=0.5)
            np.testing.assert_allclose(fb.keypoints, fa.keypoints, atol=0.5)
            assert abs(fa.score - fb.score) < 1e-3
