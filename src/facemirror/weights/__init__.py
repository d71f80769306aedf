"""Weight files: the manifest, the user cache, sha256 verification, fetching and importing.

>>> from facemirror.weights import resolve
>>> resolve("mtl")  # the verified path, or WeightsMissingError saying how to get it
"""

from facemirror.weights.download import fetch
from facemirror.weights.manifest import WeightEntry, WeightFile, bundled_dir, load_manifest
from facemirror.weights.store import (
    CACHE_ENV,
    Verified,
    cache_dir,
    identify,
    import_file,
    resolve,
    sha256_file,
    sha256_tree,
    status,
    tree_size,
    verify,
    weights_dir,
)

__all__ = [
    "CACHE_ENV",
    "Verified",
    "WeightEntry",
    "WeightFile",
    "bundled_dir",
    "cache_dir",
    "fetch",
    "identify",
    "import_file",
    "load_manifest",
    "resolve",
    "sha256_file",
    "sha256_tree",
    "status",
    "tree_size",
    "verify",
    "weights_dir",
]
