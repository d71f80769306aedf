"""Where the Face Landmarker's three networks load from: the shipped ONNX files and the .task's TFLite originals.

The default weights give every backend its format: the ONNX conversion for
onnx, the original TFLite member of ``face_landmarker.task`` for litert and
the shipped ``.mlpackage`` (made from the ONNX) for coreml. A path the user
passes gives only its own format: ``.tflite`` (a bare TFLite model),
``.task`` (the MediaPipe bundle), ``.mlpackage`` (CoreML) or anything else
(an ONNX file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from facemirror.backends.base import NetworkSource
from facemirror.models.source import bundled_coreml, weights_path

#: manifest name of MediaPipe's bundle, a zip holding the three TFLite networks
TASK_WEIGHTS = "face_landmarker_task"


def landmarker_source(
    name: str,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    *,
    onnx_weights: str,
    member: str,
    tflite_names: Mapping[str, str],
    path: str | Path | None,
) -> NetworkSource:
    """One Face Landmarker network's source: ``member`` is its file in the .task, ``tflite_names`` its tensors."""
    onnx: Path | None = None
    tflite: Path | None = None
    coreml: Path | None = None
    zip_member: str | None = None
    if path is None:
        onnx, tflite, zip_member = weights_path(onnx_weights, None), weights_path(TASK_WEIGHTS, None), member
        coreml = bundled_coreml(onnx_weights)
    else:
        given = weights_path(onnx_weights, path)
        suffix = given.suffix.lower()
        if suffix == ".tflite":
            tflite = given
        elif suffix == ".task":
            tflite, zip_member = given, member
        elif suffix == ".mlpackage":
            coreml = given
        else:
            onnx = given
    return NetworkSource(
        name=name,
        input_names=input_names,
        output_names=output_names,
        onnx_path=onnx,
        coreml_path=coreml,
        tflite_path=tflite,
        tflite_member=zip_member,
        tflite_names=dict(tflite_names),
    )
