"""STAR 98-point landmarks: layout, crop/decoding conventions, loading errors, torch/ONNX parity and batching.

The network is heavy (~0.3 s per crop on CPU): the whole file runs four
forward passes on the torch backend and one batch on ONNX Runtime.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is part of the test install")
pytest.importorskip("onnx", reason="the torch extra (with onnx) is part of the test install")

from checkpoint_fixtures import BROKEN_CASES, Breakage, assert_load_fails  # noqa: E402
from facemirror.errors import WeightsError, WeightsMissingError  # noqa: E402
from facemirror.models.base import Face  # noqa: E402
from facemirror.models.nets.star_net import StackedHGNetV1, coord_channels  # noqa: E402
from facemirror.models.star import STAR, crop_matrix, denormalize, to_frame  # noqa: E402
from fixtures_retinaface import write_retinaface_checkpoint  # noqa: E402
from fixtures_star import star_state, write_star_checkpoint  # noqa: E402

BOXES = np.array([[40.5, 30.2, 150.9, 170.0], [100.0, 60.0, 190.0, 140.0]], np.float32)


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Converted ONNX files go to a throw-away cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_star_checkpoint(tmp_path_factory.mktemp("star") / "Landmark_98.pkl")


@pytest.fixture(scope="module")
def torch_star(ckpt: Path) -> STAR:
    return STAR.from_weights(ckpt, backend="torch")


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    rng = np.random.default_rng(7)
    return cv2.GaussianBlur(rng.integers(0, 256, (200, 240, 3), dtype=np.uint8), (9, 9), 3)


@pytest.fixture(scope="module")
def batch_inputs(torch_star: STAR, frame: np.ndarray) -> dict[str, np.ndarray]:
    return torch_star.preprocess(frame, list(BOXES))


@pytest.fixture(scope="module")
def torch_outputs(torch_star: STAR, batch_inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The one torch forward pass at batch 2 that the batching and parity tests share."""
    return torch_star.forward(batch_inputs)


# --- network layout ------------------------------------------------------------


def test_state_dict_matches_the_official_checkpoint_counts() -> None:
    net = StackedHGNetV1()
    state = net.state_dict()
    assert len(state) == 1450
    assert sum(p.numel() for p in net.parameters()) == 17_177_332
    assert sum(v.numel() for v in state.values()) == 17_239_678
    shapes = {
        "pre.0.conv.weight": (64, 6, 7, 7),
        "pre.0.bn.running_var": (64,),
        "pre.1.skip_layer.conv.weight": (128, 64, 1, 1),
        "hgs.0.coordconv.conv.weight": (256, 259, 1, 1),
        "hgs.1.coordconv.conv.weight": (256, 261, 1, 1),
        "hgs.0.up1.conv2.conv.weight": (128, 128, 3, 3),
        "hgs.3.low2.low2.low2.low2.conv3.conv.weight": (256, 128, 1, 1),
        "hgs.2.up1.skip_layer.conv.weight": (256, 256, 1, 1),  # present although unused
        "features.3.1.conv.weight": (256, 256, 1, 1),
        "out_heatmaps.3.conv.weight": (98, 256, 1, 1),
        "out_edgemaps.0.conv.weight": (9, 256, 1, 1),
        "merge_pointmaps.2.conv.weight": (256, 98, 1, 1),
        "e2h_transform.weight": (98, 9, 1, 1),
        "e2h_transform.bias": (98,),
    }
    assert {k: tuple(state[k].shape) for k in shapes} == shapes


def test_e2h_buffers_are_the_wflw_edge_matrix() -> None:
    state = StackedHGNetV1().state_dict()
    weight = state["e2h_transform.weight"][..., 0, 0]
    assert set(weight.unique().tolist()) == {0.0, 1.0}
    assert weight.sum(1)[:96].eq(1).all() and weight[96:].sum() == 0  # each point on one edge; pupils on none
    assert torch.nonzero(state["e2h_transform.bias"]).flatten().tolist() == [96, 97]
    assert weight[60:68, 5].eq(1).all() and weight[68:76, 6].eq(1).all()  # the two eye rings


def test_coord_channels_follow_star() -> None:
    """STAR's "xx" channel varies along rows (H), "yy" along columns; r is normalised to max 1."""
    c = coord_channels(64)[0]
    ramp = torch.linspace(-1, 1, 64)
    torch.testing.assert_close(c[0, :, 5], ramp)
    torch.testing.assert_close(c[0, 5, :], torch.full((64,), float(ramp[5])))
    torch.testing.assert_close(c[1, 5, :], ramp)
    assert float(c[2].max()) == 1.0 and float(c[2, 0, 0]) == 1.0


# --- crop and decoding ------------------------------------------------------------


def test_crop_matrix_centres_the_truncated_box() -> None:
    m = crop_matrix([40.9, 30.2, 150.9, 170.7])  # -> ints 40, 30, 150, 170: w 110, h 140
    s = 256 / (110 / 200 * 1.05 * 200)
    assert m.dtype == np.float32
    np.testing.assert_allclose(m[:2, :2], np.diag([s, s]), rtol=1e-6)
    np.testing.assert_allclose(m[:2] @ [95.0, 100.0, 1.0], [127.5, 127.5], atol=1e-4)


def test_denormalize_uses_align_corners_false() -> None:
    np.testing.assert_allclose(denormalize(np.array([[-1.0, 1.0], [0.0, 0.0]])), [[-0.5, 255.5], [127.5, 127.5]])


def test_zero_output_maps_to_the_box_centre(torch_star: STAR) -> None:
    faces = [Face(box=BOXES[0], score=1.0), BOXES[1]]
    points = torch_star.postprocess({"landmarks": np.zeros((2, 98, 2), np.float32)}, faces)
    assert points.shape == (2, 98, 2) and points.dtype == np.float32
    np.testing.assert_allclose(points[0], np.tile([(40 + 150) / 2, (30 + 170) / 2], (98, 1)), atol=1e-3)
    np.testing.assert_allclose(points[1], np.tile([145.0, 100.0], (98, 1)), atol=1e-3)
    corner = to_frame(denormalize(np.array([[-1.0, -1.0]])), crop_matrix(BOXES[1]))
    scale = 80 / 200 * 1.05 * 200 / 256  # frame pixels per crop pixel
    np.testing.assert_allclose(corner[0], [145 - 128 * scale, 100 - 128 * scale], atol=1e-3)


def test_preprocess_keeps_bgr_and_maps_to_minus_one_one(torch_star: STAR) -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[..., 0] = 255  # pure blue in BGR
    x = torch_star.preprocess(image, [np.array([0, 0, 100, 100])])["input"]  # the crop spans 210 frame pixels
    assert x.shape == (1, 3, 256, 256) and x.dtype == np.float32
    assert x[0, :, 128, 128].tolist() == [1.0, -1.0, -1.0]
    assert x[0, :, 0, 0].tolist() == [-1.0, -1.0, -1.0]  # border outside the frame is black


# --- loading ----------------------------------------------------------------------


BREAKAGE = Breakage(
    missing="e2h_transform.bias",
    extra="hgs.4.up1.bn1.weight",
    misshapen="out_edgemaps.2.conv.bias",
    shape=(9,),
    foreign=write_retinaface_checkpoint,
    foreign_error=WeightsError,
    foreign_names=("unexpected tensors: body.stage1.0.0.weight",),
    container="net",
    suffix=".pkl",
)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, ckpt: Path) -> dict[str, Path]:
    return BREAKAGE.write(ckpt, star_state(), tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("case", BROKEN_CASES)
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_bad_checkpoints_raise_weights_errors(broken: dict[str, Path], backend: str, case: str) -> None:
    assert_load_fails(lambda p: STAR.from_weights(p, backend=backend), broken[case], *BREAKAGE.expected(case))


def test_missing_manifest_weights_say_how_to_get_them() -> None:
    with pytest.raises(WeightsMissingError, match="facemirror weights fetch star"):
        STAR.from_weights()


# --- backends and batching -----------------------------------------------------------


def test_batch_of_two_equals_two_singles(
    torch_star: STAR, frame: np.ndarray, torch_outputs: dict[str, np.ndarray]
) -> None:
    batch = torch_star.postprocess(torch_outputs, list(BOXES))
    assert batch.shape == (2, 98, 2) and np.isfinite(batch).all()
    for k, box in enumerate(BOXES):
        np.testing.assert_allclose(torch_star.predict(frame, box), batch[k], atol=1e-3)
    # the random network still puts points near its crop, not at the box centre only
    assert batch[0].std(0).min() > 1.0
    assert torch_star.predict_batch(frame, []).shape == (0, 98, 2)


def test_onnx_matches_torch_at_batch_two(
    ckpt: Path, batch_inputs: dict[str, np.ndarray], torch_outputs: dict[str, np.ndarray]
) -> None:
    onnx_star = STAR.from_weights(ckpt, backend="onnx")
    assert onnx_star.engine_info.backend == "onnx"
    a = torch_outputs["landmarks"]
    b = onnx_star.forward(batch_inputs)["landmarks"]
    assert a.shape == b.shape == (2, 98, 2)
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * np.abs(a).max())
