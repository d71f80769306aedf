"""The per-video HTML report (``{stem}_report.html``): plain data in (:class:`ReportData`), one file out.

Needs matplotlib, the ``report`` extra (``pip install 'facemirror[report]'``).
"""

from facemirror.report.data import ReportData, ReportFrame
from facemirror.report.render import render_report, write_report

__all__ = ["ReportData", "ReportFrame", "render_report", "write_report"]
