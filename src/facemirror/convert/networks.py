"""The OpenFace 3.0 networks the conversion scripts know, as their model classes describe them.

Each model class carries its :class:`~facemirror.models.source.NetworkSpec`
(``RetinaFace.network``, ...): the torch module, tensor names, example input
and dynamic axes. The conversion tools read it from there, so a conversion
and ``from_weights`` always agree on what the network is.
"""

from __future__ import annotations

from facemirror.errors import ConversionError
from facemirror.models.mtl import MTL
from facemirror.models.retinaface import RetinaFace
from facemirror.models.source import NetworkSpec
from facemirror.models.star import STAR

NETWORKS: dict[str, NetworkSpec] = {cls.network.name: cls.network for cls in (RetinaFace, STAR, MTL)}


def network(name: str) -> NetworkSpec:
    """The spec called ``name``, or a ConversionError listing the known ones."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ConversionError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}") from None
