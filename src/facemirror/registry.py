"""The names a pipeline's parts go by: face trackers and AU models, each registered once with how to build it.

``Pipeline(face="openface3", au_model="blendshapes")`` resolves names here; an
instance passes through unchanged. Nothing else in facemirror branches on a
model's name. A third-party package can add its own part with
:func:`register_face_tracker` / :func:`register_au_model`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from facemirror.backends.base import default_threads
from facemirror.face.base import FaceTracker
from facemirror.layouts import LandmarkLayout
from facemirror.models.base import AUModel
from facemirror.settings import Runtime, Tracking


@dataclass(frozen=True)
class Part:
    """A registered part: how to build it, the weights it needs (manifest names), what it is."""

    name: str
    build: Callable[..., Any]
    weights: tuple[str, ...] = ()
    description: str = ""
    #: AU models that read landmarks: the layouts they accept (None: any, or crops)
    layouts: tuple[str, ...] | None = None


FACE_TRACKERS: dict[str, Part] = {}
AU_MODELS: dict[str, Part] = {}


def register_face_tracker(
    name: str, build: Callable[[Runtime, Tracking], FaceTracker], *, weights: Sequence[str] = (), description: str = ""
) -> None:
    """Make ``face=name`` build ``build(runtime, tracking)``; ``weights`` are the manifest entries it needs."""
    FACE_TRACKERS[name] = Part(name, build, tuple(weights), description)


def register_au_model(
    name: str,
    build: Callable[[Runtime], AUModel],
    *,
    weights: Sequence[str] = (),
    description: str = "",
    layouts: Sequence[str] | None = None,
) -> None:
    """Make ``au_model=name`` build ``build(runtime)``; ``layouts`` limits a landmark-input model to those layouts."""
    AU_MODELS[name] = Part(name, build, tuple(weights), description, tuple(layouts) if layouts else None)


def engine_options(runtime: Runtime) -> dict[str, Any]:
    """Keyword arguments every built-in ``from_weights`` takes from the runtime settings.

    Threads default to half the cores: the face and AU networks run at once
    (``FACEMIRROR_THREADS`` overrides; on the 2-core benchmark machine one
    thread each made extract_aus() 15% faster than two, benchmarks/README.md).
    """
    backend = list(runtime.backend) if isinstance(runtime.backend, tuple) else runtime.backend
    return {"backend": backend, "threads": runtime.threads or default_threads(sharing=2)}


def weights_state(part: Part, runtime: Runtime | None = None) -> tuple[bool, str]:
    """(whether every weight file ``part`` needs is usable here, a one-line reason)."""
    from facemirror.weights import status

    missing = []
    for name in part.weights:
        if runtime is not None and name in runtime.weights:
            continue
        state, _ = status(name)
        if state not in ("installed", "shipped"):
            missing.append(f"{name} ({state}; facemirror weights fetch {name})")
    if missing:
        return False, "needs " + ", ".join(missing)
    return True, "weights installed" if part.weights else "embedded"


def face_tracker(spec: str | FaceTracker, runtime: Runtime, tracking: Tracking) -> FaceTracker:
    """The face tracker for ``face=spec``: a registered name, or a :class:`FaceTracker` as it is."""
    if isinstance(spec, FaceTracker):
        return spec
    if isinstance(spec, str):
        part = FACE_TRACKERS.get(spec)
        if part is None:
            raise ValueError(f"unknown face tracker {spec!r}; registered: {', '.join(FACE_TRACKERS)}")
        tracker: FaceTracker = part.build(runtime, tracking)
        return tracker
    raise TypeError(f"face must be a face tracker name or a FaceTracker instance, not {type(spec).__name__}")


def au_model(spec: str | AUModel, runtime: Runtime, layout: LandmarkLayout) -> tuple[AUModel, str, str]:
    """The AU model for ``au_model=spec``, its name and why it was chosen: a name, ``"auto"``, or an :class:`AUModel`.

    The name is the registered one (``"openface3"``), or the instance's own ``name``.
    """
    if isinstance(spec, AUModel):
        _check_layout(spec.name, spec.inputs, getattr(spec.layout, "name", None), layout)
        return spec, spec.name, "given"
    if not isinstance(spec, str):
        raise TypeError(f"au_model must be an AU model name or an AUModel instance, not {type(spec).__name__}")
    name, reason = choose_au_model(spec, runtime, layout)
    part = AU_MODELS[name]
    if part.layouts is not None and layout.name not in part.layouts:
        _check_layout(name, "landmarks", "/".join(part.layouts), layout)
    model: AUModel = part.build(runtime)
    return model, name, reason


def choose_au_model(requested: str, runtime: Runtime, layout: LandmarkLayout) -> tuple[str, str]:
    """The AU model name for ``requested`` and why: ``auto`` means OpenFace 3.0 when its weights are installed.

    Otherwise the first registered model that needs no missing weights and reads this landmark layout.
    """
    if requested != "auto":
        if requested not in AU_MODELS:
            raise ValueError(f"unknown AU model {requested!r}; registered: auto, {', '.join(AU_MODELS)}")
        return requested, "asked for"
    reasons: list[str] = []
    for part in AU_MODELS.values():
        usable, why = weights_state(part, runtime)
        fits = part.layouts is None or layout.name in part.layouts
        if usable and fits:
            if not reasons:
                return part.name, f"{part.description or part.name}: {why}"
            return part.name, "; ".join(reasons) + f"; using {part.name}"
        reasons.append(f"{part.name} " + (why if not usable else f"reads {'/'.join(part.layouts or ())} landmarks"))
    raise ValueError(f"no AU model can run with {layout.name} landmarks here: " + "; ".join(reasons))


def _check_layout(name: str, inputs: str, wanted: str | None, layout: LandmarkLayout) -> None:
    if inputs == "landmarks" and wanted is not None and wanted != layout.name:
        raise ValueError(
            f"the AU model {name} reads {wanted} landmarks, but the face tracker gives {layout.name}; "
            "choose an AU model that reads face crops (e.g. openface3) or a tracker with that layout"
        )


# --- the built-in parts ---------------------------------------------------------


def _mediapipe(runtime: Runtime, tracking: Tracking) -> FaceTracker:
    from facemirror.face import MediaPipeTracker, SubjectLock

    return MediaPipeTracker.from_weights(
        symmetric=tracking.symmetric_landmarks,
        flip_every=tracking.flip_every,
        redetect_seconds=tracking.redetect_seconds,
        subject=SubjectLock(tracking.face_box, tracking.face_index),
        far_faces=tracking.far_faces,
        **engine_options(runtime),
    )


def _openface3_tracker(runtime: Runtime, tracking: Tracking) -> FaceTracker:
    from facemirror.face import DetectLandmarkTracker, SubjectLock
    from facemirror.models.retinaface import RetinaFace
    from facemirror.models.star import STAR

    options = engine_options(runtime)
    return DetectLandmarkTracker(
        RetinaFace.from_weights(runtime.weights.get("retinaface"), **options),
        STAR.from_weights(runtime.weights.get("star"), **options),
        redetect_seconds=tracking.redetect_seconds,
        subject=SubjectLock(tracking.face_box, tracking.face_index),
        name="openface3",
    )


def _mtl(runtime: Runtime) -> AUModel:
    from facemirror.models.mtl import MTL

    return MTL.from_weights(runtime.weights.get("mtl"), batch_size=runtime.au_batch_size, **engine_options(runtime))


def _blendshapes(runtime: Runtime) -> AUModel:
    from facemirror.models.blendshapes import BlendshapeAUs

    return BlendshapeAUs.from_weights(None, **engine_options(runtime))


register_face_tracker(
    "mediapipe", _mediapipe, description="the embedded MediaPipe Face Landmarker (478 points), offline"
)
register_face_tracker(
    "openface3",
    _openface3_tracker,
    weights=("retinaface", "star"),
    description="OpenFace 3.0's RetinaFace then STAR (98 WFLW points), the user's OpenFace 3.0 weights",
)
register_au_model("openface3", _mtl, weights=("mtl",), description="OpenFace 3.0's MTL network (8 AUs, emotion, gaze)")
register_au_model(
    "blendshapes",
    _blendshapes,
    description="the embedded Face Landmarker's 52 blendshapes",
    layouts=("mediapipe478",),
)
