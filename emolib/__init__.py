"""emolib: the thin library behind the emotion-retrieval compendium.

One concept per module (see README.md): ``metrics``, ``losses``, ``features``,
``tables``, ``plots``, ``train``, ``data`` (taxonomies, the embedded *emotion world*,
real-dataset readers) and ``encoders`` (audio, text, image, symbolic, heads).
Sub-modules are imported explicitly, e.g. ``from emolib import metrics``.
"""
from __future__ import annotations

__version__ = "0.1.0"
