"""Provenance sidecars: one JSON file beside each output saying exactly how it was made.

A sidecar is named ``<output file name>.json`` (``video_left_mirrored.mp4.json``,
``video_aus.csv.json``): the full name is kept so two outputs that differ only
in extension never share a sidecar. It records the input (path, sha256,
metadata, and what decoding it lost when it was damaged), every model (weights file and sha256, backend, provider,
precision, device), the parameters, timings, the software versions and the
command line, so a result can be traced and reproduced.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import platform
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from facemirror import __version__
from facemirror.atomic import OutputGroup, write_file
from facemirror.weights import sha256_file

SCHEMA_VERSION = 1
#: distributions whose code computes facemirror's numbers or draws its pictures, recorded when installed (read from
#: metadata, never imported): array maths, image processing, video and photo decoding and encoding, every inference
#: backend, tables, the report's plots
PACKAGES = (
    "numpy",
    "opencv-python-headless",
    "opencv-python",
    "av",
    "onnxruntime",
    "ai-edge-litert",
    "torch",
    "coremltools",
    "mediapipe",
    "pandas",
    "pillow-heif",
    "matplotlib",
)


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (absent ones left out), without importing them."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def build_provenance(
    input_path: str | Path | None,
    video_info: Mapping[str, Any] | None = None,
    models: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    timings: Mapping[str, Any] | None = None,
    outputs: Sequence[str | Path] = (),
    command_line: Sequence[str] | None = None,
    decoding: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance record of one run as a JSON-ready dict.

    ``models`` items hold ``name``, ``weights`` (file), ``sha256`` and
    ``engine`` (backend, provider, precision, device); ``command_line``
    defaults to ``sys.argv`` when facemirror runs as a command, else None.
    ``decoding`` (:meth:`DecodeReport.as_dict <facemirror.video.DecodeReport.as_dict>`:
    frames decoded and lost, the lost frames' times, where the file stops
    being decodable) is kept as ``input.decoding``.
    """
    input_record: dict[str, Any] | None = None
    if input_path is not None:
        path = Path(input_path)
        input_record = {
            "path": str(path.resolve()),
            "name": path.name,
            "size_bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "metadata": dict(video_info or {}),
        }
        if decoding is not None:
            input_record["decoding"] = dict(decoding)
    return {
        "schema_version": SCHEMA_VERSION,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "facemirror_version": __version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": package_versions(),
        "command_line": list(command_line) if command_line is not None else _command_line(),
        "input": jsonable(input_record),
        "models": [jsonable(m) for m in models],
        "parameters": jsonable(parameters or {}),
        "timings_s": jsonable(timings or {}),
        "outputs": [str(Path(p)) for p in outputs],
    }


def model_record(name: str, weights: str | Path | None, engine: Any = None) -> dict[str, Any]:
    """One ``models`` entry: the weights file and its sha256 (when it exists) and what ran it.

    ``engine`` is an :class:`~facemirror.backends.base.EngineInfo` or a dict
    (backend, provider, precision, device).
    """
    path = Path(weights) if weights is not None else None
    return {
        "name": name,
        "weights": str(path) if path is not None else None,
        "sha256": sha256_file(path) if path is not None and path.is_file() else None,
        "engine": jsonable(engine),
    }


def _command_line() -> list[str] | None:
    """``sys.argv`` when the program is the ``facemirror`` command, else None (library or notebook use)."""
    argv = list(sys.argv)
    return argv if argv and Path(argv[0]).name.startswith("facemirror") else None


def output_record(output_path: str | Path, content: str | Path | None = None) -> dict[str, Any]:
    """What a sidecar says of its own output: name, path, size and sha256 (of ``content``: the finished file,
    which may still be under its temporary name)."""
    path = Path(output_path)
    data = Path(content) if content is not None else path
    return {
        "name": path.name,
        "path": str(path.resolve()),
        "size_bytes": data.stat().st_size,
        "sha256": sha256_file(data),
    }


def sidecar_path(output_path: str | Path) -> Path:
    """The sidecar of an output: ``<output file name>.json`` in the same folder."""
    output_path = Path(output_path)
    return output_path.with_name(output_path.name + ".json")


def write_sidecar(output_path: str | Path, provenance: Mapping[str, Any], group: OutputGroup | None = None) -> Path:
    """Write ``provenance`` as ``<output>.json`` atomically; return its path.

    With ``group`` (the job's :class:`~facemirror.atomic.OutputGroup`) the
    sidecar is finished now and renamed together with the job's outputs, so a
    job that fails leaves neither. A write error is an OutputError.
    """
    target = sidecar_path(output_path)
    text = json.dumps(jsonable(provenance), indent=2, allow_nan=False)
    return write_file(target, text + "\n", group)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: paths and fractions as text, numpy as lists, NaN/inf as null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "_asdict"):  # NamedTuple
        return jsonable(value._asdict())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
