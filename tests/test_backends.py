"""Backend selection, fallback and the engines' agreement on a tiny network."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facemirror.backends import (
    Backend,
    BackendUnavailable,
    Engine,
    NetworkSource,
    get_backend,
    register_backend,
    select_engine,
)
from facemirror.backends import base as backends_base
from facemirror.cli.backends import backend_report

torch = pytest.importorskip("torch", reason="the torch extra is part of the test install")
onnx = pytest.importorskip("onnx", reason="the torch extra (with onnx) is part of the test install")

W = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]], dtype=np.float32)  # (3, 2)
B = np.array([0.1, -0.2], dtype=np.float32)


def _onnx_file(tmp_path: Path) -> Path:
    """y = relu(x @ W + b), written with the onnx helper API."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["pre"]),
            helper.make_node("Relu", ["pre"], ["y"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        with torch.no_grad():
            self.lin.weight.copy_(torch.from_numpy(W.T.copy()))
            self.lin.bias.copy_(torch.from_numpy(B))

    def forward(self, x: Any) -> Any:
        return torch.relu(self.lin(x))


def _source(onnx_path: Path | None) -> NetworkSource:
    return NetworkSource(name="tiny", input_names=("x",), output_names=("y",), onnx_path=onnx_path, torch_module=_Tiny)


def _expected(x: np.ndarray) -> np.ndarray:
    return np.maximum(x @ W + B, 0)


X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 0.0, 0.0]], dtype=np.float32)


def test_auto_prefers_onnx_and_reports_what_ran(tmp_path: Path) -> None:
    engine = select_engine(_source(_onnx_file(tmp_path)), "auto")
    assert engine.info.backend == "onnx"  # on macOS after coreml fell back: no .mlpackage here
    assert engine.info.provider == "CPUExecutionProvider"
    assert engine.info.device == "cpu"
    assert engine.info.precision == "fp32"
    assert engine.info.model == "tiny"
    np.testing.assert_allclose(engine.run({"x": X})["y"], _expected(X), rtol=1e-6)


def test_torch_and_onnx_agree(tmp_path: Path) -> None:
    onnx_engine = select_engine(_source(_onnx_file(tmp_path)), "onnx")
    torch_engine = select_engine(_source(None), "torch")
    assert torch_engine.info.backend == "torch" and torch_engine.info.device == "cpu"
    np.testing.assert_allclose(onnx_engine.run({"x": X})["y"], torch_engine.run({"x": X})["y"], rtol=1e-6, atol=1e-7)


def test_fallback_when_first_choice_fails(caplog: pytest.LogCaptureFixture) -> None:
    # No ONNX file: onnx fails, torch loads; the reason is kept and logged.
    with caplog.at_level(logging.WARNING, logger="facemirror.backends.base"):
        engine = select_engine(_source(None), ["onnx", "torch"])
    assert engine.info.backend == "torch"
    assert "onnx" in engine.fallbacks and "no ONNX file" in engine.fallbacks["onnx"]
    assert any("after fallback" in r.getMessage() for r in caplog.records)


class _Broken(Backend):
    """A backend that is available but whose load always fails: the forced failure of a first choice."""

    name = "broken-test"

    def availability(self) -> str | None:
        return None

    def load(self, source: NetworkSource, **options: Any) -> Engine:
        raise BackendUnavailable("simulated load failure", {self.name: "simulated"})


def test_forced_failure_of_first_choice_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register_backend(_Broken())
    monkeypatch.setattr(backends_base, "default_preference", lambda: ["broken-test", "onnx", "torch"])
    engine = select_engine(_source(_onnx_file(tmp_path)), "auto")
    assert engine.info.backend == "onnx"
    assert engine.fallbacks == {"broken-test": "simulated load failure"}


def test_explicit_unavailable_backend_raises_with_reason(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable) as err:
        select_engine(_source(_onnx_file(tmp_path)), "coreml")
    assert "coreml" in err.value.reasons
    assert err.value.reasons["coreml"]  # a reason, not an empty string


def test_explicit_backend_does_not_fall_back() -> None:
    with pytest.raises(BackendUnavailable) as err:
        select_engine(_source(None), "onnx")  # torch could run it, but onnx was asked for
    assert list(err.value.reasons) == ["onnx"]


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(BackendUnavailable, match="unknown backend 'tensorrt'"):
        get_backend("tensorrt")


def test_unavailable_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="not available here"):
        select_engine(_source(_onnx_file(tmp_path)), "onnx", provider="TensorrtExecutionProvider")


def test_backend_report_lists_every_backend_with_reason() -> None:
    rows = {r["backend"]: r for r in backend_report()}
    assert {"onnx", "torch", "coreml"} <= set(rows)
    assert rows["onnx"]["available"] is True and "CPUExecutionProvider" in rows["onnx"]["providers"]
    for row in rows.values():
        assert row["available"] or row["reason"]
