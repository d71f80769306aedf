"""Parts a researcher might write themselves, for the composition tests (module level, so they pickle)."""

from __future__ import annotations

import numpy as np

from facemirror.models import AUModel, AUPrediction


class Brightness(AUModel):
    """A researcher's own 'AU model': the mean brightness of each face crop, in one column."""

    name = "brightness"
    labels = {"brightness": ("brightness",)}

    def predict(self, items: list[np.ndarray]) -> AUPrediction:
        return AUPrediction({"brightness": np.array([[float(c.mean())] for c in items])}, dict(self.labels))
