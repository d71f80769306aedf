"""OpenFace 3.0's multitask network (MTL): 8 AU scores, 8 emotion logits and gaze from a face crop.

Preprocessing follows OpenFace 3.0's pip package (``multitask_model.py:preprocess``)
by default: the integer face box (``det[:4].astype(int)``), BGR -> RGB,
``[0, 1]`` floats, a 224x224 antialiased bilinear resize (torchvision's
``Resize`` on a tensor), ImageNet mean/std. Two options reproduce the GitHub
demo / training route instead: ``margin=0.15`` (the 15 % box margin of
``demo2.py:scale_bbox``) and ``resize="pil"`` (PIL's uint8 ``BILINEAR``).
One deliberate difference: boxes are clipped to the image (the reference
slices with raw coordinates, so negative ones wrap around).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemirror.backends.base import Engine, select_engine
from facemirror.models.base import AUModel, AUPrediction, Model, cut_crops
from facemirror.models.resample import resize_bilinear_antialias, resize_pil_bilinear
from facemirror.models.source import NetworkSpec, weights_path
from facemirror.openface_angles import openface_gaze_angles

# The network's 8 AU outputs, column by column. OpenFace 3.0 names them only in
# its demo (``demo2.py:au_labels``); its training code picks DISFA columns
# [0,4,8,10,11,1,6,7], which would read AU1/6/17/25/26/2/12/15. The demo order
# is the one py-feat's held-out DISFA+ benchmark of OpenFace 3.0 confirms
# (per-AU F1 0.42-0.93, mean 0.73, which mislabelled outputs would not reach);
# see docs/models.md and openface3-reference.md. Keep the order here only.
AU_NAMES = ("AU01", "AU02", "AU04", "AU06", "AU09", "AU12", "AU25", "AU26")
#: AffectNet-8 order of the emotion logits (OpenFace 3.0 README, ``demo2.py:expression_labels``)
EMOTION_NAMES = ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt")
#: gaze angles in radians (``demo2.py:gazeto3d_torch``)
GAZE_NAMES = ("yaw", "pitch")

INPUT_NAMES = ("image",)
OUTPUT_NAMES = ("emotion", "gaze", "au")
INPUT_SIZE = 224
MEAN_RGB = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD_RGB = np.array([0.229, 0.224, 0.225], dtype=np.float32)
#: crops per network call. On a 2-core CPU (ONNX Runtime, 1 thread) batch 4 cost 31.0 ms per crop and
#: batch 8 29.9, with 363 vs 470 MiB peak; batch 32 held 1149 MiB and was no faster. The smaller batch
#: keeps run() at 1080p with MTL under 1.5 GB (benchmarks/README.md, "MTL batch size").
BATCH_SIZE = 4
#: ``antialias``: torchvision Resize on the float tensor (pip package); ``pil``: PIL BILINEAR on uint8 (GitHub demo)
RESIZERS = ("antialias", "pil")
#: MTL's AU scores are occurrence scores; ``AUxx_c`` is this threshold on them (the one MTL was trained with).
PRESENCE_THRESHOLD = 0.5
#: MTL's own CSV columns (after OpenFace 2.0's); it also fills OpenFace's ``AUxx_c`` of its AUs and the gaze angles
CSV_COLUMNS = (
    *(f"{au}_p" for au in AU_NAMES),
    *(f"emotion_{name.lower()}_logit" for name in EMOTION_NAMES),
    *(f"emotion_{name.lower()}_p" for name in EMOTION_NAMES),
    "gaze_yaw",
    "gaze_pitch",
)


def _check_crop(crop: Any) -> np.ndarray:
    if not isinstance(crop, np.ndarray) or crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8:
        desc = f"{crop.dtype} {crop.shape}" if isinstance(crop, np.ndarray) else type(crop).__name__
        raise ValueError(f"MTL expects BGR uint8 face crops of shape (H, W, 3), got {desc}")
    if crop.shape[0] == 0 or crop.shape[1] == 0:
        raise ValueError(f"MTL got an empty face crop of shape {crop.shape}")
    return crop


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (float32)."""
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


class MTL(Model, AUModel):
    """OpenFace 3.0's MTL network: ``predict(crops)`` -> AU scores, emotion logits/probabilities, gaze.

    In the AU CSVs: ``AUxx_p`` (scores), ``AUxx_c`` (score >= 0.5), emotion logits
    and probabilities, ``gaze_yaw``/``gaze_pitch`` and OpenFace's gaze angles.
    """

    name = "mtl"
    labels = {"au": AU_NAMES, "emotion": EMOTION_NAMES, "emotion_prob": EMOTION_NAMES, "gaze": GAZE_NAMES}
    network = NetworkSpec(
        "mtl",
        "facemirror.models.nets.mtl_net:MTLNet",
        INPUT_NAMES,
        OUTPUT_NAMES,
        (1, 3, INPUT_SIZE, INPUT_SIZE),
        {n: {0: "batch"} for n in INPUT_NAMES + OUTPUT_NAMES},
    )

    def __init__(
        self, engine: Engine, *, margin: float = 0.0, resize: str = "antialias", batch_size: int = BATCH_SIZE
    ) -> None:
        if resize not in RESIZERS:
            raise ValueError(f"resize must be one of {', '.join(RESIZERS)}, got {resize!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if margin < 0:
            raise ValueError(f"margin must be non-negative, got {margin}")
        self.engine = engine
        self.margin = margin
        self.resize = resize
        self.batch_size = batch_size

    @classmethod
    def from_weights(
        cls,
        path: str | Path | None = None,
        backend: str | Sequence[str] = "auto",
        *,
        margin: float = 0.0,
        resize: str = "antialias",
        batch_size: int = BATCH_SIZE,
        precision: str = "fp32",
        **engine_options: Any,
    ) -> MTL:
        """Load ``path`` (``MTL_backbone.pth`` state dict or ``.onnx``; None = the ``mtl`` manifest entry)."""
        source = cls.network.source(weights_path(cls.name, path), precision)
        engine = select_engine(source, backend, precision=precision, **engine_options)
        return cls(engine, margin=margin, resize=resize, batch_size=batch_size)

    def crops(self, image: np.ndarray, boxes: Sequence[Any], *, yuv: bool = False) -> list[np.ndarray]:
        """The face crops of ``boxes`` (``Face`` or ``[x1, y1, x2, y2, ...]`` rows), grown by ``margin``.

        ``yuv=True`` takes an I420 frame (:mod:`facemirror.video.i420`) instead and converts only the crops.
        """
        return cut_crops(image, boxes, yuv=yuv, margin=self.margin)

    def columns(self) -> list[str]:
        """OpenFace 2.0's presence and gaze-angle columns it fills, then its own (:data:`CSV_COLUMNS`)."""
        return [*(f"{au}_c" for au in AU_NAMES), "gaze_angle_x", "gaze_angle_y", *CSV_COLUMNS]

    def cells(self, prediction: AUPrediction, index: int) -> dict[str, Any]:
        """Row ``index`` as CSV cells: AU scores and presence, emotion logits and probabilities, gaze."""
        row: dict[str, Any] = {}
        for au, p in zip(AU_NAMES, prediction["au"][index].tolist()):
            row[f"{au}_p"] = p
            row[f"{au}_c"] = None if math.isnan(p) else int(p >= PRESENCE_THRESHOLD)
        for key, suffix in (("emotion", "logit"), ("emotion_prob", "p")):
            for name, value in zip(EMOTION_NAMES, prediction[key][index].tolist()):
                row[f"emotion_{name.lower()}_{suffix}"] = value
        yaw, pitch = prediction["gaze"][index].tolist()
        row["gaze_yaw"], row["gaze_pitch"] = yaw, pitch
        row["gaze_angle_x"], row["gaze_angle_y"] = openface_gaze_angles(yaw, pitch)
        return row

    def preprocess_crop(self, crop: np.ndarray) -> np.ndarray:
        """One BGR uint8 crop -> ``(3, 224, 224)`` float32, RGB, ImageNet-normalized."""
        rgb = cv2.cvtColor(_check_crop(crop), cv2.COLOR_BGR2RGB)
        size = (INPUT_SIZE, INPUT_SIZE)
        if self.resize == "pil":
            pixels = resize_pil_bilinear(rgb, size).astype(np.float32) / np.float32(255)
        else:
            pixels = resize_bilinear_antialias(rgb.astype(np.float32) / np.float32(255), size)
        return ((pixels - MEAN_RGB) / STD_RGB).transpose(2, 0, 1)

    def preprocess(self, crops: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """``{"image": (N, 3, 224, 224)}`` for N BGR uint8 face crops."""
        batch = np.empty((len(crops), 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
        for k, crop in enumerate(crops):
            batch[k] = self.preprocess_crop(crop)
        return {"image": batch}

    def postprocess(self, outputs: Mapping[str, np.ndarray]) -> AUPrediction:
        """Named, labelled outputs; AU cosines clipped to [0, 1] against float rounding."""
        emotion = np.asarray(outputs["emotion"], dtype=np.float32)
        values = {
            "au": np.clip(np.asarray(outputs["au"], dtype=np.float32), 0.0, 1.0),
            "emotion": emotion,
            "emotion_prob": softmax(emotion),
            "gaze": np.asarray(outputs["gaze"], dtype=np.float32),
        }
        labels = {"au": AU_NAMES, "emotion": EMOTION_NAMES, "emotion_prob": EMOTION_NAMES, "gaze": GAZE_NAMES}
        return AUPrediction(values=values, labels=labels)

    def predict(self, crops: Sequence[np.ndarray] | np.ndarray, boxes: Sequence[Any] | None = None) -> AUPrediction:
        """Outputs for each BGR face crop, or for each box in one image when ``boxes`` is given.

        Runs the network in chunks of ``batch_size``; rows follow the input order.
        """
        if boxes is not None:
            if not isinstance(crops, np.ndarray):
                raise ValueError("with boxes, MTL.predict takes one BGR image as its first argument")
            crops = self.crops(crops, boxes)
        elif isinstance(crops, np.ndarray) and crops.ndim == 3:
            crops = [crops]
        return self.predict_inputs(self.preprocess(list(crops))["image"])

    def predict_inputs(self, inputs: np.ndarray) -> AUPrediction:
        """Outputs for ``(N, 3, 224, 224)`` network inputs made by :meth:`preprocess_crop`, ``batch_size`` at a time.

        Lets the AU stage preprocess crops on whichever thread has time to spare and run only the
        network here.
        """
        if len(inputs) == 0:
            return self.postprocess(
                {
                    "emotion": np.zeros((0, len(EMOTION_NAMES)), np.float32),
                    "gaze": np.zeros((0, len(GAZE_NAMES)), np.float32),
                    "au": np.zeros((0, len(AU_NAMES)), np.float32),
                }
            )
        chunks = [
            self.forward({"image": inputs[i : i + self.batch_size]}) for i in range(0, len(inputs), self.batch_size)
        ]
        return self.postprocess({n: np.concatenate([c[n] for c in chunks]) for n in OUTPUT_NAMES})
