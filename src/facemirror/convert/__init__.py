"""Network conversion: PyTorch -> ONNX (fp32/fp16, cached), -> CoreML ML Program, and the ANE report.

Nothing here imports torch, onnx or coremltools until a function needs it.
"""

from facemirror.convert.ane import AneReport, AneRule, OpPlacement, ane_report
from facemirror.convert.cache import cached_onnx, converted_dir, read_manifest
from facemirror.convert.coreml import export_coreml
from facemirror.convert.onnx_export import export_onnx, fp16_onnx, to_fp16

__all__ = [
    "AneReport",
    "AneRule",
    "OpPlacement",
    "ane_report",
    "cached_onnx",
    "converted_dir",
    "export_coreml",
    "export_onnx",
    "fp16_onnx",
    "read_manifest",
    "to_fp16",
]
