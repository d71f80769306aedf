"""PyTorch -> ONNX export, the fp16 rewrite, and the converted-file cache with its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is part of the test install")
onnx = pytest.importorskip("onnx", reason="the torch extra (with onnx) is part of the test install")
pytest.importorskip("onnxconverter_common", reason="fp16 conversion needs onnxconverter-common (torch extra)")
import onnxruntime as ort  # noqa: E402

from convert_toys import Toy, image_batch, save_weights, seeded  # noqa: E402
from facemirror import __version__  # noqa: E402
from facemirror.convert import cached_onnx, export_onnx, fp16_onnx, read_manifest  # noqa: E402
from facemirror.errors import ConversionError, WeightsMissingError  # noqa: E402
from facemirror.weights import sha256_file  # noqa: E402

NAMES = {"input_names": ["x"], "output_names": ["logits", "probs"], "dynamic_axes": {"x": {0: "batch"}}}
#: fp16 ONNX bound on the toy (documented in docs/conversion.md): max abs error / max |fp32 output|
FP16_REL_BOUND = 5e-3


def run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})


def torch_outputs(module: Any, x: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        return [t.numpy() for t in module(torch.from_numpy(x))]


def test_fp32_export_matches_torch_with_dynamic_batch(tmp_path: Path) -> None:
    module = seeded(Toy())
    path = export_onnx(module, (image_batch(1),), tmp_path / "toy.onnx", **NAMES)
    model = onnx.load(str(path))
    assert model.opset_import[0].version == 17
    assert [o.name for o in model.graph.output] == ["logits", "probs"]
    assert "BatchNormalization" not in {n.op_type for n in model.graph.node}  # folded into the conv
    assert {p.key: p.value for p in model.metadata_props}["facemirror.precision"] == "fp32"
    x = image_batch(5)
    for got, want in zip(run(path, x), torch_outputs(module, x)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_fp16_export_within_bound_and_keeps_fp32_io(tmp_path: Path) -> None:
    module = seeded(Toy())
    fp32 = export_onnx(module, (image_batch(1),), tmp_path / "toy32.onnx", **NAMES)
    fp16 = export_onnx(module, (image_batch(1),), tmp_path / "toy16.onnx", precision="fp16", **NAMES)
    model = onnx.load(str(fp16))
    f16 = onnx.TensorProto.FLOAT16
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for i in model.graph.input)
    assert all(o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for o in model.graph.output)
    conv_weight = next(n.input[1] for n in model.graph.node if n.op_type == "Conv")
    assert next(t for t in model.graph.initializer if t.name == conv_weight).data_type == f16
    # the Softmax stays fp32 (it is in FP16_KEEP_FP32): its input is cast back to float
    softmax = next(n for n in model.graph.node if n.op_type == "Softmax")
    assert any(n.op_type == "Cast" and n.output[0] == softmax.input[0] for n in model.graph.node)
    x = image_batch(8, seed=3)
    for got, want in zip(run(fp16, x), run(fp32, x)):
        assert got.dtype == np.float32
        assert np.abs(got - want).max() <= FP16_REL_BOUND * np.abs(want).max()
    # the same rewrite works on an existing ONNX file (e.g. the face-mesh graphs)
    again = fp16_onnx(fp32, tmp_path / "again16.onnx")
    np.testing.assert_allclose(run(again, x)[0], run(fp16, x)[0], rtol=0, atol=1e-6)


def test_fp16_restores_fp32_output_after_a_blocked_op(tmp_path: Path) -> None:
    """onnxconverter-common leaves an output fp16 when a kept-fp32 op (TopK) produces it; it must be float."""

    class TopOnly(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.topk(x.mean(dim=(2, 3)), 2, dim=1).values

    path = export_onnx(TopOnly(), (image_batch(1),), tmp_path / "top16.onnx", ["x"], ["top"], precision="fp16")
    x = image_batch(1)
    (got,) = run(path, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.sort(x.mean(axis=(2, 3)), axis=1)[:, ::-1][:, :2], rtol=1e-6)


def test_export_errors_are_conversion_errors(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="precision"):
        export_onnx(Toy(), (image_batch(1),), tmp_path / "x.onnx", precision="int4", **NAMES)
    with pytest.raises(ConversionError, match=r"torch\.onnx\.export"):
        export_onnx(Toy(), (np.zeros((1, 5, 16, 16), np.float32),), tmp_path / "bad.onnx", **NAMES)
    assert not list(tmp_path.iterdir())


class Builder:
    """build_module for cached_onnx that counts how often it is called."""

    def __init__(self, weights: Path) -> None:
        self.weights, self.calls = weights, 0

    def __call__(self) -> Any:
        self.calls += 1
        module = Toy()
        module.load_state_dict(torch.load(self.weights, weights_only=True))
        return module.eval()


def cached(build: Builder, cache: Path, precision: str = "fp32") -> Path:
    return cached_onnx("toy", build.weights, build, (image_batch(1),), precision=precision, cache_dir=cache, **NAMES)


def test_cached_onnx_exports_once_and_records_the_manifest(tmp_path: Path) -> None:
    weights = save_weights(seeded(Toy()), tmp_path / "toy.pth")
    build, cache = Builder(weights), tmp_path / "cache"
    first = cached(build, cache)
    assert first.parent == cache / "converted" and build.calls == 1
    second = cached(build, cache)
    assert second == first and build.calls == 1
    (entry,) = read_manifest(cache / "converted")
    assert entry.name == "toy" and entry.file == first.name and entry.precision == "fp32"
    assert entry.sha256 == sha256_file(first) and entry.weights_sha256 == sha256_file(weights)
    assert entry.opset == 17 and entry.facemirror_version == __version__ and entry.created
    raw = json.loads((cache / "converted" / "manifest.json").read_text())
    assert raw["entries"][0]["file"] == first.name
    x = image_batch(3)
    np.testing.assert_allclose(run(first, x)[0], torch_outputs(build(), x)[0], rtol=1e-4, atol=1e-5)


def test_cached_onnx_reexports_a_corrupt_or_missing_file(tmp_path: Path) -> None:
    weights = save_weights(seeded(Toy()), tmp_path / "toy.pth")
    build, cache = Builder(weights), tmp_path / "cache"
    path = cached(build, cache)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # truncated
    assert cached(build, cache) == path and build.calls == 2
    assert path.read_bytes() == good
    path.unlink()
    assert cached(build, cache).is_file() and build.calls == 3
    assert len(read_manifest(cache / "converted")) == 1


def test_cached_onnx_keys_on_weights_and_precision(tmp_path: Path) -> None:
    weights = save_weights(seeded(Toy(), seed=0), tmp_path / "toy.pth")
    build, cache = Builder(weights), tmp_path / "cache"
    fp32 = cached(build, cache)
    fp16 = cached(build, cache, precision="fp16")
    assert fp16 != fp32 and build.calls == 2
    save_weights(seeded(Toy(), seed=1), weights)  # new weights in the same file
    other = cached(build, cache)
    assert other not in (fp32, fp16) and build.calls == 3
    assert {e.precision for e in read_manifest(cache / "converted")} == {"fp32", "fp16"}
    assert len(read_manifest(cache / "converted")) == 3


def test_cached_onnx_survives_a_broken_manifest_and_uses_the_default_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facemirror.weights import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "envcache"))
    weights = save_weights(seeded(Toy()), tmp_path / "toy.pth")
    build = Builder(weights)
    path = cached_onnx("toy", weights, build, (image_batch(1),), **NAMES)
    assert path.parent == tmp_path / "envcache" / "converted"
    (path.parent / "manifest.json").write_text("{not json")
    assert cached_onnx("toy", weights, build, (image_batch(1),), **NAMES) == path
    assert build.calls == 2 and len(read_manifest(path.parent)) == 1


def test_cached_onnx_missing_weights(tmp_path: Path) -> None:
    with pytest.raises(WeightsMissingError, match=r"nope\.pth"):
        cached(Builder(tmp_path / "nope.pth"), tmp_path / "cache")


def test_export_script_on_retinaface_fixture_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """conversion/export_onnx.py: registry -> strict load -> ONNX with dynamic H/W that matches torch."""
    import importlib.util

    from facemirror.convert.networks import network
    from fixtures_retinaface import write_retinaface_checkpoint

    script = Path(__file__).resolve().parents[1] / "conversion" / "export_onnx.py"
    spec = importlib.util.spec_from_file_location("export_onnx_script", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    weights = write_retinaface_checkpoint(tmp_path / "retinaface.pth")
    module.main(["retinaface", str(weights), str(tmp_path / "out")])
    path = tmp_path / "out" / "retinaface_fp32.onnx"
    assert str(path) in capsys.readouterr().out
    x = np.random.default_rng(0).standard_normal((2, 3, 96, 160), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})
    with torch.no_grad():
        want = network("retinaface").build(weights)(torch.from_numpy(x))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(ConversionError, match="known: retinaface"):
        network("blazeface")
