"""A video's eyes, frame by frame: each eye's aspect ratio and each mouth corner's place, then blinks and synkinesis.

Fed with the face of the video itself (never a mirrored face, whose two eyes
are copies of one), for the subject's anatomical sides: a selfie recording
shows each side as the other, so its sides are swapped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from facemirror.aus.blink import layout_ear
from facemirror.blinks.events import BlinkEvent, blink_mask, find_blinks
from facemirror.blinks.summary import summarize_blinks
from facemirror.blinks.synkinesis import commissure_excursion, commissure_positions, ocular_synkinesis
from facemirror.blinks.table import blinks_table
from facemirror.layouts import SIDES, LandmarkLayout
from facemirror.measures.rest import rest_mask
from facemirror.settings import Measures
from facemirror.tabular import CsvTableWriter


class EyeSeries:
    """Collects, per frame, both eyes' aspect ratios and mouth-corner positions; then finds blinks and synkinesis."""

    def __init__(self, fps: float, selfie: bool = False, settings: Measures | None = None) -> None:
        self.fps = float(fps) if fps and math.isfinite(fps) else 30.0
        self.selfie = selfie
        self.settings = settings or Measures()
        self._times: list[float] = []
        self._ear: list[tuple[float, float]] = []
        self._corners: list[np.ndarray] = []
        self._events: tuple[list[BlinkEvent], list[BlinkEvent]] | None = None

    def add(self, timestamp: float, landmarks: np.ndarray | None, layout: LandmarkLayout | None) -> None:
        """One frame: its face's landmarks (None without a face)."""
        self._times.append(float(timestamp))
        if landmarks is None or layout is None:
            self._ear.append((math.nan, math.nan))
            self._corners.append(np.full((2, 2), np.nan))
            return
        ear = layout_ear(landmarks, layout)
        corners = commissure_positions(landmarks, layout)
        if self.selfie:
            ear, corners = (ear[1], ear[0]), corners[::-1]
        self._ear.append(ear)
        self._corners.append(corners)

    @property
    def ear(self) -> np.ndarray:
        """``(frames, 2)``: the subject's (left, right) eye aspect ratio per frame."""
        return np.array(self._ear, dtype=np.float64).reshape(-1, 2)

    def events(self) -> tuple[list[BlinkEvent], list[BlinkEvent]]:
        """(left, right) blink events (computed once)."""
        if self._events is None:
            times = np.array(self._times)
            self._events = tuple(find_blinks(self.ear[:, k], self.fps, timestamps=times) for k in range(2))  # type: ignore[assignment]
        assert self._events is not None
        return self._events

    def table(self, path: str) -> CsvTableWriter:
        """``{stem}_blinks.csv``, written under its temporary name (the caller's output group renames it)."""
        return blinks_table(path, *self.events())

    def summary(self) -> dict[str, Any]:
        """The per-eye blink summary and each side's ocular synkinesis index, as plain data."""
        left, right = self.events()
        times = np.array(self._times)
        ear = self.ear
        corners = np.array(self._corners).reshape(-1, 2, 2)
        seen = np.isfinite(corners).all(axis=(1, 2))
        rest = rest_mask(times, seen, self.settings)
        synkinesis = {}
        for k, (side, events) in enumerate(zip(SIDES, (left, right))):
            excursion = commissure_excursion(corners[:, k], self.fps, rest=rest if rest.any() else None)
            index = ocular_synkinesis(side, ear[:, k], excursion, self.fps, blink_mask(events, len(times)))
            synkinesis[side] = index.to_dict()
        return {
            "blinks": summarize_blinks(ear[:, 0], ear[:, 1], left, right, times).to_dict(),
            "ocular_synkinesis": synkinesis,
        }
