"""Inference backends: an :class:`Engine` runs one network; :func:`select_engine` picks one at run time."""

from facemirror.backends.base import (
    Backend,
    Engine,
    EngineInfo,
    NetworkSource,
    default_preference,
    get_backend,
    register_backend,
    registered_backends,
    select_engine,
)
from facemirror.errors import BackendUnavailable

__all__ = [
    "Backend",
    "BackendUnavailable",
    "Engine",
    "EngineInfo",
    "NetworkSource",
    "default_preference",
    "get_backend",
    "register_backend",
    "registered_backends",
    "select_engine",
]
