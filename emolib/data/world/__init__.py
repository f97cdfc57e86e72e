"""The emotion world: a seeded, offline default dataset for every modality of the papers.

One latent emotion (a label and a valence–arousal point, :mod:`.latent`) is rendered into
music audio + MIDI + tags (:mod:`.music`), EMOPIA-like piano clips (:mod:`.piano`), a
paired audio–MIDI corpus (:mod:`.paired`), expressive performances with mid-level ground
truth and listener descriptions (:mod:`.performances`, :mod:`.descriptions`,
:mod:`.midlevel`), Alm/ISEAR-like texts (:mod:`.text`) and DeepEmotion-like images
(:mod:`.images`). :func:`make_world` builds it once into the cache and loads it;
:func:`learnability_table` checks that simple baselines learn it, but not perfectly.

It is a teaching and testing instrument whose cue rules were written by this project;
it is never the papers' data.

Notebooks: all (``from emolib.data.world import make_world``).
"""
from __future__ import annotations

from emolib.data.world.core import (
    PROFILES,
    ROLES,
    SPLIT_PARAMETERS,
    WORLD_VERSION,
    World,
    make_world,
    resolve_params,
    split_sizes,
    world_dir,
    world_key,
)

__all__ = ["PROFILES", "ROLES", "SPLIT_PARAMETERS", "WORLD_VERSION", "World", "make_world",
           "resolve_params", "split_sizes", "world_dir", "world_key", "learnability_table"]


def learnability_table(world: World, seed: int = 0, **kwargs):
    """See :func:`emolib.data.world.learnability.learnability_table` (imported lazily)."""
    from emolib.data.world.learnability import learnability_table as _lt

    return _lt(world, seed, **kwargs)
