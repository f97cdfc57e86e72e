"""Losses (flat re-export): triplet + distance-weighted sampling, focal, supervised contrastive.

Notebooks: 01_won2021 (triplet, focal), 02_emoclim2024 (supcon).
"""
from __future__ import annotations

from .focal import *  # noqa: F401,F403
from .focal import __all__ as _focal_all
from .supcon import *  # noqa: F401,F403
from .supcon import __all__ as _supcon_all
from .triplet import *  # noqa: F401,F403
from .triplet import __all__ as _triplet_all

__all__ = [*_triplet_all, *_focal_all, *_supcon_all]
