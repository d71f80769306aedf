"""The real ``mediapipe`` Face Landmarker on the same ``face_landmarker.task``, behind FaceLandmarker's interface.

It is the reference the ONNX path is tested against (extra ``mediapipe``).
``process_image`` runs MediaPipe's IMAGE mode, ``track`` its VIDEO mode
(which smooths the landmarks over time), ``detect`` its FaceDetector on the
bundle's ``face_detector.tflite``. Results are :class:`LandmarkResult` with
``source="mediapipe"``; landmarks are converted to pixels as FaceLandmarker's.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.errors import WeightsCorruptError
from facemirror.models.base import Face
from facemirror.models.face_landmarker import LandmarkResult
from facemirror.models.source import weights_path
from facemirror.optional import require


class MediaPipeLandmarker:
    """MediaPipe's own FaceLandmarker (IMAGE and VIDEO mode) and FaceDetector, one face."""

    def __init__(
        self,
        task_path: str | Path | None = None,
        with_blendshapes: bool = True,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        fps: float = 30.0,
    ) -> None:
        require("mediapipe", "The MediaPipe reference landmarker")
        self.task_path = weights_path("face_landmarker_task", task_path)
        self.with_blendshapes = with_blendshapes
        self.min_detection = min_detection
        self.min_presence = min_presence
        self.fps = fps
        self._image = self._landmarker("IMAGE")
        self._video: Any = None
        self._detector: Any = None
        self._frame = 0

    def _landmarker(self, mode: str) -> Any:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.task_path)),
            running_mode=getattr(vision.RunningMode, mode),
            num_faces=1,
            min_face_detection_confidence=self.min_detection,
            min_face_presence_confidence=self.min_presence,
            min_tracking_confidence=0.5,
            output_face_blendshapes=self.with_blendshapes,
        )
        return vision.FaceLandmarker.create_from_options(options)

    def process_image(self, image: np.ndarray) -> LandmarkResult | None:
        """IMAGE mode on a BGR image."""
        return self._result(self._image.detect(_mp_image(image)), image.shape)

    def track(self, image: np.ndarray, timestamp_ms: int | None = None) -> LandmarkResult | None:
        """VIDEO mode: frames must come in order; timestamps default to frame index / fps."""
        if self._video is None:
            self._video = self._landmarker("VIDEO")
        if timestamp_ms is None:
            timestamp_ms = int(self._frame * 1000 / self.fps)
        self._frame += 1
        return self._result(self._video.detect_for_video(_mp_image(image), timestamp_ms), image.shape)

    def detect(self, image: np.ndarray) -> list[Face]:
        """MediaPipe's FaceDetector (the bundle's detector model) on a BGR image, best first."""
        if self._detector is None:
            from mediapipe.tasks.python import vision
            from mediapipe.tasks.python.core.base_options import BaseOptions

            options = vision.FaceDetectorOptions(
                base_options=BaseOptions(model_asset_buffer=self._member("face_detector.tflite")),
                min_detection_confidence=self.min_detection,
            )
            self._detector = vision.FaceDetector.create_from_options(options)
        height, width = image.shape[:2]
        faces = []
        for det in self._detector.detect(_mp_image(image)).detections:
            b = det.bounding_box
            kps = np.array([[k.x * width, k.y * height] for k in det.keypoints], dtype=np.float32)
            box = np.array([b.origin_x, b.origin_y, b.origin_x + b.width, b.origin_y + b.height], dtype=np.float32)
            faces.append(Face(box=box, score=float(det.categories[0].score), keypoints=kps))
        return sorted(faces, key=lambda f: -f.score)

    def close(self) -> None:
        """Release MediaPipe's task graphs (also done at garbage collection, but noisily at interpreter exit)."""
        for task in (self._image, self._video, self._detector):
            if task is not None:
                task.close()
        self._image = self._video = self._detector = None

    def __enter__(self) -> MediaPipeLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _member(self, name: str) -> bytes:
        try:
            with zipfile.ZipFile(self.task_path) as bundle:
                return bundle.read(name)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise WeightsCorruptError(f"{self.task_path}: cannot read {name} from the task bundle ({exc})") from exc

    def _result(self, res: Any, shape: tuple[int, ...]) -> LandmarkResult | None:
        if not res.face_landmarks:
            return None
        height, width = shape[:2]
        lm = np.array([[p.x * width, p.y * height, p.z * width] for p in res.face_landmarks[0]], dtype=np.float32)
        blend = None
        if self.with_blendshapes and res.face_blendshapes:
            blend = np.array([c.score for c in res.face_blendshapes[0]], dtype=np.float32)
        box = np.concatenate([lm[:, :2].min(axis=0), lm[:, :2].max(axis=0)])
        return LandmarkResult(landmarks=lm, box=box, presence=float("nan"), source="mediapipe", blendshapes=blend)


def _mp_image(bgr: np.ndarray) -> Any:
    mp = require("mediapipe", "The MediaPipe reference landmarker")
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[:, :, ::-1]))
