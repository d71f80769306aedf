"""Record mediapipe's own Face Landmarker outputs as tests/data/landmarker_reference.npz.

The stored numbers let CI without mediapipe still check the ONNX path against
MediaPipe. Inputs are made the same way the tests make them (``landmarker_inputs.py``):
scikit-image's astronaut and tests/data/single_face.jpg, each as is and rotated
by +-30 degrees (IMAGE mode), a 10-frame synthetic head motion made from the
astronaut (VIDEO mode) and the same images for the face detector.

Run with mediapipe installed (``pip install mediapipe==1.2.2``)::

    python tests/data/make_landmarker_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from facemirror.models.mediapipe_landmarker import MediaPipeLandmarker  # noqa: E402
from landmarker_inputs import still_images, synthetic_video  # noqa: E402


def main() -> int:
    import mediapipe

    with MediaPipeLandmarker() as ref:
        out = record(ref)
    out["mediapipe_version"] = np.array(mediapipe.__version__)
    path = HERE / "landmarker_reference.npz"
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({path.stat().st_size} bytes, mediapipe {mediapipe.__version__})")
    return 0


def record(ref: MediaPipeLandmarker) -> dict[str, np.ndarray]:
    """Landmarks, blendshapes and detections of every test input."""
    out: dict[str, np.ndarray] = {}
    for name, image in still_images().items():
        result = ref.process_image(image)
        assert result is not None and result.blendshapes is not None, name
        out[f"image/{name}/landmarks"] = result.landmarks
        out[f"image/{name}/blendshapes"] = result.blendshapes
        faces = ref.detect(image)
        out[f"detect/{name}/boxes"] = np.stack([f.box for f in faces])
        out[f"detect/{name}/keypoints"] = np.stack([f.keypoints for f in faces])
    video = []
    for frame in synthetic_video():
        result = ref.track(frame)
        assert result is not None
        video.append(result.landmarks)
    out["video/landmarks"] = np.stack(video)
    return out


if __name__ == "__main__":
    sys.exit(main())
