"""Won et al. (ISMIR 2021), *Emotion Embedding Spaces for Matching Music to Stories*: the
six text→music retrieval models, their training and their scoring.

The notebook ``01_won2021`` keeps the narrative, the equations and the parameters; this
module holds the experiment as functions with explicit arguments:

* :class:`Budget` — every size and schedule that ``profile`` decides, decoded once
  (:func:`budget`), read by the notebook and by the audio pre-trainer alike;
* :class:`Experiment` — the frozen (or fine-tunable) features of one run and the label
  spaces (:func:`make_experiment`), plus the per-seed caches of the models that two text
  datasets share;
* one ``run_*`` function per model of the paper's §3.2 (:data:`MODELS`), each returning a
  :class:`RunResult`: the macro P@5 / MRR / micro P@5 under the three label mappings
  (Table 3), the test embeddings (Fig. 3, Table 4) and the **per-query** P@5 and
  reciprocal rank that the claims bootstrap resamples (:func:`item_rows`).

Paper sections: §3.1 (pre-trained extractors), §3.2 (the six models), §4 (data,
mappings), §5.1 (Table 3). Notebook: 01_won2021.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from emolib import losses, metrics
from emolib.data import taxonomies as tx
from emolib.encoders import audio as audio_enc
from emolib.encoders import musicnn as musicnn_enc
from emolib.encoders import text as text_enc
from emolib.encoders.heads import MLPClassifier, ProjectionHead
from emolib.seed import seed_everything
from emolib.train import fit

__all__ = ["MUSIC", "ALM", "ISEAR", "TEXT_TAX", "MAPPING_NAMES", "MODELS", "PAPER_TABLE4",
           "PAPER_TABLE1", "TABLE1_QUERIES", "music_tag_words", "table1_vocabulary",
           "table1_rows", "table1_wide", "table1_spaces", "WORDLLAMA_SPACE", "Budget", "budget",
           "is_musicnn", "AudioFeatures", "musicnn_features", "cnn_features", "with_audio",
           "COMPARE_MODELS", "audio_comparison_rows", "probe_rows", "ModelRuns", "run_models",
           "other_world", "Experiment",
           "make_experiment", "RunResult", "run_model", "run_classification", "run_multihead",
           "run_regression", "run_metric", "score_embeddings", "score_classification",
           "item_rows", "table3_rows", "setting_name", "load_data", "chance_p5", "table4",
           "silhouette_items", "fig3"]

MUSIC: tuple[str, ...] = tuple(tx.TAXONOMIES["audioset"])  #: AudioSet's 7 music moods
ALM: tuple[str, ...] = tuple(tx.TAXONOMIES["alm"])  #: Alm's 5 story emotions
ISEAR: tuple[str, ...] = tuple(tx.TAXONOMIES["isear"])  #: ISEAR's 7 situation emotions
#: Text dataset name -> its taxonomy key.
TEXT_TAX: dict[str, str] = {"Alm": "alm", "ISEAR": "isear"}
#: Mapping key -> its name in the tables (paper Table 2 / 3).
MAPPING_NAMES: dict[str, str] = {"va": "VA", "w2v": "W2V", "manual": "Manual"}
#: The six models of §3.2, in the paper's order (their names in the tables).
MODELS: tuple[str, ...] = ("Classification", "Multi-head classification", "V-A regression",
                           "W2V regression", "Metric learning (2-branch)",
                           "Metric learning (3-branch)")
#: The paper's Table 4: model -> (retrieval, distribution, mapping); "." = not applicable.
PAPER_TABLE4: dict[str, tuple[str, str, str]] = {
    "Classification": ("fail", ".", "."), "Multi-head classification": ("fail", ".", "."),
    "V-A regression": ("success", "continuous", "manual"),
    "W2V regression": ("success", "discriminative", "data-driven"),
    "Metric learning (2-branch)": ("success", "discriminative", "data-driven"),
    "Metric learning (3-branch)": ("success", "continuous", "data-driven")}

_HEAD_KINDS = ("music_cls", "text_cls", "va", "w2v", "metric")


# --------------------------------------------------------------------------------------
# the budget: everything ``profile`` decides, decoded once
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """Sizes and schedules of one run of notebook 01 (:func:`budget` decodes them).

    ``audio_arch`` the music branch's pre-trained model (a musicnn model: real weights,
    frozen; or a CNN of :data:`emolib.encoders.audio.ARCHS`) and ``n_chunks`` its
    evaluation chunks (musicnn: 3-s patches) per clip; ``compare_audio_arch`` the CNN of the
    comparison rows (None: none) and ``compare_n_chunks`` its chunks; ``epochs`` head-training
    epochs; ``lr`` their learning rate; ``tagger_epochs`` / ``tagger_lr`` / ``audio_width``
    the CNN's pre-training on the world's tags (:func:`emolib.encoders.audio.pretrained_tagger`
    gets them explicitly, never its own profile defaults; width None without a CNN);
    ``finetune_audio`` / ``finetune_text`` train a copy of the encoder with every branch (the
    paper; a CNN only); ``hidden`` the heads' hidden width and ``widths`` the width per head
    kind (the official code's in the paper profile).
    """

    profile: str
    audio_arch: str
    n_chunks: int
    compare_audio_arch: str | None
    compare_n_chunks: int
    epochs: int
    lr: float
    tagger_epochs: int
    tagger_lr: float
    audio_width: int | None
    finetune_audio: bool
    finetune_text: bool
    hidden: int
    widths: Mapping[str, int]

    @property
    def paper(self) -> bool:
        """True for ``profile="paper"``."""
        return self.profile == "paper"

    @property
    def musicnn(self) -> bool:
        """True when the music branch reads musicnn's (frozen) features."""
        return is_musicnn(self.audio_arch)

    @property
    def cnn_arch(self) -> str | None:
        """The CNN that is pre-trained on the world's tags (or loaded from
        ``audio_checkpoint`` on real data): the main encoder or the comparison one."""
        return self.compare_audio_arch if self.musicnn else self.audio_arch


def is_musicnn(arch: str) -> bool:
    """True for one of musicnn's models (:data:`emolib.encoders.musicnn.MODELS`)."""
    return arch in musicnn_enc.MODELS


def budget(profile: str, *, audio_arch: str = "MTT_musicnn",
           compare_audio_arch: str | None = "won2021_resnet", n_chunks: int | None = None,
           epochs: int | None = None, lr: float | None = None,
           tagger_epochs: int | None = None, finetune_audio: bool | None = None,
           finetune_text: bool | None = None) -> Budget:
    """The :class:`Budget` of ``profile`` ("quick" | "default" | "paper"); a parameter
    that is not None overrides the profile's value.

    quick / default / paper: evaluation chunks 4 / 4 / 16 for a CNN, 3 / 3 / 16 musicnn
    patches (3 s each: three cover a 10-s clip); head epochs 10 / 15 / 100; head lr 1e-3 /
    1e-3 / 1e-4; CNN pre-training 2 / 3 / 100 epochs (lr 1e-3 / 1e-3 / 1e-4) at width 8 / 16
    / the paper's; fine-tuning off / off / on (a CNN only: musicnn stays frozen); head width
    64 / 128 / the official code's per head (64 music classifier, 512 text classifier, 64 VA,
    128 metric; 128 W2V). The comparison CNN is never fine-tuned and ignores ``n_chunks``.
    Notebook: 01_won2021.
    """
    if profile not in ("quick", "default", "paper"):
        raise ValueError(f"profile={profile!r}: expected 'quick', 'default' or 'paper'")
    known = (*audio_enc.ARCHS, *musicnn_enc.MODELS)
    if audio_arch not in known:
        raise ValueError(f"audio_arch={audio_arch!r}: expected one of {known}")
    if compare_audio_arch is not None and compare_audio_arch not in audio_enc.ARCHS:
        raise ValueError(f"compare_audio_arch={compare_audio_arch!r}: expected None or one of "
                         f"{tuple(audio_enc.ARCHS)}")
    musicnn = is_musicnn(audio_arch)
    if musicnn and finetune_audio:
        raise ValueError(f"finetune_audio=True: {audio_arch} is used frozen (its TensorFlow "
                         "weights are read for inference only); fine-tune a CNN audio_arch")
    paper = profile == "paper"
    hidden = 128 if profile in ("default", "paper") else 64
    widths = ({"music_cls": 64, "text_cls": 512, "va": 64, "w2v": hidden, "metric": 128}
              if paper else dict.fromkeys(_HEAD_KINDS, hidden))
    cnn = compare_audio_arch if musicnn else audio_arch
    cnn_chunks = 16 if paper else 4
    return Budget(
        profile=profile, audio_arch=audio_arch,
        n_chunks=int(n_chunks or (16 if paper else 3 if musicnn else cnn_chunks)),
        compare_audio_arch=None if compare_audio_arch == audio_arch else compare_audio_arch,
        compare_n_chunks=cnn_chunks,
        epochs=int(epochs or {"quick": 10, "default": 15, "paper": 100}[profile]),
        lr=float(lr or (1e-4 if paper else 1e-3)),
        tagger_epochs=int(tagger_epochs or {"quick": 2, "default": 3, "paper": 100}[profile]),
        tagger_lr=1e-4 if paper else 1e-3,
        audio_width=(None if cnn is None else audio_enc.PAPER_WIDTHS[cnn] if paper
                     else audio_enc.PROFILE_WIDTHS[profile]),
        finetune_audio=(not musicnn and paper) if finetune_audio is None else bool(finetune_audio),
        finetune_text=paper if finetune_text is None else bool(finetune_text),
        hidden=hidden, widths=widths)


# --------------------------------------------------------------------------------------
# Table 1 (§2.3): nearest words of a tag in each word space
# --------------------------------------------------------------------------------------
#: The paper's Table 1: the 10 nearest words of "chill" in GoogleNews Word2Vec and in the
#: music-domain word embedding of its ref. [35], in the paper's order.
PAPER_TABLE1: dict[str, tuple[str, ...]] = {
    "GoogleNews": ("chilly", "cold", "chilled", "chills", "shivers", "shiver", "warm",
                   "frigid", "frosty", "balmy"),
    "Domain-specific [35]": ("chill_out", "relax", "chilled", "kick_back", "relaxing",
                             "chill-out", "chilled_out", "downtempo", "down_tempo", "unwind")}
#: Query words of our Table 1: the paper's "chill" and the AudioSet mood labels.
TABLE1_QUERIES: tuple[str, ...] = ("chill", *MUSIC)


def music_tag_words() -> list[str]:
    """The tag names of musicnn's MagnaTagATune and Million Song Dataset models (92 words and
    phrases, lower-cased): the "music-related words" that Table 1 highlights."""
    return sorted({t.lower() for m in ("MTT_musicnn", "MSD_musicnn")
                   for t in musicnn_enc.tag_names(m)})


def table1_vocabulary(min_emotions: int = 2) -> list[str]:
    """Candidate neighbours of Table 1: the NRC EmoLex words (as ``nrclex`` ships them)
    associated with at least ``min_emotions`` of its eight emotions (2119 words for 2;
    positive / negative do not count), plus :func:`music_tag_words`; sorted, unique."""
    from emolib.encoders.ewe import load_nrc_emolex

    basic = {"anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust"}
    words = {w for w, emos in load_nrc_emolex().items() if len(basic & set(emos)) >= min_emotions}
    return sorted(words | set(music_tag_words()))


#: Name of the comparison space of Table 1.
WORDLLAMA_SPACE = "WordLlama l2_supercat 256-d"


def table1_spaces(words: Sequence[str], vectors: Any = None) -> dict[str, Any]:
    """The word spaces of Table 1 over ``words``: the run's own (MiniLM static word vectors,
    or the words and phrases the user's ``vectors`` file can embed) and WordLlama."""
    from emolib.encoders import wordvec

    if vectors is None:
        main = wordvec.static_word_vectors(words)
    else:
        keep = []
        for w in words:
            try:
                keep.append((w, vectors.phrase(w)))
            except KeyError:
                continue
        main = wordvec.WordVectors([w for w, _ in keep], np.stack([v for _, v in keep]),
                                   name=vectors.name)
    return {main.name: main, WORDLLAMA_SPACE: wordvec.wordllama_word_vectors(words)}


def table1_rows(spaces: Mapping[str, Any], queries: Sequence[str], vocabulary: Sequence[str],
                k: int = 10, seed: int = 0) -> pd.DataFrame:
    """Table 1 as tidy rows: for each word space (name → a ``WordVectors`` holding the
    queries and the vocabulary) and query, its ``k`` nearest vocabulary words by cosine
    (the query itself excluded), one row each: setting ``query=…; space=…; rank=…; word=…;
    music tag=yes|no``, metric "cosine". Notebook: 01_won2021."""
    tags = set(music_tag_words())
    rows = []
    for space, wv in spaces.items():
        among = [w for w in vocabulary if w in wv]  # a word file may lack some words
        for q in (q for q in queries if q in wv):
            for rank, (word, sim) in enumerate(wv.most_similar(q, k=k, among=among), 1):
                tag = "yes" if word in tags else "no"
                rows.append({"table": "Table 1", "setting": f"query={q}; space={space}; "
                             f"rank={rank}; word={word}; music tag={tag}",
                             "metric": "cosine", "seed": seed, "value": sim})
    return pd.DataFrame(rows)


def table1_wide(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`table1_rows` in the paper's layout: query × space → the words, nearest first,
    music tags in bold."""
    parts = rows["setting"].str.extract(r"query=(?P<query>[^;]+); space=(?P<space>[^;]+); "
                                        r"rank=(?P<rank>\d+); word=(?P<word>[^;]+); "
                                        r"music tag=(?P<tag>\w+)")
    parts["word"] = np.where(parts["tag"] == "yes", "**" + parts["word"] + "**", parts["word"])
    return (parts.groupby(["query", "space"], sort=False)["word"].agg(", ".join)
            .unstack("space"))


# --------------------------------------------------------------------------------------
# the music branch's pre-trained features (§3.1, P_music)
# --------------------------------------------------------------------------------------
@dataclass
class AudioFeatures:
    """Frozen features of every music clip: ``chunks`` ``(N, C, D)`` (C chunks or patches per
    clip, in the order of the music table); ``name`` says what produced them (table notes)
    and ``label`` in a few words (table settings); ``cnn`` the CNN when one was used
    (fine-tuning copies it); ``info`` a line for the log."""

    chunks: np.ndarray
    name: str
    label: str
    cnn: nn.Module | None
    info: str


def musicnn_features(arch: str, paths: Sequence[str], n_patches: int,
                     device: str = "cpu") -> AudioFeatures:
    """musicnn's real weights (``arch``, e.g. "MTT_musicnn": trained on MagnaTagATune, the
    paper's pre-training data), frozen: the 200-d penultimate layer (the one musicnn's tag
    layer reads) of ``n_patches`` evenly spaced 3-s patches per clip, cached.
    Notebook: 01_won2021 (the default P_music)."""
    tagger = musicnn_enc.load_musicnn(arch, device=device)
    chunks = musicnn_enc.cached_patch_embeddings(tagger, paths, n_patches)
    name = (f"{arch} (musicnn's real weights, Pons & Serra 2019; frozen, penultimate "
            f"{chunks.shape[-1]}-d of {n_patches} 3-s patches per clip)")
    return AudioFeatures(chunks, name, f"{arch} (real weights)", None, f"{name}: {chunks.shape}")


def cnn_features(arch: str, paths: Sequence[str], n_chunks: int, b: Budget, *, world: Any,
                 seed: int, data_root: str | None, checkpoint: str | None,
                 device: str = "cpu") -> AudioFeatures:
    """A tagging CNN (``arch`` of :data:`emolib.encoders.audio.ARCHS`): on the world
    pre-trained on its tags with the budget's schedule
    (:func:`emolib.encoders.audio.pretrained_tagger`), on real data loaded strictly from
    ``checkpoint`` (official sota-music-tagging-models names are converted; a missing,
    unexpected or mis-shaped tensor is an error that names it); then the embeddings of
    ``n_chunks`` evenly spaced chunks per clip, cached.
    Notebook: 01_won2021 (the comparison rows, or P_music with a CNN ``audio_arch``)."""
    from pathlib import Path

    from emolib.train import params_key

    width = None if b.paper else b.audio_width  # (the cache key of the chunk embeddings)
    if world is not None:
        tagger = audio_enc.pretrained_tagger(arch, world, seed, profile=b.profile,
                                             width=b.audio_width, epochs=b.tagger_epochs,
                                             lr=b.tagger_lr, device=device)
        cnn, origin = tagger.model, "world-pretrained"
        ckpt_id: dict[str, Any] = {"tagger": "world", "seed": seed, "profile": b.profile,
                                   "tagger_epochs": b.tagger_epochs}
        info = (f"pre-trained {arch} on the world's {len(world.tag_vocab)} tags: val ROC-AUC "
                f"{tagger.val_roc_auc:.3f}, PR-AUC {tagger.val_pr_auc:.3f}")
    else:
        if checkpoint is None:
            raise ValueError(f"audio_checkpoint=None: the CNN {arch!r} needs a state_dict on "
                             "real data (none can be downloaded here)")
        path = Path(checkpoint)
        cnn = audio_enc.load_tagger_checkpoint(path, arch, fresh_head=True)
        origin = f"loaded from {path.name}"
        ckpt_id = {"checkpoint": str(path.resolve()), "size": path.stat().st_size,
                   "mtime_ns": path.stat().st_mtime_ns}
        info = (f"loaded {path.name} into {arch} "
                f"({sum(t.numel() for t in cnn.state_dict().values()):,} values)")
    cnn.eval()
    key = params_key("won2021-audio-chunks", {"arch": arch, "width": width,
                                              "data": "world" if world is not None else "real",
                                              "data_root": str(data_root), **ckpt_id})
    chunks = audio_enc.cached_chunk_embeddings(cnn, list(paths), key, n_chunks=n_chunks,
                                               device=device)
    name = f"{arch} ({origin}; frozen chunk embeddings, {n_chunks} per clip)"
    label = f"{arch} ({'world-pretrained' if world is not None else 'checkpoint'})"
    return AudioFeatures(chunks, name, label, cnn, f"{info}; chunk embeddings {chunks.shape}")


# --------------------------------------------------------------------------------------
# the experiment: features, label spaces, splits and shared caches
# --------------------------------------------------------------------------------------
@dataclass
class Experiment:
    """One run's inputs (:func:`make_experiment` builds it).

    ``music`` [item_id, label, audio_path, split] and ``texts`` [item_id, dataset, label,
    text, split]; ``audio`` the music branch input per clip (frozen chunk embeddings
    ``(N, C, D)``, or log-mel chunks with ``finetune_audio``); ``text`` the text branch
    input (sentence embeddings, or packed token ids with ``finetune_text``); ``word`` the
    label → word vector map and ``va`` the label → (valence, arousal) map; ``paper_map``
    the paper's Table 2 mappings (``va``, ``w2v``, ``manual``); ``positive`` text label →
    the music tag its triplets pair it with; ``negative_sampling`` the triplet negatives'
    weighting ("official" | "distance_weighted", :data:`emolib.losses.WEIGHTINGS`);
    ``w2v_output`` the W2V regressors' output ("linear", or "sigmoid" as the official code).
    ``cnn`` / ``text_encoder``: the encoders that
    fine-tuned branches copy (None when frozen). ``music_heads`` and ``multihead`` cache
    what both text datasets share (per seed).
    """

    music: pd.DataFrame
    texts: pd.DataFrame
    audio: torch.Tensor
    text: torch.Tensor
    word: Mapping[str, np.ndarray]
    va: Mapping[str, np.ndarray]
    paper_map: Mapping[str, Mapping[str, tuple[str, ...]]]
    positive: Mapping[str, str]
    budget: Budget
    d_audio: int
    d_text: int
    batch_size: int = 64
    emb_dim: int = 64
    margin: float = 0.2
    branch_weights: tuple[float, float, float] = (0.3, 0.3, 0.4)
    alm_anger_as_in_paper: bool = True
    negative_sampling: str = "official"
    w2v_output: str = "linear"
    device: str = "cpu"
    cnn: nn.Module | None = None
    text_encoder: nn.Module | None = None
    music_heads: dict[tuple[str, int], nn.Module] = field(default_factory=dict)
    multihead: dict[int, dict[str, RunResult]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.negative_sampling not in losses.WEIGHTINGS:
            raise ValueError(f"negative_sampling={self.negative_sampling!r}: expected one of "
                             f"{list(losses.WEIGHTINGS)}")
        if self.w2v_output not in ("linear", "sigmoid"):
            raise ValueError(f"w2v_output={self.w2v_output!r}: expected 'linear' or 'sigmoid'")
        self.labels = list(dict.fromkeys(MUSIC + ALM + ISEAR))
        self.m_lab = np.array(self.music["label"], dtype=object)
        self.split_of = {s: np.array(self.music["split"] == s, dtype=bool)
                         for s in ("train", "val", "test")}
        self.word_t = {lab: torch.from_numpy(np.asarray(self.word[lab])) for lab in self.labels}
        self.d_word = len(next(iter(self.word.values())))
        pools = [np.flatnonzero(self.split_of["train"] & (self.m_lab == lab)) for lab in MUSIC]
        self.pool = torch.tensor(np.stack([np.resize(p, max(map(len, pools))) for p in pools]))
        self.pool_n = torch.tensor([len(p) for p in pools])
        self.train_music = torch.from_numpy(np.flatnonzero(self.split_of["train"]))


def make_experiment(music: pd.DataFrame, texts: pd.DataFrame, audio: np.ndarray | torch.Tensor,
                    text: np.ndarray | torch.Tensor, word: Mapping[str, np.ndarray],
                    budget: Budget, *, positives: str = "paper_w2v",
                    ours_w2v: Mapping[str, tuple[str, ...]] | None = None,
                    d_audio: int | None = None, d_text: int | None = None,
                    **settings: Any) -> Experiment:
    """An :class:`Experiment` from the notebook's data and features.

    ``audio`` / ``text``: the branch inputs (arrays are converted to tensors); ``word``:
    label → word vector for every label of the three taxonomies; ``positives``:
    "paper_w2v" (the paper's Table 2 W2V pairs) or "ours_w2v" (``ours_w2v``, the nearest
    tags in our word space); ``d_audio`` / ``d_text``: the frozen embedding sizes the heads
    take (default: the last axis of ``audio`` / ``text``; give them when the inputs are
    log-mels or tokens). ``settings``: batch_size, emb_dim, margin, branch_weights,
    alm_anger_as_in_paper, device, cnn, text_encoder (see :class:`Experiment`).
    """
    if positives not in ("paper_w2v", "ours_w2v"):
        raise ValueError(f"positives={positives!r}: expected 'paper_w2v' or 'ours_w2v'")
    if positives == "ours_w2v" and ours_w2v is None:
        raise ValueError("positives='ours_w2v' needs ours_w2v (text label -> nearest tags)")
    paper_map = {m: dict(tx.MAPPINGS["won2021"][m]) for m in MAPPING_NAMES}
    pos_map = paper_map["w2v"] if positives == "paper_w2v" else ours_w2v
    audio_t = audio if isinstance(audio, torch.Tensor) else torch.tensor(audio)
    text_t = text if isinstance(text, torch.Tensor) else torch.tensor(text)
    va = {lab: np.array(tx.vad(lab)[:2], dtype=np.float32)
          for lab in dict.fromkeys(MUSIC + ALM + ISEAR)}
    return Experiment(music=music, texts=texts, audio=audio_t, text=text_t, word=word, va=va,
                      paper_map=paper_map,
                      positive={lab: pos_map[lab][0] for lab in ALM + ISEAR}, budget=budget,
                      d_audio=int(d_audio or audio_t.shape[-1]),
                      d_text=int(d_text or text_t.shape[-1]), **settings)


def with_audio(exp: Experiment, audio: np.ndarray) -> Experiment:
    """The same experiment on other frozen music features (the comparison rows): same texts,
    label spaces and settings, fresh model caches, nothing fine-tuned."""
    a = torch.as_tensor(audio)
    return dataclasses.replace(exp, audio=a, d_audio=int(a.shape[-1]), cnn=None,
                               budget=dataclasses.replace(exp.budget, finetune_audio=False),
                               music_heads={}, multihead={})


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------
def _text_mask(exp: Experiment, dataset: str, split: str) -> np.ndarray:
    return ((exp.texts["dataset"] == dataset) & (exp.texts["split"] == split)).to_numpy().copy()


def text_split(exp: Experiment, dataset: str, split: str) -> tuple[torch.Tensor, np.ndarray]:
    """(text branch inputs, labels) of one text dataset's split."""
    sel = _text_mask(exp, dataset, split)
    return exp.text[sel], exp.texts["label"].to_numpy()[sel]


def text_ids(exp: Experiment, dataset: str, split: str) -> np.ndarray:
    """The item ids of one text dataset's split, in :func:`text_split` order."""
    return exp.texts["item_id"].to_numpy()[_text_mask(exp, dataset, split)]


def music_split(exp: Experiment, split: str) -> tuple[torch.Tensor, np.ndarray]:
    """(music branch inputs, labels) of one music split."""
    sel = exp.split_of[split]
    return exp.audio[sel], exp.m_lab[sel]


def random_chunk(x: torch.Tensor) -> torch.Tensor:
    """One random chunk per clip (torch's global RNG): (B, C, ...) -> (B, ...)."""
    idx = torch.randint(0, x.shape[1], (x.shape[0],))
    return x[torch.arange(x.shape[0]), idx]


def music_apply(exp: Experiment, head: Callable[[torch.Tensor], torch.Tensor],
                x: torch.Tensor) -> torch.Tensor:
    """``head`` on every chunk, then the mean over chunks: (N, C, ...) -> (N, out); log-mel
    chunks through a fine-tuned CNN go in batches of 256 to bound memory."""
    n, c = x.shape[:2]
    flat = x.reshape(n * c, *x.shape[2:])
    parts = flat.split(256) if exp.budget.finetune_audio else [flat]
    return torch.cat([head(p) for p in parts]).reshape(n, c, -1).mean(1)


def text_branch(exp: Experiment, module: nn.Module) -> nn.Module:
    """A text-side module; with ``finetune_text`` a trainable copy of the text encoder in
    front of it (the paper fine-tunes DistilBERT)."""
    if not exp.budget.finetune_text:
        return module
    enc = copy.deepcopy(exp.text_encoder).train().requires_grad_(True)
    return nn.Sequential(text_enc.PackedTokenEncoder(enc), module)


def music_branch(exp: Experiment, module: nn.Module) -> nn.Module:
    """A music-side module; with ``finetune_audio`` a trainable copy of the pre-trained CNN
    in front of it (the paper's fine-tuning)."""
    if not exp.budget.finetune_audio:
        return module
    cnn = copy.deepcopy(exp.cnn).train().requires_grad_(True)
    return nn.Sequential(audio_enc.FeatureEmbedder(cnn), module)


def head(in_dim: int, out_dim: int, hidden: int) -> nn.Module:
    """Won's branch head: Linear → BN → ReLU → Dropout(.5) → Linear (no output norm)."""
    return ProjectionHead(in_dim, hidden=hidden, out_dim=out_dim, dropout=0.5, normalize=False)


def loader(exp: Experiment, *tensors: torch.Tensor, shuffle: bool = True,
           s: int = 0) -> DataLoader:
    """Mini-batches of ``exp.batch_size``; the shuffling order is seeded by the training
    seed ``s``."""
    g = torch.Generator().manual_seed(int(s))
    return DataLoader(TensorDataset(*tensors), batch_size=exp.batch_size, shuffle=shuffle,
                      generator=g, drop_last=shuffle and len(tensors[0]) > exp.batch_size)


def train(exp: Experiment, model: nn.Module, loss_fn: Callable, train_loader: DataLoader,
          val_loader: Any = None, val_metric: Callable | None = None, s: int = 0) -> nn.Module:
    """``emolib.train.fit`` with the budget's epochs and lr (AdamW, weight decay 1e-4);
    the best-validation model in eval mode."""
    return fit(model, loss_fn, train_loader, val_loader, epochs=exp.budget.epochs,
               lr=exp.budget.lr, weight_decay=1e-4, device=exp.device, seed=s, progress=False,
               val_metric=val_metric).model.eval()


# --------------------------------------------------------------------------------------
# scoring (Table 3: macro P@5 and MRR under the three mappings, per query kept)
# --------------------------------------------------------------------------------------
@dataclass
class RunResult:
    """One model × text dataset × training seed.

    ``scores``: mapping key → {"P@5", "MRR", "micro P@5"} (macro = per query label, then
    the mean over labels); ``per_query``: mapping key → DataFrame[label, P@5, RR] in test
    query order; ``emb``: test embeddings and labels for the figures ("text", "music",
    "tl", "ml", and "tags" for the 3-branch model) or {"pred": predicted moods}.
    """

    scores: dict[str, dict[str, float]]
    per_query: dict[str, pd.DataFrame]
    emb: dict[str, Any]


def score_embeddings(exp: Experiment, q: np.ndarray, g: np.ndarray, q_lab: Sequence[str],
                     g_lab: Sequence[str], similarity: str
                     ) -> tuple[dict[str, dict[str, float]], dict[str, pd.DataFrame]]:
    """Text queries ``q`` against the music gallery ``g`` under each mapping:
    (scores, per-query P@5 / RR), as :class:`RunResult` holds them."""
    scores, per_query = {}, {}
    for m in MAPPING_NAMES:
        r = metrics.retrieval_scores(q, g, q_lab, g_lab, k=5, similarity=similarity,
                                     relevance=tx.relevance(exp.paper_map[m]))
        scores[m] = {"P@5": r.macro_p_at_k, "MRR": r.macro_mrr, "micro P@5": r.micro_p_at_k}
        per_query[m] = pd.DataFrame({"label": list(q_lab),
                                     "P@5": r.per_query["p_at_k"].to_numpy(dtype=float),
                                     "RR": r.per_query["reciprocal_rank"].to_numpy(dtype=float)})
    return scores, per_query


def score_classification(exp: Experiment, pred_music_label: Sequence[str],
                         song_probs: np.ndarray, q_lab: Sequence[str], g_lab: Sequence[str]
                         ) -> tuple[dict[str, dict[str, float]], dict[str, pd.DataFrame]]:
    """Songs re-ranked by their probability of the query's predicted music mood; queries
    whose predicted mood is not a music label retrieve nothing (P@5 = RR = 0)."""
    valid = np.array([p in MUSIC for p in pred_music_label])
    scores = np.stack([song_probs[:, MUSIC.index(p)] if ok else np.zeros(len(g_lab))
                       for p, ok in zip(pred_music_label, valid)])
    out, per_query = {}, {}
    for m in MAPPING_NAMES:
        rel = np.array([[gl in exp.paper_map[m][ql] for gl in g_lab] for ql in q_lab])
        p5 = np.where(valid, metrics.precision_at_k(scores, rel, 5), 0.0)
        rr = np.where(valid, metrics.reciprocal_rank(scores, rel), 0.0)
        per = pd.DataFrame({"label": q_lab, "p5": p5, "rr": rr}).groupby("label").mean()
        out[m] = {"P@5": float(per["p5"].mean()), "MRR": float(per["rr"].mean()),
                  "micro P@5": float(p5.mean())}
        per_query[m] = pd.DataFrame({"label": list(q_lab), "P@5": p5.astype(float),
                                     "RR": rr.astype(float)})
    return out, per_query


def val_p5(exp: Experiment, embed_text: Callable, embed_music: Callable, dataset: str,
           similarity: str = "cosine") -> Callable[[nn.Module], float]:
    """Validation macro P@5 under the training (W2V) mapping — model selection."""
    def metric(model: nn.Module) -> float:
        with torch.no_grad():
            tq, tl = text_split(exp, dataset, "val")
            mg, ml = music_split(exp, "val")
            r = metrics.retrieval_scores(embed_text(model, tq), embed_music(model, mg), tl, ml,
                                         k=5, similarity=similarity,
                                         relevance=tx.relevance(exp.paper_map["w2v"]))
        return r.macro_p_at_k
    return metric


# --------------------------------------------------------------------------------------
# (1) classification and (2) multi-head classification
# --------------------------------------------------------------------------------------
def _music_model(exp: Experiment, kind: str, s: int, build: Callable[[], nn.Module],
                 train_fn: Callable[[nn.Module], nn.Module]) -> nn.Module:
    """The music head of a two-tower model, trained once per (kind, seed) and shared by
    both text datasets (seeded right before construction)."""
    if (kind, s) not in exp.music_heads:
        seed_everything(s)
        exp.music_heads[(kind, s)] = train_fn(build())
    return exp.music_heads[(kind, s)]


def _label_codes(labels: Sequence[str], vocab: Sequence[str]) -> torch.Tensor:
    return torch.tensor([list(vocab).index(v) for v in labels])


def run_classification(exp: Experiment, dataset: str, s: int) -> RunResult:
    """(1) Separate text and music classifiers (§3.2.1; music: focal loss γ = 2 as the
    official code, text: cross-entropy); a query's predicted mood re-ranks the songs."""
    tax = tx.TAXONOMIES[TEXT_TAX[dataset]]
    xa, ya = music_split(exp, "train")
    va, vya = music_split(exp, "val")
    w = exp.budget.widths
    mus = _music_model(
        exp, "classification", s,
        lambda: music_branch(exp, MLPClassifier(exp.d_audio, len(MUSIC), hidden=w["music_cls"],
                                                dropout=0.5)),
        lambda m: train(exp, m, lambda m, b: losses.focal_loss(m(random_chunk(b[0])), b[1],
                                                               gamma=2.0),
                        loader(exp, xa, _label_codes(ya, MUSIC), s=s),
                        loader(exp, va, _label_codes(vya, MUSIC), shuffle=False), s=s))
    seed_everything(s)
    txt = text_branch(exp, MLPClassifier(exp.d_text, len(tax), hidden=w["text_cls"], dropout=0.5))
    xt, yt = text_split(exp, dataset, "train")
    vt, vyt = text_split(exp, dataset, "val")
    txt = train(exp, txt, lambda m, b: F.cross_entropy(m(b[0]), b[1]),
                loader(exp, xt, _label_codes(yt, tax), s=s),
                loader(exp, vt, _label_codes(vyt, tax), shuffle=False), s=s)
    tq, tl = text_split(exp, dataset, "test")
    mg, ml = music_split(exp, "test")
    with torch.no_grad():
        pred = [tax[i] for i in txt(tq).argmax(1).tolist()]
        probs = music_apply(exp, lambda x: F.softmax(mus(x), -1), mg).numpy()
    if dataset == "Alm" and exp.alm_anger_as_in_paper:  # the paper's label: no AudioSet mood
        pred = ["anger" if p == "angry" else p for p in pred]
    return RunResult(*score_classification(exp, pred, probs, tl, ml), {"pred": pred})


def _train_multihead(exp: Experiment, s: int) -> dict[str, RunResult]:
    """One model: per-modality input layer -> shared 3-layer MLP -> one head per taxonomy
    (AudioSet, Alm, ISEAR), trained jointly on music + both text datasets (§3.2.2)."""
    seed_everything(s)
    hid = exp.budget.hidden
    heads = {"audioset": MUSIC, "Alm": ALM, "ISEAR": ISEAR}
    model = nn.ModuleDict({
        "in_music": music_branch(exp, nn.Linear(exp.d_audio, hid)),
        "in_text": text_branch(exp, nn.Linear(exp.d_text, hid)),
        "shared": nn.Sequential(nn.ReLU(), nn.Linear(hid, hid), nn.BatchNorm1d(hid), nn.ReLU(),
                                nn.Linear(hid, hid), nn.BatchNorm1d(hid), nn.ReLU(),
                                nn.Linear(hid, hid), nn.BatchNorm1d(hid), nn.ReLU(),
                                nn.Dropout(0.5)),
        **{f"head_{k}": nn.Linear(hid, len(v)) for k, v in heads.items()}})

    def fwd(m: nn.Module, x: torch.Tensor, mod: str, h: str) -> torch.Tensor:
        return m[f"head_{h}"](m["shared"](m[f"in_{mod}"](x)))

    xa, ya = music_split(exp, "train")
    ya = _label_codes(ya, MUSIC)
    xt, yt = {}, {}
    for d in TEXT_TAX:
        x, y = text_split(exp, d, "train")
        xt[d], yt[d] = x, _label_codes(y, heads[d])
    # one step = one music batch + one batch of each text dataset (the shared MLP sees all)
    n = max(len(xa), *(len(x) for x in xt.values()))
    idx = [torch.arange(n) % len(xa)] + [torch.arange(n) % len(xt[d]) for d in TEXT_TAX]

    def loss_fn(m: nn.Module, b: Sequence[torch.Tensor]) -> torch.Tensor:
        i, *js = b
        loss = losses.focal_loss(fwd(m, random_chunk(xa[i]), "music", "audioset"), ya[i])
        for d, j in zip(TEXT_TAX, js):
            loss = loss + F.cross_entropy(fwd(m, xt[d][j], "text", d), yt[d][j])
        return loss

    def scored(m: nn.Module, split: str) -> dict[str, RunResult]:
        """The test protocol on ``split``: a text query goes through the AudioSet head to a
        music mood, which re-ranks the songs by their probability of it."""
        mg, ml = music_split(exp, split)
        out = {}
        with torch.no_grad():
            probs = music_apply(exp, lambda c: F.softmax(fwd(m, c, "music", "audioset"), -1),
                                mg).numpy()
            for d in TEXT_TAX:
                tq, tl = text_split(exp, d, split)
                pred = [MUSIC[i] for i in fwd(m, tq, "text", "audioset").argmax(1).tolist()]
                out[d] = RunResult(*score_classification(exp, pred, probs, tl, ml),
                                   {"pred": pred})
        return out

    # checkpoint selection with the scoring the test uses (validation macro P@5, W2V mapping,
    # the mean over both text datasets)
    model = train(exp, model, loss_fn, loader(exp, *idx, s=s), s=s,
                  val_metric=lambda m: float(np.mean([r.scores["w2v"]["P@5"]
                                                      for r in scored(m, "val").values()])))
    return scored(model, "test")


def run_multihead(exp: Experiment, dataset: str, s: int) -> RunResult:
    """(2) Multi-head classification: one jointly trained model per seed (cached), a text
    query sent through the AudioSet head."""
    if s not in exp.multihead:
        exp.multihead[s] = _train_multihead(exp, s)
    return exp.multihead[s][dataset]


# --------------------------------------------------------------------------------------
# (3) V-A regression and (4) W2V regression
# --------------------------------------------------------------------------------------
def run_regression(exp: Experiment, dataset: str, s: int, space: str) -> RunResult:
    """(3)/(4) Separate text and music regressors into a fixed label space ("va" | "w2v";
    §3.2.3–4). Word vectors are scaled to unit RMS per dimension so that the MSE is on the
    scale of the VA targets (cosine retrieval ignores the scale). Outputs: sigmoid for VA;
    for W2V linear, or sigmoid with ``exp.w2v_output="sigmoid"`` (the official code)."""
    if space not in ("va", "w2v"):
        raise ValueError(f"space={space!r}: expected 'va' or 'w2v'")
    d_w = exp.d_word
    target = ((lambda lab: torch.from_numpy(exp.va[lab])) if space == "va"
              else (lambda lab: exp.word_t[lab] * np.sqrt(d_w)))
    out_dim = 2 if space == "va" else d_w
    sigmoid = space == "va" or exp.w2v_output == "sigmoid"  # VA: always (official code)
    squash = torch.sigmoid if sigmoid else (lambda z: z)
    width = exp.budget.widths[space]
    xa, ya = music_split(exp, "train")
    va_, vya = music_split(exp, "val")
    ya_t = torch.stack([target(v) for v in ya])
    mus = _music_model(
        exp, space, s, lambda: music_branch(exp, head(exp.d_audio, out_dim, width)),
        lambda m: train(exp, m, lambda m, b: F.mse_loss(squash(m(random_chunk(b[0]))), b[1]),
                        loader(exp, xa, ya_t, s=s),
                        loader(exp, va_, torch.stack([target(v) for v in vya]), shuffle=False),
                        s=s))
    seed_everything(s)
    txt = text_branch(exp, head(exp.d_text, out_dim, width))
    xt, yt = text_split(exp, dataset, "train")
    vt, vyt = text_split(exp, dataset, "val")
    txt = train(exp, txt, lambda m, b: F.mse_loss(squash(m(b[0])), b[1]),
                loader(exp, xt, torch.stack([target(v) for v in yt]), s=s),
                loader(exp, vt, torch.stack([target(v) for v in vyt]), shuffle=False), s=s)
    tq, tl = text_split(exp, dataset, "test")
    mg, ml = music_split(exp, "test")
    with torch.no_grad():
        qe, ge = squash(txt(tq)).numpy(), music_apply(exp, lambda c: squash(mus(c)), mg).numpy()
    sim = "euclidean" if space == "va" else "cosine"
    return RunResult(*score_embeddings(exp, qe, ge, tl, ml, sim),
                     {"text": qe, "music": ge, "tl": tl, "ml": ml})


# --------------------------------------------------------------------------------------
# (5) two-branch and (6) three-branch metric learning
# --------------------------------------------------------------------------------------
def _draw_with_label(exp: Experiment, label_idx: torch.Tensor) -> torch.Tensor:
    """One random train clip per entry, carrying music label ``label_idx`` (torch's global
    RNG, seeded by fit)."""
    j = (torch.rand(len(label_idx)) * exp.pool_n[label_idx]).long()
    return exp.pool[label_idx, j]


def run_metric(exp: Experiment, dataset: str, s: int, n_branches: int) -> RunResult:
    """(5)/(6) Metric learning (§3.2.5–6): cosine triplet loss (Eq. 2, margin δ) on (text,
    music⁺, music⁻) with negatives drawn by ``exp.negative_sampling`` (Eq. 3); the 3-branch
    model adds the
    tag branch and L = w_text L_text + w_music L_music + w_cross L_cross (Eq. 4)."""
    if n_branches not in (2, 3):
        raise ValueError(f"n_branches={n_branches!r}: expected 2 or 3")
    tax = tx.TAXONOMIES[TEXT_TAX[dataset]]
    seed_everything(s)
    width = exp.budget.widths["metric"]
    model = nn.ModuleDict({"music": music_branch(exp, head(exp.d_audio, exp.emb_dim, width)),
                           "text": text_branch(exp, head(exp.d_text, exp.emb_dim, width)),
                           "tag": head(exp.d_word, exp.emb_dim, width)})
    xt, yt = text_split(exp, dataset, "train")
    t_code = _label_codes(yt, exp.labels)
    pos_idx = torch.tensor([MUSIC.index(exp.positive[v]) for v in yt])
    m_code = _label_codes(exp.m_lab, exp.labels)
    tagvec = torch.stack([exp.word_t[lab] for lab in exp.labels])
    w_text, w_music, w_cross = exp.branch_weights
    margin, weighting = exp.margin, exp.negative_sampling

    def loss_fn(m: nn.Module, b: Sequence[torch.Tensor]) -> torch.Tensor:
        (i,) = b
        p = _draw_with_label(exp, pos_idx[i])  # a clip carrying the text label's nearest tag
        r = exp.train_music[torch.randint(0, len(exp.train_music), (len(i),))]
        text_e = m["text"](xt[i])
        cross = losses.triplet_loss(*losses.sample_triplets(
            text_e, m["music"](random_chunk(exp.audio[p])), m_code[p], weighting=weighting),
            margin=margin)
        if n_branches == 2:
            return cross
        l_text = losses.triplet_loss(*losses.sample_triplets(
            m["tag"](tagvec[t_code[i]]), text_e, t_code[i], weighting=weighting), margin=margin)
        l_music = losses.triplet_loss(*losses.sample_triplets(
            m["tag"](tagvec[m_code[r]]), m["music"](random_chunk(exp.audio[r])), m_code[r],
            weighting=weighting), margin=margin)
        return w_text * l_text + w_music * l_music + w_cross * cross

    dl = loader(exp, torch.arange(len(xt)), s=s)
    metric = val_p5(exp, lambda m, x: m["text"](x), lambda m, x: music_apply(exp, m["music"], x),
                    dataset)
    model = train(exp, model, loss_fn, dl, val_metric=metric, s=s)
    tq, tl = text_split(exp, dataset, "test")
    mg, ml = music_split(exp, "test")
    with torch.no_grad():
        qe, ge = model["text"](tq).numpy(), music_apply(exp, model["music"], mg).numpy()
        # the 2-branch model has no trained tag branch (paper Fig. 3 e-f: no tag points)
        tags = ({lab: model["tag"](exp.word_t[lab][None]).numpy()[0]
                 for lab in list(tax) + list(MUSIC)} if n_branches == 3 else None)
    return RunResult(*score_embeddings(exp, qe, ge, tl, ml, "cosine"),
                     {"text": qe, "music": ge, "tl": tl, "ml": ml, "tags": tags})


# --------------------------------------------------------------------------------------
# every model, and the tidy result frames
# --------------------------------------------------------------------------------------
def run_model(exp: Experiment, name: str, dataset: str, s: int) -> RunResult:
    """Model ``name`` (one of :data:`MODELS`) on text dataset ``dataset`` with training
    seed ``s``."""
    runs: dict[str, Callable[[], RunResult]] = {
        "Classification": lambda: run_classification(exp, dataset, s),
        "Multi-head classification": lambda: run_multihead(exp, dataset, s),
        "V-A regression": lambda: run_regression(exp, dataset, s, "va"),
        "W2V regression": lambda: run_regression(exp, dataset, s, "w2v"),
        "Metric learning (2-branch)": lambda: run_metric(exp, dataset, s, 2),
        "Metric learning (3-branch)": lambda: run_metric(exp, dataset, s, 3),
    }
    if name not in runs:
        raise ValueError(f"model {name!r}: expected one of {list(MODELS)}")
    if dataset not in TEXT_TAX:
        raise ValueError(f"dataset {dataset!r}: expected one of {list(TEXT_TAX)}")
    return runs[name]()


@dataclass
class ModelRuns:
    """Every model × text dataset × seed of one experiment (:func:`run_models`): the Table 3
    rows, the per-item results (per-query P@5 / RR and silhouettes, the claims' input), the
    first seed's test embeddings per (model, dataset) (Fig. 3, Table 4), and the seconds
    each model took."""

    rows: list[dict[str, Any]]
    items: pd.DataFrame
    spaces: dict[tuple[str, str], dict[str, Any]]
    timing: dict[str, float]


def run_models(exp: Experiment, seeds: Sequence[int], models: Sequence[str] = MODELS,
               world_seed: int = 0) -> ModelRuns:
    """Train and score ``models`` on both text datasets for every training seed (§3.2, §5.1);
    the items carry ``world_seed`` (the world draw they come from). Notebook: 01_won2021."""
    import time

    rows, items, spaces, timing = [], [], {}, {}
    for name in models:
        t = time.perf_counter()
        for dataset in TEXT_TAX:
            for s in seeds:
                run = run_model(exp, name, dataset, s)
                if s == seeds[0]:
                    spaces[(name, dataset)] = run.emb
                rows += table3_rows(name, dataset, s, run)
                items.append(item_rows(exp, name, dataset, s, run))
                items.append(silhouette_items(exp, name, dataset, s, run))
        timing[name] = time.perf_counter() - t
    return ModelRuns(rows, pd.concat(items, ignore_index=True).assign(world_seed=world_seed),
                     spaces, timing)


def other_world(exp: Experiment, world_seed: int, *, text_encoder: Any = None,
                device: str = "cpu") -> Experiment:
    """The experiment ``exp`` on another draw of the emotion world (``world_seed``): its music
    and texts, the same encoders (a musicnn ``audio_arch`` or the CNN pre-trained on that
    world's tags, the same text encoder) and every other setting; frozen features only.
    Notebook: 01_won2021 (``world_seeds``: the claims pooled over world draws)."""
    b = exp.budget
    if b.finetune_audio or b.finetune_text:
        raise ValueError("world_seeds pools runs on frozen features: set finetune_audio and "
                         "finetune_text to False")
    world, music, texts, _ = load_data(None, world_seed, b.profile)
    paths = list(music["audio_path"])
    feats = (musicnn_features(b.audio_arch, paths, b.n_chunks, device) if b.musicnn
             else cnn_features(b.audio_arch, paths, b.n_chunks, b, world=world, seed=world_seed,
                               data_root=None, checkpoint=None, device=device))
    text = torch.as_tensor(text_enc.embed_texts(list(texts["text"]), encoder=text_encoder,
                                                device=device))
    audio = torch.as_tensor(feats.chunks)
    return dataclasses.replace(exp, music=music, texts=texts, audio=audio, text=text,
                               d_audio=int(audio.shape[-1]), d_text=int(text.shape[-1]),
                               cnn=None, text_encoder=None, music_heads={}, multihead={})


def setting_name(model: str, dataset: str, mapping: str) -> str:
    """The row name of Table 3 and of the claims: "model=…; text=…; mapping=…"."""
    return f"model={model}; text={dataset}; mapping={MAPPING_NAMES[mapping]}"


def table3_rows(name: str, dataset: str, s: int, result: RunResult) -> list[dict[str, Any]]:
    """Table 3 rows (table, setting, metric, seed, value) of one run."""
    return [{"table": "Table 3", "setting": setting_name(name, dataset, m), "metric": metric,
             "seed": s, "value": v}
            for m, vals in result.scores.items() for metric, v in vals.items()]


#: The models the audio-feature comparison retrains on the comparison CNN's features: the
#: paper's strongest (V-A regression) and its proposed model (3-branch metric learning).
COMPARE_MODELS: tuple[str, ...] = ("V-A regression", "Metric learning (3-branch)")


def audio_comparison_rows(res3: pd.DataFrame, main_label: str, cmp_exp: Experiment,
                          cmp_label: str, seeds: Sequence[int],
                          models: Sequence[str] = COMPARE_MODELS) -> pd.DataFrame:
    """Table "Audio features": ``models`` on the main features (their Table 3 rows ``res3``,
    relabelled ``audio=<main_label>; …``) beside the same models trained and scored on the
    comparison experiment ``cmp_exp`` (:func:`with_audio`), every seed. Notebook: 01_won2021."""
    main = res3[res3["setting"].str.extract(r"model=([^;]+);")[0].isin(models)]
    rows = [{**r, "table": "Audio features", "setting": f"audio={main_label}; {r['setting']}"}
            for r in main.to_dict("records")]
    for name in models:
        for dataset in TEXT_TAX:
            for s in seeds:
                run = run_model(cmp_exp, name, dataset, s)
                rows += [{**r, "table": "Audio features",
                          "setting": f"audio={cmp_label}; {r['setting']}"}
                         for r in table3_rows(name, dataset, s, run)]
    return pd.DataFrame(rows)


def probe_rows(features: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
               seed: int = 0) -> pd.DataFrame:
    """Table "Feature probes": what a frozen feature carries about the labels — a linear
    probe (standardised features, scikit-learn's L2 logistic regression, lbfgs) fitted on the
    training items and scored on the test items: accuracy and macro-F1 beside chance (the
    majority class's share of the test items). ``features``: name → (X ``(N, D)`` or
    ``(N, C, D)``, averaged over chunks; labels; split names). Notebook: 01_won2021."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = []
    for name, (x, y, split) in features.items():
        x = np.asarray(x, dtype=np.float64)
        x = x.mean(axis=1) if x.ndim == 3 else x
        y, split = np.asarray(y), np.asarray(split)
        tr, te = split == "train", split == "test"
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        pred = clf.fit(x[tr], y[tr]).predict(x[te])
        chance = pd.Series(y[te]).value_counts(normalize=True).iloc[0]
        for metric, v in (("accuracy", accuracy_score(y[te], pred)),
                          ("macro-F1", f1_score(y[te], pred, average="macro")),
                          ("chance accuracy", chance)):
            rows.append({"table": "Feature probes", "setting": f"features={name}",
                         "metric": metric, "seed": seed, "value": float(v)})
    return pd.DataFrame(rows)


def item_rows(exp: Experiment, name: str, dataset: str, s: int,
              result: RunResult) -> pd.DataFrame:
    """The run's per-query results as :func:`emolib.claims.check_item_results` wants
    them: setting, metric ("P@5", "MRR" = the reciprocal rank per query), item (the text
    item id), stratum (its label), seed, value."""
    ids = text_ids(exp, dataset, "test")
    frames = []
    for m, per in result.per_query.items():
        for metric, col in (("P@5", "P@5"), ("MRR", "RR")):
            frames.append(pd.DataFrame({
                "setting": setting_name(name, dataset, m), "metric": metric, "item": ids,
                "stratum": per["label"].to_numpy(), "seed": int(s),
                "value": per[col].to_numpy(dtype=float)}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------
# data (§4) and Table 4 (characteristics measured from the run)
# --------------------------------------------------------------------------------------
def load_data(data_root: str | None, seed: int, profile: str
              ) -> tuple[Any, pd.DataFrame, pd.DataFrame, str]:
    """(world or None, music, texts, data kind) of notebook 01.

    ``music`` [item_id, label, audio_path, split]; ``texts`` [item_id, dataset, label,
    text, split] of Alm (split by author: two train, the third halved into val and test)
    and ISEAR (70/15/15 stratified). ``data_root=None``: the emotion world of ``seed`` and
    ``profile``; else the AudioSet mood / Alm / ISEAR readers under ``data_root``.
    """
    from pathlib import Path

    if data_root is None:
        from emolib.data.world import make_world

        world = make_world(seed=seed, profile=profile, progress=False)
        # the world's Alm split is already by author (emolib.data.alm.author_split)
        texts = pd.concat([world.alm.assign(dataset="Alm"), world.isear.assign(dataset="ISEAR")])
        music = world.music[["item_id", "label", "audio_path", "split"]]
        kind = "world"
    else:
        from emolib.data import alm as alm_reader
        from emolib.data import audioset
        from emolib.data import isear as isear_reader
        from emolib.data.splits import stratified_split

        root, world = Path(data_root), None
        # AudioSet's own split (§4: train 16,104 / eval 540): eval -> test, 10 % of train -> val
        music = audioset.load_audioset_mood(root / "audioset", root / "audioset" / "audio",
                                            on_missing="drop", seed=seed, split="official",
                                            fractions=(0.9, 0.1))
        music = music[["item_id", "label", "audio_path", "split"]]
        alm = alm_reader.load_alm(root / "alm")
        alm["split"] = alm_reader.author_split(alm, "Potter", val_fraction=0.5, seed=seed)
        isr = isear_reader.read_isear(root / "isear" / "isear.csv")
        isr["split"] = stratified_split(isr["label"].to_numpy(), (0.7, 0.15, 0.15), seed)
        texts = pd.concat([alm.assign(dataset="Alm"), isr.assign(dataset="ISEAR")])
        kind = "AudioSet mood + Alm + ISEAR"
    texts = texts[["item_id", "dataset", "label", "text", "split"]].reset_index(drop=True)
    return world, music, texts, kind


def chance_p5(exp: Experiment) -> dict[tuple[str, str], float]:
    """(text dataset, mapping name) -> chance P@5: the share of relevant test clips,
    averaged over the dataset's query labels."""
    ml = music_split(exp, "test")[1]
    return {(d, MAPPING_NAMES[m]): float(np.mean([np.isin(ml, exp.paper_map[m][lab]).mean()
                                                  for lab in tx.TAXONOMIES[TEXT_TAX[d]]]))
            for d in TEXT_TAX for m in MAPPING_NAMES}


def _silhouette(x: np.ndarray, y: Sequence[str], metric: str) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(x, y, metric=metric)) if 1 < len(set(y)) < len(y) else np.nan


def table4(res3: pd.DataFrame, summary: pd.DataFrame, spaces: Mapping[tuple[str, str], dict],
           chance: Mapping[tuple[str, str], float], seeds: Sequence[int]
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 4 measured from the run: (rows of the written table, characteristics frame).

    retrieval = "success" if the model's mean macro P@5 under the Manual mapping
    (``summary``, :func:`emolib.tables.summarize` of ``res3``) beats ``chance`` on both
    text datasets; distribution = silhouette of the Alm test text embeddings by label
    (cosine; Euclidean for VA) above 0.25 → "discriminative", else "continuous" (the music
    clips' silhouette is kept too); mapping = a design fact (no agreement row). ``spaces``:
    (model, "Alm") → the first seed's test embeddings.
    """
    rows, char = [], []
    for name in MODELS:
        p5 = {d: summary[(summary.setting == setting_name(name, d, "manual"))
                         & (summary.metric == "P@5")]["mean"].item() for d in TEXT_TAX}
        success = all(p5[d] > chance[(d, "Manual")] for d in TEXT_TAX)
        emb = spaces[(name, "Alm")]
        dist = "euclidean" if name.startswith("V-A") else "cosine"
        sil = _silhouette(emb["text"], emb["tl"], dist) if "text" in emb else np.nan
        sil_music = _silhouette(emb["music"], emb["ml"], dist) if "music" in emb else np.nan
        for d in TEXT_TAX:
            per_seed = res3[(res3.setting == setting_name(name, d, "manual"))
                            & (res3.metric == "P@5")]
            rows += [{"table": "Table 4", "setting": f"model={name}; text={d}",
                      "metric": "P@5 (Manual) minus chance", "seed": int(r.seed),
                      "value": r.value - chance[(d, "Manual")]} for r in per_seed.itertuples()]
        if not np.isnan(sil):
            rows += [{"table": "Table 4", "setting": f"model={name}; text=Alm", "metric": metric,
                      "seed": seeds[0], "value": v}
                     for metric, v in (("silhouette (text, test)", sil),
                                       ("silhouette (music, test)", sil_music))]
        char.append({"model": name, "retrieval": "success" if success else "fail",
                     "distribution": ("." if np.isnan(sil)
                                      else ("discriminative" if sil > 0.25 else "continuous")),
                     "mapping": {"V-A regression": "manual", "Classification": ".",
                                 "Multi-head classification": "."}.get(name, "data-driven"),
                     "silhouette text": sil, "silhouette music": sil_music})
    char = pd.DataFrame(char)
    char["paper"] = char["model"].map(lambda k: " / ".join(PAPER_TABLE4[k]))
    for r in char.itertuples():  # the characteristics themselves, as rows of the table
        for i, prop in enumerate(("retrieval", "distribution", "mapping")):
            ours, paper = getattr(r, prop), PAPER_TABLE4[r.model][i]
            if prop == "mapping" or ours == ".":  # a design fact or undefined: not measured
                continue
            rows.append({"table": "Table 4", "setting": f"model={r.model}; characteristic="
                         f"{prop}; ours={ours}; paper={paper}", "metric": "agrees",
                         "seed": seeds[0], "value": float(ours == paper)})
    return pd.DataFrame(rows), char


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(columns=["setting", "metric", "item", "stratum", "seed", "value"])


def silhouette_items(exp: Experiment, name: str, dataset: str, s: int,
                     result: RunResult) -> pd.DataFrame:
    """Per-item silhouettes of the run's test embeddings by label (Table 4's distribution):
    ``sklearn.metrics.silhouette_samples`` (cosine; Euclidean for the VA space), whose mean
    is Table 4's silhouette score. Rows like :func:`item_rows`, setting
    "model=…; text=…", metrics "silhouette (text, test)" (items: the test texts) and
    "silhouette (music, test)" (the music test clips). Empty for the classification
    models (no joint space) or when a side has fewer than two labels."""
    from sklearn.metrics import silhouette_samples

    emb = result.emb
    if "text" not in emb:
        return _empty_items()
    dist = "euclidean" if name.startswith("V-A") else "cosine"
    frames = []
    for side, x, y, ids in (("text", emb["text"], emb["tl"], text_ids(exp, dataset, "test")),
                            ("music", emb["music"], emb["ml"],
                             exp.music["item_id"].to_numpy()[exp.split_of["test"]])):
        if not 1 < len(set(y)) < len(y):
            continue
        frames.append(pd.DataFrame({
            "setting": f"model={name}; text={dataset}", "metric": f"silhouette ({side}, test)",
            "item": ids, "stratum": np.asarray(y, dtype=object), "seed": int(s),
            "value": silhouette_samples(x, y, metric=dist).astype(float)}))
    return pd.concat(frames, ignore_index=True) if frames else _empty_items()


# --------------------------------------------------------------------------------------
# Fig. 3 (§5.2): the embedding spaces, UMAP fitted on the music, texts projected into it
# --------------------------------------------------------------------------------------
def _panel(ax: Any, xy: np.ndarray, labels: Sequence[str], title: str, palette: Mapping,
           marker: str = "o", tags: Mapping[str, Sequence[float]] | None = None) -> None:
    for lab in dict.fromkeys(labels):
        sel = np.asarray(labels) == lab
        ax.scatter(xy[sel, 0], xy[sel, 1], s=18, marker=marker, color=palette[lab], label=lab,
                   alpha=0.8, edgecolor="none")
    for lab, (x, y) in (tags or {}).items():
        ax.scatter([x], [y], marker="*", s=220, color=palette[lab], edgecolor="black",
                   linewidth=0.8, zorder=5)
        ax.annotate(lab, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=9,
                    weight="bold")
    ax.set_title(title)
    ax.legend(fontsize=8, markerscale=1.2, loc="best", frameon=True)


def fig3(emb: Mapping[str, Any], title: str, data_name: str, *, seed: int,
         va: Mapping[str, np.ndarray], word: Mapping[str, np.ndarray] | None = None,
         use_umap: bool = True) -> Any:
    """One row of the paper's Fig. 3: the Alm test texts (left) and the music test clips
    (right) of one model's test embeddings ``emb`` (a :class:`RunResult`'s ``emb``).

    ``use_umap=False``: the VA space itself, with each label at its NRC VAD point
    (``va``); else a seeded UMAP (cosine, one job) fitted on the music embeddings, the
    texts and the tag points (the 3-branch tag branch's outputs, or the word vectors
    ``word`` for the W2V regression) projected into it. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    from emolib import plots

    palette = plots.label_palette(list(MUSIC) + [lab for lab in ALM if lab not in MUSIC])
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    if use_umap:
        from emolib.projection import umap_reducer

        red = umap_reducer(seed=seed).fit(emb["music"])  # seeded: one job, cached kernels
        music_xy, text_xy = red.embedding_, red.transform(emb["text"])
        tags = emb.get("tags") or word
        tag_xy = dict(zip(tags, red.transform(np.stack(list(tags.values()))))) if tags else {}
        text_tags = {k: v for k, v in tag_xy.items() if k in ALM}
        music_tags = {k: v for k, v in tag_xy.items() if k in MUSIC}
        for ax in axes:
            ax.set(xlabel="UMAP 1", ylabel="UMAP 2")
    else:
        music_xy, text_xy = emb["music"], emb["text"]
        text_tags = {lab: va[lab] for lab in ALM}
        music_tags = {lab: va[lab] for lab in MUSIC}
        for ax in axes:
            ax.set(xlabel="valence", ylabel="arousal", xlim=(0, 1.05), ylim=(0, 1.05))
    _panel(axes[0], text_xy, emb["tl"], "Alm test texts", palette, "s", text_tags or None)
    _panel(axes[1], music_xy, emb["ml"], "music test clips", palette, "o", music_tags or None)
    fig.suptitle(f"Fig. 3 counterpart — {title}\n{data_name}; ★ = label/tag embeddings", y=1.04)
    fig.tight_layout()
    return fig
