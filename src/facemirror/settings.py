"""A pipeline's settings, grouped, as plain data: what runs where, how faces are followed, mirrored and written.

``Pipeline(face=..., au_model=..., runtime=Runtime(...), tracking=Tracking(...),
mirroring=Mirroring(...), outputs=Outputs(...), measures=Measures(...))``. Every group is a frozen
dataclass of plain values, so a :class:`PipelineConfig` (the parts by name plus
the groups) can be written to JSON, sent to batch workers, compared by
done-markers and recorded in provenance sidecars.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from facemirror.mirror.midline import MAX_VALID_YAW_DEG
from facemirror.mirror.smoothing import SmoothingParams

#: ``quality`` name -> (x264 CRF, x264 preset) of the written videos
QUALITY = {"fast": (20, "ultrafast"), "balanced": (18, "veryfast"), "archive": (16, "medium")}
#: crops per AU network call (MTL on a 2-core CPU: within 4% of the fastest batch per crop, a third of batch
#: 32's memory; benchmarks/README.md, "MTL batch size")
AU_BATCH_SIZE = 4


@dataclass(frozen=True)
class Runtime:
    """Where the networks run.

    ``backend``: ``"auto"``, ``"onnx"``, ``"litert"`` (the embedded face
    networks only), ``"torch"``, ``"coreml"`` or several to try in order;
    ``threads``: intra-op threads per network (default: half the cores, since
    the face and AU networks run at once); ``au_batch_size``: crops per AU
    network call; ``weights``: weight files to use instead of the manifest's,
    by manifest name (``{"mtl": "MTL_backbone.pth", "star": ...}``).
    """

    backend: str | tuple[str, ...] = "auto"
    threads: int | None = None
    au_batch_size: int = AU_BATCH_SIZE
    weights: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.backend, list):
            object.__setattr__(self, "backend", tuple(self.backend))
        object.__setattr__(self, "weights", {str(k): str(v) for k, v in dict(self.weights).items()})
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.au_batch_size < 1:
            raise ValueError(f"au_batch_size must be at least 1, got {self.au_batch_size}")


@dataclass(frozen=True)
class Tracking:
    """How the subject's face is found and followed.

    ``redetect_seconds``: the detector also runs this often while following (None: only when lost).
    ``symmetric_landmarks``: flip-average the embedded mesh (cancels its left/right bias; twice its cost);
    None: where a midline is fitted (``mirror``/``run``), not in ``extract_aus``.
    ``flip_every``: run that mirrored crop only every k-th frame (a speed setting, see docs/performance.md).
    ``face_box`` ``(x, y, width, height)`` in first-frame pixels, or ``face_index`` (0 = leftmost face):
    which face is the subject, instead of the default rule (docs/architecture.md, "One person per video").
    ``far_faces``: the embedded tracker also looks for faces too small for its close-up detector (down to
    ~60 px wide in a 1080p frame) with the shipped RetinaFace (docs/far-faces.md).
    """

    redetect_seconds: float | None = 2.0
    symmetric_landmarks: bool | None = None
    flip_every: int = 1
    face_box: tuple[float, float, float, float] | None = None
    face_index: int | None = None
    far_faces: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.flip_every, bool) or not isinstance(self.flip_every, int) or self.flip_every < 1:
            raise ValueError(f"flip_every must be an integer >= 1, got {self.flip_every!r}")
        if self.redetect_seconds is not None and self.redetect_seconds <= 0:
            raise ValueError(f"redetect_seconds must be positive (or None), got {self.redetect_seconds}")
        if self.face_box is not None:
            box = tuple(float(v) for v in self.face_box)
            if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
                raise ValueError(f"face_box must be (x, y, width, height) with a positive size, got {self.face_box}")
            object.__setattr__(self, "face_box", box)
        if self.face_box is not None and self.face_index is not None:
            raise ValueError("give face_box or face_index, not both")
        if self.face_index is not None and self.face_index < 0:
            raise ValueError(f"face_index must be 0 or more, got {self.face_index}")


@dataclass(frozen=True)
class Mirroring:
    """The midline's smoothing and the reflection.

    ``hold_seconds``: keep the last midline this long when the face is lost
    (then frames pass through unmirrored); ``median_half_window``, ``sigma``,
    ``fit_half_window``, ``degree``: the zero-phase smoother
    (:mod:`facemirror.mirror.smoothing`); ``max_yaw_deg``: frames turned
    further are flagged (a split is not a valid half-face comparison);
    ``feather_px``: the blend across the seam.
    """

    hold_seconds: float = 0.5
    median_half_window: float = 0.1
    sigma: float = 0.06
    fit_half_window: float = 0.15
    degree: int = 2
    max_yaw_deg: float = MAX_VALID_YAW_DEG
    feather_px: float = 4.0

    def __post_init__(self) -> None:
        for name in ("hold_seconds", "median_half_window", "fit_half_window", "feather_px"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.sigma <= 0:
            raise ValueError(f"sigma must be positive, got {self.sigma}")

    @property
    def smoothing(self) -> SmoothingParams:
        """The smoother's parameters (the one place the hold time lives)."""
        return SmoothingParams(
            median_half_window=self.median_half_window,
            sigma=self.sigma,
            fit_half_window=self.fit_half_window,
            degree=self.degree,
            hold_seconds=self.hold_seconds,
        )


@dataclass(frozen=True)
class Outputs:
    """What is written and how.

    ``debug_video`` and its ``debug_scale``; ``quality``: ``fast``,
    ``balanced`` or ``archive`` (x264 speed against size); ``encoder``:
    ``auto`` (hardware first) or an FFmpeg encoder name; ``copy_audio`` into
    the mirrored videos; ``openface_columns``: every OpenFace 2.0 AU CSV column,
    empty where no model fills it (False: only the columns something fills);
    ``debug_heatmap``: draw the asymmetry field over the debug video's face
    (red: lower than its mirror partner, blue: higher); ``report``: ``run()``
    also writes ``{stem}_report.html`` (the ``report`` extra).
    """

    debug_video: bool = True
    debug_scale: float = 0.5
    quality: str = "balanced"
    encoder: str = "auto"
    copy_audio: bool = True
    openface_columns: bool = True
    debug_heatmap: bool = False
    report: bool = False

    def __post_init__(self) -> None:
        if self.quality not in QUALITY:
            raise ValueError(f"quality must be one of {', '.join(QUALITY)}, not {self.quality!r}")
        if self.debug_scale <= 0:
            raise ValueError(f"debug_scale must be positive, got {self.debug_scale}")


#: the visible iris's horizontal diameter (mm): the scale Emotrics and Emotrics+ use
IRIS_MM = 11.77
#: the inter-pupillary distance (mm) assumed for layouts without an iris (dynaface's scale, an adult mean)
ASSUMED_IPD_MM = 63.0


@dataclass(frozen=True)
class Measures:
    """The clinical measures (docs/measures.md): their correction, scale, rest segment and the affected side.

    ``flow``: correct the landmarks with the mirror-flow asymmetry field
    (landmarks alone capture about half of a one-sided movement; the field
    0.95-1.00, at about 100 ms of CPU per 1080p frame). Scale, in order of precedence:
    ``mm_per_px``; ``ipd_mm`` (the subject's inter-pupillary distance);
    else the iris (``iris_mm``, default :data:`IRIS_MM`, over the iris diameter, its median over the
    video), else :data:`ASSUMED_IPD_MM`. ``rest``: the (start, end) seconds of
    the rest segment, else the first ``rest_seconds`` with a face.
    ``affected_side`` (``"left"``/``"right"``, the subject's): ratios become
    affected over healthy. ``key_frames``: frames of largest asymmetry kept for
    the report. ``flow_threads``: frames whose fields are computed at once (each field is independent; default
    half the cores).
    """

    flow: bool = True
    mm_per_px: float | None = None
    ipd_mm: float | None = None
    iris_mm: float = IRIS_MM
    rest_seconds: float = 1.0
    rest: tuple[float, float] | None = None
    affected_side: str | None = None
    key_frames: int = 3
    flow_threads: int | None = None

    def __post_init__(self) -> None:
        if self.flow_threads is not None and self.flow_threads < 1:
            raise ValueError(f"flow_threads must be at least 1, got {self.flow_threads}")
        for name in ("mm_per_px", "ipd_mm"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.affected_side not in (None, "left", "right"):
            raise ValueError(f"affected_side must be 'left' or 'right' (the subject's), not {self.affected_side!r}")
        if self.rest is not None:
            start, end = (float(v) for v in self.rest)
            if not end > start:
                raise ValueError(f"rest must be (start, end) seconds with end after start, got {self.rest}")
            object.__setattr__(self, "rest", (start, end))
        if self.rest_seconds <= 0:
            raise ValueError(f"rest_seconds must be positive, got {self.rest_seconds}")


GROUPS = {"runtime": Runtime, "tracking": Tracking, "mirroring": Mirroring, "outputs": Outputs, "measures": Measures}


@dataclass(frozen=True)
class PipelineConfig:
    """A pipeline built from names, as plain data (JSON via :meth:`to_dict` / :meth:`from_dict`)."""

    face: str = "mediapipe"
    au_model: str = "auto"
    selfie: bool = False
    runtime: Runtime = field(default_factory=Runtime)
    tracking: Tracking = field(default_factory=Tracking)
    mirroring: Mirroring = field(default_factory=Mirroring)
    outputs: Outputs = field(default_factory=Outputs)
    measures: Measures = field(default_factory=Measures)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples become lists)."""
        data: dict[str, Any] = _plain(dataclasses.asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineConfig:
        """The config :meth:`to_dict` wrote (unknown keys are an error)."""
        values = dict(data)
        for name, group in GROUPS.items():
            if name in values and isinstance(values[name], Mapping):
                fields = dict(values[name])
                for key in ("backend", "face_box", "rest"):
                    if isinstance(fields.get(key), list):
                        fields[key] = tuple(fields[key])
                values[name] = group(**fields)
        return cls(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
