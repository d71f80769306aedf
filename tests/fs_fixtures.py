"""Filesystem situations the error tests need."""

from __future__ import annotations

import os
from pathlib import Path


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write to: read-only by mode, or sysfs when running as root."""
    if os.name == "posix" and os.geteuid() == 0:
        return Path("/sys/kernel")  # root ignores file modes; sysfs refuses new files even to root
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    return ro
