# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (emolib)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 — A tour of the emotion-retrieval compendium
#
# This compendium re-implements, runs and checks four papers on **emotion-aware music
# retrieval and recognition**, end to end, on a laptop CPU:
#
# | notebook | paper | what it reproduces |
# |---|---|---|
# | `01_won2021` | M. Won, J. Salamon, N. J. Bryan, G. J. Mysore, X. Serra. *Emotion Embedding Spaces for Matching Music to Stories.* ISMIR 2021. | text→music retrieval through six emotion embedding spaces (Tables 2–4, Fig. 3) |
# | `02_emoclim2024` | S. Stewart, K. Avramidis, T. Feng, S. Narayanan. *Emotion-Aligned Contrastive Learning Between Images and Music.* ICASSP 2024. | image↔music supervised-contrastive alignment, 4-direction retrieval, tagging transfer (Tables 1–3) |
# | `03_chowdhury2023` | S. Chowdhury, G. Widmer. *Expressivity-aware Music Performance Retrieval using Mid-level Perceptual Features and Emotion Word Embeddings.* FIRE 2023. | free-text → expressive performance retrieval, leave-one-piece-out (Tables 1–2, Fig. 3) |
# | `04_zhu2023` | J. Zhu, Y. Wei, Y. Deng, et al. *Symbolic & Acoustic: Multi-domain Music Emotion Modeling for Instrumental Music.* 2023. | acoustic + transcribed-symbolic piano emotion recognition with cross-domain attention (Tables 2–4) |
#
# **Data.** None of the papers' datasets can be downloaded on a machine without network,
# and a reader's laptop may have none of them. Every notebook therefore runs by default on
# the **emotion world** (`emolib.data.world`): a deterministic, seeded generator that
# renders one latent emotion into music audio + MIDI, expressive piano performances, story
# texts, images and tags. It is a *teaching and testing instrument* whose cue rules were
# written by this project — never the papers' data — and every table says which data
# produced it. With `data_root` pointing at the real datasets (see README), the same code
# reads the published file layouts.
#
# **Running.** `make reproduce` executes every numbered notebook with papermill and
# writes `paper_tables/` and `figures/`; `make test` runs the unit tests and nbval on the
# notebooks. Parameters are overridden per run, e.g.
# `make reproduce NB=00 PROFILE=quick SEED=1` or, for any knob,
# `papermill notebooks/00_tour.ipynb out.ipynb -p profile quick`.
#
# This notebook shows the label taxonomies of the four papers, where their labels sit on
# the valence–arousal plane, and the emotion world itself.

# %% tags=["parameters"]
seed = 0  # world seed
profile = "default"  # "quick" | "default" | "paper": size of the world
data_root = None  # unused here: the tour always shows the embedded world
device = "cpu"  # unused here: nothing is trained in the tour

# %%
# NBVAL_IGNORE_OUTPUT
import platform

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import emolib
from emolib import plots
from emolib.data import taxonomies as tx
from emolib.io import atomic_write_text
from emolib.paths import tables_dir

plots.set_style()
print(f"emolib {emolib.__version__} | python {platform.python_version()} | torch {torch.__version__}"
      f" | numpy {np.__version__} | pandas {pd.__version__}")
print(f"seed={seed} profile={profile} device={device}")

# %% [markdown]
# ## The label taxonomies
#
# The papers connect datasets whose emotion vocabularies differ: AudioSet's 7 music moods,
# Alm's 5 story emotions, ISEAR's 7 situation emotions, DeepEmotion's 8 image emotions,
# and EMOPIA's 4 valence–arousal quadrants. `emolib.data.taxonomies` keeps them as data,
# each word with its valence and arousal from the NRC VAD lexicon (Mohammad 2018). EMOPIA's
# quadrants have no words; we place them at the quadrant centres.

# %%
# NBVAL_CHECK_OUTPUT
taxa = tx.taxonomy_table()
overview = (taxa.groupby("taxonomy", sort=False)
            .agg(dataset=("dataset", "first"), modality=("modality", "first"),
                 n_labels=("label", "size"), labels=("label", ", ".join)))
print(overview.to_string())

# %%
# NBVAL_CHECK_OUTPUT
print(taxa[["taxonomy", "label", "valence", "arousal"]].to_string(index=False, float_format="%.3f"))

# %% [markdown]
# The taxonomy table is written to `paper_tables/taxonomies.{csv,md}` so the other
# notebooks and the README can refer to it.

# %%
csv_text = taxa.to_csv(index=False, float_format="%.3f", lineterminator="\n")
md_text = ("# Label taxonomies and their valence–arousal centroids\n\n"
           "Source: label sets of the datasets; valence/arousal from NRC VAD v1 "
           "(EMOPIA quadrant centres by convention). Written by notebooks/00_tour.\n\n"
           + taxa.to_markdown(index=False, floatfmt=".3f") + "\n")
atomic_write_text(tables_dir() / "taxonomies.csv", csv_text)
atomic_write_text(tables_dir() / "taxonomies.md", md_text)

# %% [markdown]
# ## Mapping one taxonomy onto another
#
# Won et al. (2021, Table 2) evaluate text→music retrieval by mapping each text label to
# music labels in three ways: nearest label in the valence–arousal plane (**VA**), nearest
# in Word2Vec space (**W2V**), and by hand (**Manual**). The VA mapping can be recomputed
# from the lexicon values alone — `taxonomies.nearest_va_label` — and the last column says
# whether it agrees with the paper's VA column, row by row.

# %%
# NBVAL_CHECK_OUTPUT
print(tx.compare_mappings().to_string(index=False))

# %% [markdown]
# ## The valence–arousal plane
#
# Every label of every taxonomy on one plane (circumplex model of affect, Russell 1980).
# Labels that sit close together are the ones the papers' mappings pair across
# vocabularies; the emotion world draws each item's latent point around these centroids.

# %%
fig, ax = plt.subplots(figsize=(8, 7))
markers = {"audioset": "o", "alm": "s", "isear": "^", "deepemotion": "D", "emopia": "X"}
colours = plots.label_palette(list(tx.TAXONOMIES))
for tax, labs in tx.TAXONOMIES.items():
    pts = {lab: tx.va_centroid(tax, lab) for lab in labs}
    plots.va_plane(ax, pts, marker=markers[tax], colour=colours[tax], label=tax, size=80,
                   annotate=False)
# a word shared by two taxonomies (happy, sad) is one point: name it once
names = taxa.groupby(["valence", "arousal"], sort=False).label.agg(lambda s: " / ".join(dict.fromkeys(s)))
for (v, a), name in names.items():
    ax.annotate(name, (v, a), textcoords="offset points", xytext=(5, 4 if v < 0.9 else -12), fontsize=9)
ax.legend(title="taxonomy", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=True)
ax.set_title("Emotion labels of the four papers on the valence–arousal plane")
plots.save_figure(fig, "tour_va_plane.png")
plt.show()

# %% [markdown]
# ## The emotion world

# %% [markdown]
# ## In this notebook we:
# - listed the five label taxonomies the papers use and their NRC VAD coordinates
#   (`paper_tables/taxonomies.{csv,md}`),
# - recomputed Won et al.'s valence–arousal label mapping from the lexicon,
# - drew all labels on the valence–arousal plane (`figures/tour_va_plane.png`),
# - and met the emotion world that every other notebook runs on by default.
