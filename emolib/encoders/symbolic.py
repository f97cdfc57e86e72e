"""Symbolic domain of Zhu et al. (2023): refined MIDI-like tokens, a pre-trained
Transformer encoder with an auxiliary valence head, and EMOPIA's BiLSTM-attention baseline.

**Refined MIDI-like representation** (Zhu et al. §3.2, Fig. 2). The MIDI-like event
vocabulary of Oore et al. (2020) — ``NOTE_ON_p``, ``NOTE_OFF_p``, ``TIME_SHIFT_k`` (k steps
of 10 ms, at most 1 s per token) and ``VELOCITY_v`` (32 bins) — plus one extra attribute,
``HARMONIC_h``: the number of notes sounding at a note's onset (the note itself included,
capped at ``max_harmonic``). So each note contributes its onset (``NOTE_ON`` after the
time shifts that lead to it), harmonic, velocity, the time shifts and its offset
(``NOTE_OFF``). Per onset the order is ``HARMONIC_h VELOCITY_v NOTE_ON_p``; at one time
step note-offs come before note-ons. A ``CLS`` token opens every sequence (so a clip
without notes is never empty). Round trip: :func:`notes_to_tokens` then
:func:`tokens_to_notes` gives the notes back up to quantisation (10 ms, 4 velocity steps).

**Encoder** (§3.2): token + learned position embeddings -> 4 post-norm Transformer
encoder layers (Vaswani et al.) -> token sequence; a masked-token-modelling head for
pre-training on the paired (MAESTRO-role) MIDI corpus (:func:`pretrain_symbolic`, cached
via :func:`emolib.train.cached_model`), and a binary **valence** head (BCE) used as the
auxiliary loss during fine-tuning. The paper names neither the pre-training objective nor
the widths: masked-token modelling (BERT-style 80/10/10 masking of 15 % of tokens) is our
choice; widths are parameters.

**Baseline** (EMOPIA, Hung et al. 2021; official code: embedding 300 -> BiLSTM 128 ->
structured self-attention (da 128, r 14) -> 256 -> classes): :class:`BiLSTMAttention`.

Notebook: 04_zhu2023.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pretty_midi
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Note", "MidiLikeVocab", "notes_to_tokens", "tokens_to_notes", "midi_to_notes",
           "notes_to_midi", "encode_notes", "pad_batch", "SymbolicEncoder", "mask_tokens",
           "mlm_loss", "pretrain_symbolic", "pretrained_symbolic_encoder", "BiLSTMAttention",
           "StructuredSelfAttention", "FrozenSymbolicFeatures", "note_statistics"]

log = logging.getLogger(__name__)


class Note(NamedTuple):
    """One note: MIDI pitch, onset and offset in seconds, MIDI velocity (1..127)."""

    pitch: int
    onset: float
    offset: float
    velocity: int


# ---------------------------------------------------------------------------- vocabulary
class MidiLikeVocab:
    """Token <-> id table for the refined MIDI-like representation.

    Args:
        time_step: seconds per time-shift step (10 ms as in MIDI-like).
        max_shift_steps: largest single ``TIME_SHIFT`` (100 steps = 1 s).
        n_velocity_bins: velocity resolution (32 bins of 4 MIDI steps).
        max_harmonic: largest ``HARMONIC`` value; more simultaneous notes are capped.
    """

    SPECIALS = ("PAD", "MASK", "CLS")

    def __init__(self, time_step: float = 0.01, max_shift_steps: int = 100,
                 n_velocity_bins: int = 32, max_harmonic: int = 12) -> None:
        if time_step <= 0 or max_shift_steps < 1 or n_velocity_bins < 1 or max_harmonic < 1:
            raise ValueError("time_step, max_shift_steps, n_velocity_bins and max_harmonic "
                             "must be positive")
        self.time_step, self.max_shift_steps = float(time_step), int(max_shift_steps)
        self.n_velocity_bins, self.max_harmonic = int(n_velocity_bins), int(max_harmonic)
        toks = list(self.SPECIALS)
        toks += [f"NOTE_ON_{p}" for p in range(128)] + [f"NOTE_OFF_{p}" for p in range(128)]
        toks += [f"TIME_SHIFT_{k}" for k in range(1, self.max_shift_steps + 1)]
        toks += [f"VELOCITY_{v}" for v in range(self.n_velocity_bins)]
        toks += [f"HARMONIC_{h}" for h in range(1, self.max_harmonic + 1)]
        self.tokens: tuple[str, ...] = tuple(toks)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.pad_id, self.mask_id, self.cls_id = (self.index[s] for s in self.SPECIALS)

    def __len__(self) -> int:
        return len(self.tokens)

    def config(self) -> dict[str, float | int]:
        """The constructor arguments (for cache keys)."""
        return {"time_step": self.time_step, "max_shift_steps": self.max_shift_steps,
                "n_velocity_bins": self.n_velocity_bins, "max_harmonic": self.max_harmonic}

    def velocity_bin(self, velocity: int) -> int:
        """MIDI velocity (0..127) -> bin index."""
        return min(int(velocity) * self.n_velocity_bins // 128, self.n_velocity_bins - 1)

    def bin_velocity(self, b: int) -> int:
        """Bin index -> the MIDI velocity at the bin's centre."""
        width = 128 / self.n_velocity_bins
        return int(min(127, max(1, round(b * width + width / 2))))

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token strings -> ids (unknown token -> a clear error)."""
        try:
            return [self.index[t] for t in tokens]
        except KeyError as err:
            raise ValueError(f"unknown token {err.args[0]!r} "
                             "(not in the MIDI-like vocabulary)") from None

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> token strings."""
        return [self.tokens[int(i)] for i in ids]


def _quantised(notes: Sequence[Note], step: float) -> list[tuple[int, int, int, int]]:
    """(on_step, off_step, pitch, velocity), offsets >= onset + 1 step, no same-pitch overlap."""
    q = []
    for n in notes:
        pitch = int(n.pitch)
        if not 0 <= pitch <= 127:
            raise ValueError(f"note pitch must be 0..127, got {n.pitch!r}")
        if not n.offset >= n.onset >= 0:
            raise ValueError(f"note needs 0 <= onset <= offset, "
                             f"got onset={n.onset!r}, offset={n.offset!r}")
        on = int(round(n.onset / step))
        off = max(int(round(n.offset / step)), on + 1)
        q.append((on, off, pitch, int(np.clip(n.velocity, 0, 127))))
    q.sort(key=lambda x: (x[2], x[0], -x[1]))
    out: list[tuple[int, int, int, int]] = []
    for on, off, p, v in q:  # a re-struck key ends the previous note; duplicates dropped
        if out and out[-1][2] == p and on <= out[-1][0]:
            continue
        if out and out[-1][2] == p and on < out[-1][1]:
            out[-1] = (out[-1][0], on, p, out[-1][3])
        out.append((on, off, p, v))
    return sorted(out, key=lambda x: (x[0], x[2]))


def notes_to_tokens(notes: Sequence[Note], vocab: MidiLikeVocab | None = None,
                    *, add_cls: bool = True, harmonic: bool = True) -> list[str]:
    """Notes -> refined MIDI-like token strings (see the module docstring).

    ``harmonic=False`` leaves out the ``HARMONIC`` tokens: plain MIDI-like (Oore et al.),
    the input of EMOPIA's LSTM-Attn baseline.
    """
    vocab = vocab or MidiLikeVocab()
    q = _quantised([Note(*n) for n in notes], vocab.time_step)
    ons = np.array([x[0] for x in q])
    offs = np.array([x[1] for x in q])
    events: list[tuple[int, int, int, list[str]]] = []
    for _i, (on, off, p, v) in enumerate(q):
        sounding = int(np.count_nonzero((ons <= on) & (offs > on)))
        h = min(max(sounding, 1), vocab.max_harmonic)
        head = [f"HARMONIC_{h}"] if harmonic else []
        events.append((on, 1, p, head + [f"VELOCITY_{vocab.velocity_bin(v)}", f"NOTE_ON_{p}"]))
        events.append((off, 0, p, [f"NOTE_OFF_{p}"]))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    tokens = ["CLS"] if add_cls else []
    t = 0
    for time, _, _, toks in events:
        gap = time - t
        while gap > 0:
            k = min(gap, vocab.max_shift_steps)
            tokens.append(f"TIME_SHIFT_{k}")
            gap -= k
        t = time
        tokens.extend(toks)
    return tokens


def tokens_to_notes(tokens: Sequence[str], vocab: MidiLikeVocab | None = None) -> list[Note]:
    """Refined MIDI-like tokens -> notes (sorted by onset, pitch).

    ``HARMONIC`` tokens are implied by the notes and ignored; a ``NOTE_ON`` of a sounding
    pitch ends the previous note; notes still sounding at the end end there.
    """
    vocab = vocab or MidiLikeVocab()
    step = vocab.time_step
    t, velocity = 0, 64
    active: dict[int, tuple[int, int]] = {}
    out: list[tuple[int, int, int, int]] = []
    for tok in tokens:
        if tok in vocab.SPECIALS or tok.startswith("HARMONIC_"):
            continue
        kind, _, val = tok.rpartition("_")
        if not val.isdigit():
            raise ValueError(f"malformed token {tok!r}")
        val_i = int(val)
        if kind == "TIME_SHIFT":
            t += val_i
        elif kind == "VELOCITY":
            velocity = vocab.bin_velocity(val_i)
        elif kind == "NOTE_ON":
            if val_i in active:
                on, v = active.pop(val_i)
                out.append((val_i, on, t, v))
            active[val_i] = (t, velocity)
        elif kind == "NOTE_OFF":
            if val_i in active:
                on, v = active.pop(val_i)
                out.append((val_i, on, t, v))
        else:
            raise ValueError(f"unknown token {tok!r}")
    for p, (on, v) in active.items():
        out.append((p, on, max(t, on + 1), v))
    out.sort(key=lambda x: (x[1], x[0]))
    return [Note(p, round(on * step, 6), round(off * step, 6), v) for p, on, off, v in out]


def midi_to_notes(midi: str | Path | pretty_midi.PrettyMIDI) -> list[Note]:
    """All non-drum notes of a MIDI file (or PrettyMIDI object), sorted by onset and pitch."""
    if not isinstance(midi, pretty_midi.PrettyMIDI):
        path = Path(midi)
        if not path.exists():
            raise FileNotFoundError(f"MIDI file not found: {path}")
        try:
            midi = pretty_midi.PrettyMIDI(str(path))
        except Exception as err:  # pretty_midi raises various errors on bad files
            raise ValueError(f"cannot parse MIDI file {path}: {err}") from err
    notes = [Note(int(n.pitch), float(n.start), float(n.end), int(n.velocity))
             for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    return sorted(notes, key=lambda n: (n.onset, n.pitch))


def notes_to_midi(notes: Sequence[Note], program: int = 0) -> pretty_midi.PrettyMIDI:
    """Notes -> a one-instrument PrettyMIDI (piano by default)."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    for n in notes:
        inst.notes.append(pretty_midi.Note(velocity=int(max(1, min(127, n.velocity))),
                                           pitch=int(n.pitch), start=float(n.onset),
                                           end=float(n.offset)))
    pm.instruments.append(inst)
    return pm


def encode_notes(notes: Sequence[Note], vocab: MidiLikeVocab, max_len: int | None = None,
                 *, harmonic: bool = True) -> np.ndarray:
    """Notes -> int64 token ids (CLS first), truncated to ``max_len`` tokens."""
    ids = np.asarray(vocab.encode(notes_to_tokens(notes, vocab, harmonic=harmonic)), dtype=np.int64)
    return ids[:max_len] if max_len else ids


def pad_batch(seqs: Sequence[np.ndarray | Sequence[int]], pad_id: int = 0,
              max_len: int | None = None) -> tuple[Tensor, Tensor]:
    """Right-pad id sequences -> ``(ids (B, L) long, pad_mask (B, L) bool, True = padding)``."""
    if not seqs:
        raise ValueError("pad_batch needs at least one sequence")
    seqs = [np.asarray(s, dtype=np.int64)[:max_len] if max_len else np.asarray(s, dtype=np.int64)
            for s in seqs]
    length = max(1, max(len(s) for s in seqs))
    ids = torch.full((len(seqs), length), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.from_numpy(s)
    lengths = torch.tensor([len(s) for s in seqs])
    mask = torch.arange(length)[None, :] >= lengths[:, None]
    return ids, mask


# ---------------------------------------------------------------------------- encoder
class SymbolicEncoder(nn.Module):
    """Token + position embeddings -> ``n_layers`` Transformer encoder layers.

    ``forward(tokens (B, L), pad_mask (B, L))`` returns ``(seq (B, L, d_model),
    valence_logit (B,))``; :meth:`mlm_logits` maps the sequence to vocabulary logits for
    masked-token pre-training. Paper: 4 "original" (post-norm) encoder layers; widths are
    not given in the paper and are parameters here.
    """

    def __init__(self, vocab_size: int, d_model: int = 128, n_heads: int = 4, n_layers: int = 4,
                 d_ff: int = 256, max_len: int = 1024, dropout: float = 0.1) -> None:
        super().__init__()
        self.vocab_size, self.d_model, self.max_len = vocab_size, d_model, max_len
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.mlm_head = nn.Linear(d_model, vocab_size)
        self.valence_head = nn.Linear(d_model, 1)

    def encode(self, tokens: Tensor, pad_mask: Tensor | None = None) -> Tensor:
        """Ids ``(B, L)`` -> contextual token vectors ``(B, L, d_model)``."""
        if tokens.ndim != 2:
            raise ValueError(f"tokens must be (batch, length), got {tuple(tokens.shape)}")
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"sequence length {tokens.shape[1]} exceeds max_len={self.max_len}")
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.tok(tokens) * math.sqrt(self.d_model) + self.pos(pos)[None]
        return self.encoder(x, src_key_padding_mask=pad_mask)

    def mlm_logits(self, seq: Tensor) -> Tensor:
        return self.mlm_head(seq)

    def valence_logit(self, seq: Tensor, pad_mask: Tensor | None = None) -> Tensor:
        from emolib.encoders.acoustic import masked_mean

        return self.valence_head(masked_mean(seq, pad_mask)).squeeze(-1)

    def forward(self, tokens: Tensor, pad_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        seq = self.encode(tokens, pad_mask)
        return seq, self.valence_logit(seq, pad_mask)


def mask_tokens(ids: Tensor, pad_mask: Tensor, vocab: MidiLikeVocab, p: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """BERT-style masking: ``p`` of the real (non-PAD, non-CLS) tokens become targets; of
    those 80 % -> MASK, 10 % -> a random token, 10 % unchanged. Returns (inputs, labels)
    with label -100 where there is nothing to predict."""
    special = pad_mask | (ids == vocab.cls_id)
    r = torch.rand(ids.shape, generator=generator)
    target = (r < p) & ~special
    labels = torch.where(target, ids, torch.full_like(ids, -100))
    r2 = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[target & (r2 < 0.8)] = vocab.mask_id
    rand_tok = torch.randint(len(vocab.SPECIALS), len(vocab), ids.shape, generator=generator)
    swap = target & (r2 >= 0.8) & (r2 < 0.9)
    inputs[swap] = rand_tok[swap]
    return inputs, labels


def mlm_loss(model: SymbolicEncoder, ids: Tensor, pad_mask: Tensor, vocab: MidiLikeVocab,
             p: float = 0.15) -> Tensor:
    """Masked-token cross-entropy (uses torch's global RNG, seeded by :func:`emolib.train.fit`)."""
    inputs, labels = mask_tokens(ids, pad_mask, vocab, p)
    if not bool((labels != -100).any()):  # tiny batch without targets: predict one token
        idx = (~pad_mask & (ids != vocab.cls_id)).nonzero()
        if len(idx):
            i, j = idx[0]
            labels[i, j] = ids[i, j]
            inputs[i, j] = vocab.mask_id
    logits = model.mlm_logits(model.encode(inputs, pad_mask))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=-100)


def _windows(seqs: Sequence[np.ndarray], max_len: int) -> list[np.ndarray]:
    """Cut long id sequences into windows of ``max_len`` (the tail too) for pre-training."""
    out = []
    for s in seqs:
        for i in range(0, max(len(s), 1), max_len):
            w = s[i:i + max_len]
            if len(w) >= 2:
                out.append(w)
    return out


def pretrain_symbolic(model: SymbolicEncoder, sequences: Sequence[np.ndarray], vocab: MidiLikeVocab,
                      *, epochs: int = 10, lr: float = 5e-4, batch_size: int = 32,
                      max_len: int = 256, seed: int = 0,
                      val_sequences: Sequence[np.ndarray] | None = None,
                      progress: bool = True):
    """Masked-token pre-training on token-id sequences (windows of ``max_len``).

    Returns the :class:`emolib.train.FitResult`. Notebook: 04_zhu2023 (MAESTRO-role corpus).
    """
    from torch.utils.data import DataLoader

    from emolib.train import fit

    train_w = _windows(sequences, max_len)
    if not train_w:
        raise ValueError("no token sequences with >= 2 tokens to pre-train on")

    def collate(batch):
        return pad_batch(batch, vocab.pad_id)

    g = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_w, batch_size=batch_size, shuffle=True, collate_fn=collate,
                              generator=g)
    val_loader = None
    if val_sequences:
        val_loader = DataLoader(_windows(val_sequences, max_len), batch_size=batch_size,
                                collate_fn=collate)
    return fit(model, lambda m, b: mlm_loss(m, b[0], b[1], vocab), train_loader, val_loader,
               epochs=epochs, lr=lr, seed=seed, progress=progress, grad_clip=1.0)


def pretrained_symbolic_encoder(sequences: Sequence[np.ndarray], vocab: MidiLikeVocab, *,
                                corpus_key: str, d_model: int = 128, n_heads: int = 4,
                                n_layers: int = 4, d_ff: int = 256, max_len: int = 512,
                                epochs: int = 10, lr: float = 5e-4, batch_size: int = 32,
                                seed: int = 0, val_sequences: Sequence[np.ndarray] | None = None,
                                progress: bool = True) -> SymbolicEncoder:
    """Build a :class:`SymbolicEncoder` and pre-train it once (cached by every argument).

    ``corpus_key`` must identify the pre-training corpus (e.g. a hash of the world's
    paired-corpus ids and its profile). Notebook: 04_zhu2023.
    """
    from emolib.train import cached_model

    params = {"vocab": vocab.config(), "d_model": d_model, "n_heads": n_heads,
              "n_layers": n_layers, "d_ff": d_ff, "max_len": max_len, "epochs": epochs,
              "lr": lr, "batch_size": batch_size, "seed": seed, "corpus": corpus_key}

    def build() -> SymbolicEncoder:
        torch.manual_seed(seed)
        return SymbolicEncoder(len(vocab), d_model, n_heads, n_layers, d_ff, max_len)

    def train(model: SymbolicEncoder) -> None:
        pretrain_symbolic(model, sequences, vocab, epochs=epochs, lr=lr, batch_size=batch_size,
                          max_len=max_len, seed=seed, val_sequences=val_sequences,
                          progress=progress)

    return cached_model("zhu2023_symbolic_mlm", params, build, train)


class FrozenSymbolicFeatures(nn.Module):
    """The symbolic branch on *precomputed* outputs of a frozen pre-trained encoder.

    CPU default of notebook 04: the Transformer runs once per clip (cached) and only a
    linear adapter and the valence head train. ``forward(seq (B, L, d), pad)`` ->
    ``(adapted seq, valence_logit)`` — the same interface as :class:`SymbolicEncoder`.
    """

    def __init__(self, d_model: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.adapter = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, d_model),
                                     nn.Dropout(dropout))
        self.valence_head = nn.Linear(d_model, 1)

    def forward(self, seq: Tensor, pad_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        from emolib.encoders.acoustic import masked_mean

        h = self.adapter(seq)
        return h, self.valence_head(masked_mean(h, pad_mask)).squeeze(-1)


def note_statistics(notes: Sequence[Note], duration: float | None = None) -> np.ndarray:
    """Hand-crafted clip features from notes (the "symbolic-LR" baseline's input).

    12 values: note density (notes/s), mean/std pitch, pitch range, mean/std velocity,
    mean/std duration, mean polyphony at onsets (harmonic), share of notes below C4,
    mean inter-onset interval, and the major-minor third balance of the pitch-class
    histogram (share of intervals of 4 vs 3 semitones between simultaneous notes).
    """
    if not notes:
        return np.zeros(12)
    p = np.array([n.pitch for n in notes], float)
    v = np.array([n.velocity for n in notes], float)
    on = np.array([n.onset for n in notes])
    off = np.array([n.offset for n in notes])
    dur = off - on
    span = duration or max(off.max() - on.min(), 1e-3)
    poly = np.array([np.count_nonzero((on <= t) & (off > t)) for t in on])
    ioi = np.diff(np.unique(np.round(on, 2)))
    maj = mino = 0
    for t in np.unique(np.round(on, 2)):
        chord = np.unique(p[np.round(on, 2) == t] % 12).astype(int)
        for a in chord:
            maj += int(((a + 4) % 12) in chord)
            mino += int(((a + 3) % 12) in chord)
    third = (maj - mino) / max(maj + mino, 1)
    return np.array([len(notes) / span, p.mean(), p.std(), np.ptp(p), v.mean(), v.std(),
                     dur.mean(), dur.std(), poly.mean(), np.mean(p < 60),
                     ioi.mean() if len(ioi) else span, third])


# ---------------------------------------------------------------------------- baseline
class StructuredSelfAttention(nn.Module):
    """Lin et al. (2017): ``A = softmax(W_s2 tanh(W_s1 H^T))`` (r x L), ``M = A H`` (r x 2u)."""

    def __init__(self, in_dim: int, da: int = 128, r: int = 14) -> None:
        super().__init__()
        self.w1 = nn.Linear(in_dim, da, bias=False)
        self.w2 = nn.Linear(da, r, bias=False)

    def forward(self, h: Tensor, pad_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        scores = self.w2(torch.tanh(self.w1(h))).transpose(1, 2)   # (B, r, L)
        if pad_mask is not None:
            scores = scores.masked_fill(pad_mask[:, None, :], float("-inf"))
        a = torch.softmax(scores, dim=-1)
        return a @ h, a


class BiLSTMAttention(nn.Module):
    """EMOPIA's MIDI baseline ("LSTM-Attn"): Embedding -> BiLSTM -> structured self-attention
    -> Linear(2u r, hidden) -> ReLU -> Linear(hidden, classes).

    Official sizes: embedding 300, LSTM 128 per direction, da 128, r 14, hidden 256.
    ``forward(tokens, pad_mask)`` -> logits ``(B, n_classes)``; the attention of the last
    call is kept in ``last_attention``.
    """

    def __init__(self, vocab_size: int, n_classes: int = 4, emb_dim: int = 300,
                 lstm_hidden: int = 128, da: int = 128, r: int = 14, hidden: int = 256,
                 pad_id: int = 0) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.lstm = nn.LSTM(emb_dim, lstm_hidden, batch_first=True, bidirectional=True)
        self.attn = StructuredSelfAttention(2 * lstm_hidden, da, r)
        self.classifier = nn.Sequential(nn.Linear(2 * lstm_hidden * r, hidden), nn.ReLU(),
                                        nn.Linear(hidden, n_classes))
        self.last_attention: Tensor | None = None

    def forward(self, tokens: Tensor, pad_mask: Tensor | None = None) -> Tensor:
        x = self.emb(tokens)
        if pad_mask is not None:
            lengths = (~pad_mask).sum(dim=1).clamp_min(1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True,
                                                    total_length=tokens.shape[1])
        else:
            h, _ = self.lstm(x)
        m, a = self.attn(h, pad_mask)
        self.last_attention = a.detach()
        return self.classifier(m.flatten(1))

