"""The eyes: blink events per eye, how completely each eye closes, and eye narrowing with mouth movement.

- :func:`find_blinks` finds blink events in one eye's aspect-ratio series (any frame rate, NaN gaps, the
  person's own open-eye level); :func:`write_blinks_csv` writes them as ``{stem}_blinks.csv``.
- :func:`summarize_blinks` compares the two eyes (rate, duration, share complete, smallest opening).
- :func:`ocular_synkinesis` measures, per side, how much the eye narrows while that side's mouth corner
  moves away from rest (:func:`commissure_positions`, :func:`commissure_excursion`).

docs/eyes.md describes the method and its accuracy.
"""

from facemirror.blinks.events import BlinkEvent, blink_mask, find_blinks, open_eye_level
from facemirror.blinks.summary import BlinkSummary, summarize_blinks
from facemirror.blinks.synkinesis import SynkinesisIndex, commissure_excursion, commissure_positions, ocular_synkinesis
from facemirror.blinks.table import BLINK_COLUMNS, write_blinks_csv

__all__ = [
    "BLINK_COLUMNS",
    "BlinkEvent",
    "BlinkSummary",
    "SynkinesisIndex",
    "blink_mask",
    "commissure_excursion",
    "commissure_positions",
    "find_blinks",
    "ocular_synkinesis",
    "open_eye_level",
    "summarize_blinks",
    "write_blinks_csv",
]
