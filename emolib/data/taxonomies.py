"""Label taxonomies, their valence–arousal coordinates, and the papers' label mappings.

Everything here is *data*: label sets of the datasets the four papers use, NRC VAD v1
coordinates (Mohammad 2018; valence, arousal, dominance in [0, 1]) of every label word,
the three text→music mappings of Won et al. 2021 (Table 2) and the image→music map of
Emo-CLIM (Stewart et al. 2024, official code). One function computes a mapping from data:
:func:`nearest_va_label` (nearest label in the valence–arousal plane).

Notebooks: 00_tour, 01_won2021, 02_emoclim2024, 04_zhu2023.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = [
    "TAXONOMIES",
    "TAXONOMY_INFO",
    "NRC_VAD",
    "EMOPIA_QUADRANT_VA",
    "EMOPIA_AROUSAL_HIGH",
    "EMOPIA_VALENCE_HIGH",
    "MAPPINGS",
    "labels",
    "vad",
    "va_centroid",
    "nearest_va_label",
    "va_mapping",
    "relevance",
    "compare_mappings",
    "taxonomy_table",
    "MIDLEVEL_NAMES",
    "MIDLEVEL8_NAMES",
]

#: Label sets, in a fixed order (the order used for class indices everywhere).
TAXONOMIES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "audioset": ("angry", "exciting", "funny", "happy", "sad", "scary", "tender"),
    "alm": ("angry", "fearful", "happy", "sad", "surprised"),
    "isear": ("anger", "disgust", "fear", "guilt", "joy", "sadness", "shame"),
    "deepemotion": ("amusement", "awe", "contentment", "excitement",
                    "anger", "disgust", "fear", "sadness"),
    "emopia": ("Q1", "Q2", "Q3", "Q4"),
})

#: The seven mid-level perceptual features (Aljanaki & Soleymani 2018), in the order of
#: the dataset's annotation file and of the official mid-level model's outputs. The one
#: definition: the reader (:mod:`emolib.data.midlevel_dataset`), the world
#: (``emolib.data.world.midlevel.MIDLEVEL_FEATURES``) and the model
#: (:mod:`emolib.encoders.midlevel`) import it from here.
MIDLEVEL_NAMES: tuple[str, ...] = ("melodiousness", "articulation", "rhythm_complexity",
                                   "rhythm_stability", "dissonance", "tonal_stability",
                                   "minorness")
#: Chowdhury et al.'s 8-d mid-level space: the 7 features + onset density.
MIDLEVEL8_NAMES: tuple[str, ...] = MIDLEVEL_NAMES + ("onset_density",)

#: Where each taxonomy comes from and which paper uses it in which role.
TAXONOMY_INFO: Mapping[str, dict[str, str]] = MappingProxyType({
    "audioset": {"dataset": "AudioSet mood subset (Gemmeke et al. 2017)", "modality": "music",
                 "papers": "Won 2021; Emo-CLIM 2024"},
    "alm": {"dataset": "Alm's affect corpus (Alm 2008)", "modality": "text (stories)",
            "papers": "Won 2021"},
    "isear": {"dataset": "ISEAR (Scherer & Wallbott 1994)", "modality": "text (situations)",
              "papers": "Won 2021"},
    "deepemotion": {"dataset": "DeepEmotion / FI (You et al. 2016)", "modality": "images",
                    "papers": "Emo-CLIM 2024"},
    "emopia": {"dataset": "EMOPIA (Hung et al. 2021)", "modality": "piano audio + MIDI",
               "papers": "Zhu 2023"},
})

#: NRC VAD lexicon v1 values (valence, arousal, dominance) of every label word used here.
NRC_VAD: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "angry": (0.122, 0.830, 0.604), "anger": (0.167, 0.865, 0.657),
    "fearful": (0.083, 0.482, 0.278), "fear": (0.073, 0.840, 0.293),
    "happy": (1.000, 0.735, 0.772), "sad": (0.225, 0.333, 0.149),
    "sadness": (0.052, 0.288, 0.164), "surprised": (0.784, 0.855, 0.539),
    "disgust": (0.052, 0.775, 0.317), "guilt": (0.208, 0.567, 0.206),
    "joy": (0.980, 0.824, 0.794), "shame": (0.060, 0.670, 0.155),
    "exciting": (0.950, 0.792, 0.789), "excitement": (0.896, 0.684, 0.731),
    "funny": (0.918, 0.610, 0.566), "tender": (0.630, 0.520, 0.509),
    "scary": (0.062, 0.952, 0.528), "amusement": (0.929, 0.837, 0.803),
    "awe": (0.469, 0.740, 0.300), "contentment": (0.875, 0.610, 0.782),
    "calm": (0.875, 0.100, 0.282), "relaxed": (0.865, 0.090, 0.382),
    "tense": (0.396, 0.439, 0.655), "peaceful": (0.867, 0.108, 0.569),
})

#: EMOPIA quadrants placed at the centres of the valence–arousal quadrants (our convention:
#: EMOPIA gives quadrants, not coordinates). Q1 = high V high A, Q2 = low V high A,
#: Q3 = low V low A, Q4 = high V low A.
EMOPIA_QUADRANT_VA: Mapping[str, tuple[float, float]] = MappingProxyType({
    "Q1": (0.75, 0.75), "Q2": (0.25, 0.75), "Q3": (0.25, 0.25), "Q4": (0.75, 0.25),
})
#: EMOPIA's binary arousal / valence tasks: which quadrants count as "high".
EMOPIA_AROUSAL_HIGH: frozenset[str] = frozenset({"Q1", "Q2"})
EMOPIA_VALENCE_HIGH: frozenset[str] = frozenset({"Q1", "Q4"})

_WON_TABLE2 = {
    # text label: (VA, W2V, Manual) — Won et al. 2021, Table 2. The paper writes the first
    # Alm row as "anger"; Alm's label is "angry" (Sec. 4.1), used here.
    "alm": {
        "angry": ("angry", "angry", "angry"),
        "fearful": ("sad", "scary", "scary"),
        "happy": ("happy", "happy", "exciting, funny, happy"),
        "sad": ("sad", "sad", "sad"),
        "surprised": ("exciting", "happy", "exciting"),
    },
    "isear": {
        "anger": ("angry", "angry", "angry"),
        "disgust": ("angry", "angry", "angry, scary"),
        "fear": ("angry", "angry", "scary"),
        "guilt": ("sad", "angry", "angry, sad"),
        "joy": ("exciting", "tender", "exciting, funny, happy"),
        "sadness": ("sad", "tender", "sad"),
        "shame": ("angry", "sad", "angry, sad"),
    },
}


def _won_mappings() -> dict[str, dict[str, tuple[str, ...]]]:
    out: dict[str, dict[str, tuple[str, ...]]] = {"va": {}, "w2v": {}, "manual": {}}
    for table in _WON_TABLE2.values():
        for text_label, cells in table.items():
            for name, cell in zip(("va", "w2v", "manual"), cells):
                out[name][text_label] = tuple(s.strip() for s in cell.split(","))
    return out


#: Label mappings of the papers. ``MAPPINGS["won2021"][m][text_label]`` is the tuple of
#: AudioSet mood labels relevant to a text label under mapping m in {"va", "w2v",
#: "manual"} (Alm and ISEAR labels are disjoint, so one dict serves both).
#: ``MAPPINGS["won2021_train_pairs"]`` is the W2V pairing the official code trains
#: metric learning with (official_code_notes.md; it differs from Table 2 for 'joy').
#: ``MAPPINGS["emoclim"][image_label]`` is the AudioSet label an image label maps to;
#: awe, disgust (images) and tender (music) are dropped.
MAPPINGS: Mapping[str, Mapping[str, tuple[str, ...]] | Mapping[str, Mapping[str, tuple[str, ...]]]]
MAPPINGS = MappingProxyType({
    "won2021": MappingProxyType({k: MappingProxyType(v) for k, v in _won_mappings().items()}),
    "won2021_train_pairs": MappingProxyType({
        "angry": ("angry",), "fearful": ("scary",), "happy": ("happy",), "sad": ("sad",),
        "surprised": ("happy",), "anger": ("angry",), "disgust": ("angry",),
        "fear": ("angry",), "guilt": ("angry",), "joy": ("tender",),
        "sadness": ("tender",), "shame": ("sad",),
    }),
    "emoclim": MappingProxyType({
        "excitement": ("exciting",), "contentment": ("happy",), "amusement": ("funny",),
        "anger": ("angry",), "fear": ("scary",), "sadness": ("sad",),
    }),
})


def labels(taxonomy: str) -> tuple[str, ...]:
    """Return the label set of ``taxonomy`` (raises ``KeyError`` naming the valid ones)."""
    try:
        return TAXONOMIES[taxonomy]
    except KeyError:
        raise KeyError(f"unknown taxonomy {taxonomy!r}; "
                       f"expected one of {sorted(TAXONOMIES)}") from None


def vad(word: str) -> tuple[float, float, float]:
    """NRC VAD v1 (valence, arousal, dominance) of a label word, each in [0, 1]."""
    try:
        return NRC_VAD[word]
    except KeyError:
        raise KeyError(f"no NRC VAD entry for {word!r} in emolib.data.taxonomies.NRC_VAD") from None


def va_centroid(taxonomy: str, label: str) -> tuple[float, float]:
    """Valence–arousal centroid of ``label``: NRC VAD of the word, or EMOPIA's quadrant centre."""
    if label not in labels(taxonomy):
        raise KeyError(f"{label!r} is not a label of taxonomy {taxonomy!r}: {labels(taxonomy)}")
    if taxonomy == "emopia":
        return EMOPIA_QUADRANT_VA[label]
    v, a, _ = vad(label)
    return (v, a)


def nearest_va_label(label: str, src_taxonomy: str, dst_taxonomy: str) -> str:
    """The ``dst_taxonomy`` label nearest to ``label`` in the valence–arousal plane.

    Euclidean distance between NRC VAD (valence, arousal) points, as in Won et al. 2021's
    "VA" mapping. Ties go to the first label in the destination's order.
    """
    src = np.asarray(va_centroid(src_taxonomy, label))
    dst = labels(dst_taxonomy)
    points = np.asarray([va_centroid(dst_taxonomy, d) for d in dst])
    return dst[int(np.argmin(np.linalg.norm(points - src, axis=1)))]


def va_mapping(src_taxonomy: str, dst_taxonomy: str) -> dict[str, tuple[str, ...]]:
    """The whole nearest-VA mapping ``{src label: (dst label,)}``."""
    return {s: (nearest_va_label(s, src_taxonomy, dst_taxonomy),) for s in labels(src_taxonomy)}


def relevance(mapping: Mapping[str, Iterable[str]] | None) -> dict[str, frozenset[str]] | None:
    """Turn a label mapping into the ``relevance`` argument of ``emolib.metrics``."""
    if mapping is None:
        return None
    return {k: frozenset(v) for k, v in mapping.items()}


def compare_mappings() -> pd.DataFrame:
    """Won et al. Table 2 beside the mappings computed here (nearest VA label).

    Columns: text dataset, text label, paper's VA / W2V / Manual cells, our nearest-VA
    label, and whether it agrees with the paper's VA column.
    """
    rows = []
    for dataset, table in _WON_TABLE2.items():
        for text_label, (va, w2v, manual) in table.items():
            ours = nearest_va_label(text_label, dataset, "audioset")
            rows.append({"dataset": dataset, "label": text_label, "paper_va": va,
                         "paper_w2v": w2v, "paper_manual": manual, "ours_va": ours,
                         "va_agrees": ours == va})
    return pd.DataFrame(rows)


def taxonomy_table() -> pd.DataFrame:
    """One row per (taxonomy, label) with its valence/arousal centroid (tour notebook)."""
    rows = []
    for tax, labs in TAXONOMIES.items():
        for lab in labs:
            v, a = va_centroid(tax, lab)
            rows.append({"taxonomy": tax, "dataset": TAXONOMY_INFO[tax]["dataset"],
                         "modality": TAXONOMY_INFO[tax]["modality"], "label": lab,
                         "valence": v, "arousal": a})
    return pd.DataFrame(rows)
