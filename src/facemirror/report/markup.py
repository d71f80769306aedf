"""Small HTML building blocks for the report: escaped text, tables, inline images, numbers with units."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from html import escape

import cv2
import numpy as np

#: decimals shown per unit (a tenth of a millimetre is below what a landmark resolves; scores in thousandths)
DECIMALS = {"mm": 2, "mm2": 1, "deg": 1, "score": 3, "s": 2, "ratio": 2}
#: a side's name for people: the subject's own side, never the viewer's
SIDE_WORDS = {"left": "subject's left", "right": "subject's right", "equal": "neither (equal)"}


def number(value: object, unit: str = "", with_unit: bool = False) -> str:
    """``value`` rounded for its unit, or an en dash for a missing value (None, NaN)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return "–" if value is None else escape(str(value))
    if isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif not math.isfinite(float(value)):
        return "–"
    else:
        text = f"{float(value):.{DECIMALS.get(unit, 3)}f}"
    return f"{text} {unit_text(unit)}" if with_unit and unit else text


def unit_text(unit: str) -> str:
    """A unit as printed: ``mm2`` as mm², ``deg`` as °."""
    return {"mm2": "mm²", "deg": "°"}.get(unit, unit)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "", caption: str = "") -> str:
    """A table from already-escaped cell HTML; ``caption`` (escaped here) says what it holds."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="{css}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_values(pairs: Iterable[tuple[str, str]], css: str = "kv") -> str:
    """A two-column table of (escaped label, cell HTML) pairs."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="{css}"><tbody>{body}</tbody></table>'


def png_uri(data: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so the page needs no other file."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def image_png(image: np.ndarray, max_side: int = 360) -> bytes:
    """A BGR uint8 picture as PNG bytes, shrunk (area-averaged) so its longer side is at most ``max_side``."""
    image = np.ascontiguousarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image, got shape {image.shape} and dtype {image.dtype}")
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return encoded.tobytes()


def img(data: bytes, alt: str, css: str = "", element_id: str = "") -> str:
    """An ``<img>`` of PNG ``data`` inlined as a data URI."""
    ident = f' id="{escape(element_id)}"' if element_id else ""
    return f'<img{ident} class="{css}" src="{png_uri(data)}" alt="{escape(alt)}">'


def figure(body: str, caption: str, element_id: str = "", css: str = "") -> str:
    """A ``<figure>`` around ``body`` with an escaped ``caption``."""
    ident = f' id="{escape(element_id)}"' if element_id else ""
    return f'<figure{ident} class="{css}">{body}<figcaption>{escape(caption)}</figcaption></figure>'
