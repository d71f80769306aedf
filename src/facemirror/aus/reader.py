"""Read an AU CSV (facemirror's or OpenFace 2.0's own) into a pandas DataFrame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facemirror.errors import FaceMirrorError


def read_csv(path: str | Path) -> Any:
    """A ``pandas.DataFrame`` of an AU CSV, with ``","`` or OpenFace 2.0's ``", "`` separator.

    Column names are stripped of spaces; empty cells read as NaN.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FaceMirrorError(f"{path}: no such CSV file")
    try:
        frame = pd.read_csv(path, sep=",", skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise FaceMirrorError(f"{path}: not a readable CSV file ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
