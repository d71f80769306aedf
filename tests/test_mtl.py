"""MTL (OpenFace 3.0 multitask network): layout, loading, preprocessing, labels, torch/ONNX parity, batching."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import torch.nn.functional as F  # noqa: E402

import fixtures_mtl  # noqa: E402
from checkpoint_fixtures import BROKEN_CASES, Breakage, assert_load_fails  # noqa: E402
from facemirror.errors import NoFaceError, WeightsError  # noqa: E402
from facemirror.models.base import Face, crop_box  # noqa: E402
from facemirror.models.mtl import AU_NAMES, EMOTION_NAMES, GAZE_NAMES, MTL  # noqa: E402
from facemirror.models.nets.mtl_net import MTLNet, SameConv2d, same_padding  # noqa: E402
from facemirror.models.resample import resize_bilinear_antialias, resize_pil_bilinear  # noqa: E402
from fixtures_retinaface import write_retinaface_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def state() -> dict:
    return fixtures_mtl.mtl_state()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, state: dict) -> Path:
    return fixtures_mtl.write_mtl_checkpoint(tmp_path_factory.mktemp("mtl") / "MTL_backbone.pth", state)


@pytest.fixture(scope="module")
def torch_model(checkpoint: Path) -> Iterator[MTL]:
    # one intra-op thread: torch's spinning OpenMP pool slows down badly on a shared 2-core machine
    threads = torch.get_num_threads()
    yield MTL.from_weights(checkpoint, backend="torch", threads=1)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def onnx_model(checkpoint: Path, onnx_cache: Path) -> MTL:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACEMIRROR_CACHE", str(onnx_cache))
        return MTL.from_weights(checkpoint, backend="onnx", threads=2)


def test_cached_onnx_runs_without_importing_torch(onnx_model: MTL, checkpoint: Path, onnx_cache: Path) -> None:
    """Once exported, the checkpoint's ONNX loads without torch (its import alone costs hundreds of MB)."""
    code = (
        "import sys; import numpy as np; from facemirror.models.mtl import MTL; "
        f"m = MTL.from_weights({str(checkpoint)!r}, backend='onnx'); "
        "m.predict([np.zeros((50, 40, 3), np.uint8)]); "
        "print(m.engine.info.backend, 'torch' in sys.modules)"
    )
    env = {**os.environ, "FACEMIRROR_CACHE": str(onnx_cache)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["onnx", "False"]


def _crops(n: int, seed: int = 1) -> list[np.ndarray]:
    """Smooth random BGR crops of assorted sizes (smaller and larger than 224)."""
    rng = np.random.default_rng(seed)
    sizes = [(150, 120), (224, 224), (301, 257), (90, 200), (400, 310)]
    out = []
    for k in range(n):
        h, w = sizes[k % len(sizes)]
        small = rng.integers(0, 256, (h // 10 + 2, w // 10 + 2, 3), dtype=np.uint8)
        big = torch.from_numpy(small).permute(2, 0, 1)[None].float()
        out.append(F.interpolate(big, size=(h, w), mode="bilinear")[0].permute(1, 2, 0).round().byte().numpy())
    return out


# --- network layout ---------------------------------------------------------


def test_layout_matches_official_checkpoint() -> None:
    net = MTLNet()
    sd = net.state_dict()
    assert len(sd) == 394
    assert sum(p.numel() for p in net.parameters()) == 25_346_454
    assert sum(v.numel() for v in sd.values()) == 25_388_536
    expected = {
        "base_model.conv_stem.weight": (32, 3, 3, 3),
        "base_model.bn1.running_var": (32,),
        "base_model.blocks.0.0.se.conv_reduce.weight": (8, 32, 1, 1),
        "base_model.blocks.0.0.conv_pw.weight": (16, 32, 1, 1),
        "base_model.blocks.1.0.conv_dw.weight": (96, 1, 3, 3),
        "base_model.blocks.1.0.se.conv_reduce.weight": (4, 96, 1, 1),
        "base_model.blocks.6.0.bn3.running_mean": (320,),
        "base_model.conv_head.weight": (1280, 320, 1, 1),
        "base_model.bn2.weight": (1280,),
        "fc_emotion.weight": (1280, 1280),
        "emotion_classifier.weight": (8, 1280),
        "gaze_regressor.bias": (2,),
        "au_regressor.class_linears.7.weight": (1280, 1280),
        "au_regressor.gnn.U.weight": (1280, 1280),
        "au_regressor.gnn.bnv.running_var": (8,),
        "au_regressor.sc": (8, 1280),
    }
    assert {k: tuple(sd[k].shape) for k in expected} == expected
    assert all(m.eps == 1e-3 for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pads"),
    [(224, 3, 2, (0, 1)), (225, 3, 2, (1, 1)), (112, 5, 2, (1, 2)), (7, 5, 2, (2, 2)), (14, 3, 1, (1, 1))],
)
def test_same_padding(size: int, kernel: int, stride: int, pads: tuple[int, int]) -> None:
    assert same_padding(size, kernel, stride) == pads


def test_same_conv_pads_asymmetrically_at_stride_two() -> None:
    conv = SameConv2d(1, 1, 3, stride=2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # pad 0 before, 1 after: the first window covers rows/cols 0-2, the second 2-3 plus zero padding
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), torch.ones(1, 1, 3, 3), stride=2)
    assert torch.equal(conv(x), expected)
    assert conv(torch.zeros(1, 1, 5, 5)).shape[-2:] == (3, 3)


# --- loading ------------------------------------------------------------------


def test_random_checkpoint_loads_strictly(torch_model: MTL, state: dict, checkpoint: Path) -> None:
    info = torch_model.engine_info
    assert (info.backend, info.model, info.source) == ("torch", "mtl", str(checkpoint))
    loaded = torch_model.engine.module.state_dict()  # type: ignore[attr-defined]
    assert loaded.keys() == state.keys()
    for key in ("base_model.conv_stem.weight", "au_regressor.sc", "au_regressor.gnn.bnv.running_var"):
        assert torch.equal(loaded[key], state[key])


BREAKAGE = Breakage(
    missing="au_regressor.gnn.U.weight",
    extra="au_regressor.extra.weight",
    misshapen="emotion_classifier.weight",
    shape=(8, 1280),
    foreign=write_retinaface_checkpoint,
    foreign_error=WeightsError,
    foreign_names=("unexpected tensors: body.stage1.0.0.weight", "missing tensors: base_model.conv_stem.weight"),
)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path, state: dict) -> dict[str, Path]:
    return BREAKAGE.write(checkpoint, state, tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("case", BROKEN_CASES)
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_bad_checkpoints_raise_weights_errors(
    broken: dict[str, Path], backend: str, case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path / "cache"))
    assert_load_fails(lambda p: MTL.from_weights(p, backend=backend), broken[case], *BREAKAGE.expected(case))


def test_exported_onnx_loads_directly(onnx_model: MTL) -> None:
    path = Path(onnx_model.engine_info.source)
    assert path.suffix == ".onnx" and path.is_file()
    direct = MTL.from_weights(path, backend="onnx", threads=2)
    assert direct.engine_info.source == str(path)
    crops = _crops(2)
    np.testing.assert_array_equal(direct.predict(crops)["au"], onnx_model.predict(crops)["au"])
    import onnx

    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "TopK" in ops


# --- preprocessing ------------------------------------------------------------


@pytest.mark.parametrize("shape", [(17, 23), (224, 224), (300, 170), (640, 480), (100, 224), (223, 225)])
def test_resize_equals_torch_antialias(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    image = rng.random((*shape, 3), dtype=np.float32)
    ref = F.interpolate(
        torch.from_numpy(image).permute(2, 0, 1)[None],
        size=(224, 224),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0].permute(1, 2, 0)
    out = resize_bilinear_antialias(image, (224, 224))
    assert out.dtype == np.float32 and out.shape == (224, 224, 3)
    np.testing.assert_allclose(out, ref.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "exact"),
    [((17, 23), True), ((170, 300), True), ((1000, 900), True), ((224, 100), True), ((300, 170), False)],
)
def test_pil_resize_equals_pillow(shape: tuple[int, int], exact: bool) -> None:
    """Classic Pillow order (width pass, then height). Recent Pillow (13 here) runs the height pass first
    for some shapes (e.g. height shrinking while width grows), which moves some pixels by one grey level."""
    image_mod = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(shape[0] + shape[1])
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    ref = np.asarray(image_mod.fromarray(image).resize((224, 224), image_mod.BILINEAR)).astype(int)
    out = resize_pil_bilinear(image, (224, 224)).astype(int)
    if exact:
        np.testing.assert_array_equal(out, ref)
    else:
        assert np.abs(out - ref).max() <= 1


def test_preprocess_equals_pip_pipeline(torch_model: MTL) -> None:
    """ToTensor -> Resize((224, 224)) on the tensor (antialias) -> Normalize, as ``multitask_model.py`` does."""
    crop = _crops(3)[2]
    rgb = torch.from_numpy(crop[:, :, ::-1].copy()).permute(2, 0, 1).float().div(255)
    resized = F.interpolate(rgb[None], size=(224, 224), mode="bilinear", align_corners=False, antialias=True)[0]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    ref = ((resized - mean) / std).numpy()
    out = torch_model.preprocess([crop])["image"]
    assert out.shape == (1, 3, 224, 224) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], ref, rtol=0, atol=2e-6)


def test_crop_box_truncates_adds_margin_and_clips() -> None:
    assert crop_box(np.array([10.9, 20.2, 110.7, 220.99, 0.99]), (480, 640)) == (10, 20, 110, 220)
    # demo2.py scale_bbox: +-int(0.15*w), +-int(0.15*h)
    assert crop_box([10, 20, 110, 220], (480, 640), margin=0.15) == (0, 0, 125, 250)
    assert crop_box(Face(box=np.array([600.0, 400.0, 700.0, 500.0]), score=0.9), (480, 640)) == (600, 400, 640, 480)
    # negative coordinates are clipped, not wrapped around as the reference's slicing does
    assert crop_box([-30.5, -5, 50, 60], (480, 640)) == (0, 0, 50, 60)
    with pytest.raises(NoFaceError, match="640x480"):
        crop_box([700, 10, 800, 100], (480, 640))


def test_predict_with_boxes_equals_crops(onnx_model: MTL) -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    boxes = [np.array([10.5, 20.5, 150.2, 200.8, 0.9]), Face(box=np.array([-20.0, 100.0, 330.0, 260.0]), score=0.8)]
    by_box = onnx_model.predict(image, boxes)
    manual = onnx_model.predict([image[20:200, 10:150], image[100:240, 0:320]])
    for name in ("au", "emotion", "gaze"):
        np.testing.assert_array_equal(by_box[name], manual[name])


def test_bad_inputs_raise(torch_model: MTL) -> None:
    with pytest.raises(ValueError, match="uint8"):
        torch_model.predict([np.zeros((50, 50, 3), np.float32)])
    with pytest.raises(ValueError, match="empty"):
        torch_model.predict([np.zeros((0, 50, 3), np.uint8)])
    with pytest.raises(ValueError, match="resize"):
        MTL(torch_model.engine, resize="cubic")


# --- outputs --------------------------------------------------------------------


def test_outputs_shapes_labels_and_ranges(onnx_model: MTL) -> None:
    pred = onnx_model.predict(_crops(3))
    assert len(pred) == 3
    assert pred.labels == {"au": AU_NAMES, "emotion": EMOTION_NAMES, "emotion_prob": EMOTION_NAMES, "gaze": GAZE_NAMES}
    assert {k: v.shape for k, v in pred.values.items()} == {
        "au": (3, 8),
        "emotion": (3, 8),
        "emotion_prob": (3, 8),
        "gaze": (3, 2),
    }
    assert np.all((pred["au"] >= 0) & (pred["au"] <= 1)) and pred["au"].std() > 0
    np.testing.assert_allclose(pred["emotion_prob"].sum(axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(pred["emotion_prob"].argmax(1), pred["emotion"].argmax(1))
    empty = onnx_model.predict([])
    assert len(empty) == 0 and empty["au"].shape == (0, 8)


def test_au_labels_pinned_to_network_outputs(torch_model: MTL) -> None:
    """Only AU prototype j is non-zero -> only the column labelled AU_NAMES[j] responds."""
    assert AU_NAMES == ("AU01", "AU02", "AU04", "AU06", "AU09", "AU12", "AU25", "AU26")
    sc = torch_model.engine.module.au_regressor.sc  # type: ignore[attr-defined]
    original = sc.detach().clone()
    crop = _crops(1)
    try:
        for j, name in enumerate(AU_NAMES):
            with torch.no_grad():
                sc.zero_()
                sc[j] = original[j].abs() + 0.01
            pred = torch_model.predict(crop)
            column = pred.labels["au"].index(name)
            assert column == j
            assert pred["au"][0, column] > 0.01
            assert np.count_nonzero(pred["au"][0]) == 1
    finally:
        with torch.no_grad():
            sc.copy_(original)


def test_torch_and_onnx_agree(torch_model: MTL, onnx_model: MTL) -> None:
    crops = _crops(4)
    ref, out = torch_model.predict(crops), onnx_model.predict(crops)
    for name in ("au", "emotion", "emotion_prob", "gaze"):
        scale = np.abs(ref[name]).max()
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-4, atol=1e-4 * scale, err_msg=name)


@pytest.mark.parametrize("which", ["torch", "onnx"])
def test_batch_equals_singles(which: str, request: pytest.FixtureRequest) -> None:
    model: MTL = request.getfixturevalue(f"{which}_model")
    crops = _crops(4, seed=7)
    chunked = MTL(model.engine, batch_size=3).predict(crops)
    singles = [model.predict([c]) for c in crops]
    for name in ("au", "emotion", "gaze"):
        stacked = np.concatenate([s[name] for s in singles])
        np.testing.assert_allclose(chunked[name], stacked, rtol=1e-5, atol=1e-6, err_msg=name)


def test_fp16_onnx_within_documented_bound(torch_model: MTL, onnx_model: MTL, tmp_path: Path) -> None:
    """fp16 weights/compute (docs/models.md): AU within 0.02 absolute, emotion and gaze within 0.3 % of their range."""
    fp16_onnx = pytest.importorskip("facemirror.convert").fp16_onnx
    pytest.importorskip("onnxconverter_common", reason="fp16 conversion needs onnxconverter-common (torch extra)")
    path = fp16_onnx(onnx_model.engine_info.source, tmp_path / "mtl-fp16.onnx")
    half = MTL.from_weights(path, backend="onnx", precision="fp16", threads=2)
    assert half.engine_info.precision == "fp16"
    crops = _crops(4, seed=5)
    ref, out = torch_model.predict(crops), half.predict(crops)
    np.testing.assert_allclose(out["au"], ref["au"], rtol=0, atol=0.02)
    for name in ("emotion", "gaze"):
        np.testing.assert_allclose(out[name], ref[name], rtol=0, atol=3e-3 * np.abs(ref[name]).max(), err_msg=name)


def test_crops_of_an_i420_frame_equal_the_crops_of_its_bgr(onnx_model: MTL) -> None:
    from facemirror.video import i420

    rng = np.random.default_rng(3)
    yuv = rng.integers(0, 256, size=(90, 80), dtype=np.uint8)  # a 80x60 I420 frame
    boxes = [[3.7, 5.2, 41.9, 50.6], [-10, -4, 25, 33], [51, 21, 95, 70]]  # odd edges, and past each border
    ours = onnx_model.crops(yuv, boxes, yuv=True)
    theirs = onnx_model.crops(i420.to_bgr(yuv), boxes)
    assert [c.shape for c in ours] == [c.shape for c in theirs]
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
