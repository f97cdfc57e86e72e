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
# # 04 — Multi-domain (acoustic + symbolic) piano emotion recognition (Zhu et al. 2023)
#
# **Paper.** Kexin Zhu, Xulong Zhang, Jianzong Wang, Ning Cheng and Jing Xiao.
# *Symbolic & Acoustic: Multi-domain Music Emotion Modeling for Instrumental Music.*
# Ping An Technology (Shenzhen), 2023 (the text in `shared/papers/` names no venue).
#
# **Task.** Four-quadrant (4Q) emotion recognition of piano clips (EMOPIA, Hung et al.
# 2021) from *audio only*. Two branches look at the same audio in two domains: an
# **acoustic** branch (mixed features — 20 MFCC + log-mel + spectral centroid + RMS —
# into a 3-layer ConvNet, Table 1, with an auxiliary **arousal** loss) and a **symbolic**
# branch (the audio is *transcribed* to notes, written as refined MIDI-like tokens with a
# "harmonic" attribute, and encoded by a 4-layer Transformer pre-trained on MAESTRO, with
# an auxiliary **valence** loss). **Cross-domain attention** (CDA) lets each domain query
# the other; the two outputs are concatenated into a 4Q classifier. Loss = 4Q CE +
# arousal BCE + valence BCE. Results: comparison with symbolic-domain (Table 2) and
# acoustic-domain (Table 3) methods and ablations (Table 4); accuracy for 4Q and for the
# binary arousal / valence tasks derived from the quadrants (A high = Q1, Q2; V high = Q1, Q4).
#
# **Here.** By default everything runs on the *emotion world* (`emolib.data.world`): its
# `piano` role plays EMOPIA (clips `Q{n}_s{song}_{idx}`, 7:2:1 split by song) and its
# `paired` role plays MAESTRO (paired audio + MIDI). The world was written by this
# project; numbers on it test the *method* and are printed beside the paper's numbers
# only for orientation. Stand-ins trained here, offline: the transcriber (a small
# Onsets-and-Frames-family model, `emolib.encoders.transcription`) and the masked-token
# pre-training of the symbolic Transformer. As in the paper, the clips' own MIDI is never
# an input: it is used only to *measure* the transcription.
#
# **CPU budget (say so).** The paper trains with Adam, lr 1e-4, batch 64 (`profile="paper"`
# does). The CPU default (about 4 min on 2 cores with a cold model cache) uses lr 1e-3,
# 10 epochs, narrower conv layers (4/8/16 instead of 64/128/256), features resized to
# 32 frames, narrow baselines (ResNet width 8, LSTM 32/16/16/4), at most 256 tokens per
# clip and a **frozen** pre-trained Transformer whose outputs are cached (a trainable
# adapter and the valence head sit on top);
# `profile="paper"` fine-tunes the whole Transformer. The stand-in pre-training is cut
# too: the transcriber learns from 48 of the paired training clips for 6 epochs (two
# random 4-s crops per clip and epoch), and the Transformer gets 3 masked-token epochs on
# the MIDI of 48 paired clips in 256-token windows; each piano clip keeps its first 256
# tokens (about half of a 10-s clip's transcription). `profile="paper"` uses every paired
# clip, 100 / 50 epochs and 1,024 tokens. Where the time goes is
# printed after each stage (transcription is the largest part: the CQT of every clip).

# %% tags=["parameters"]
seed = 0  # world seed
seeds = [0, 1, 2]  # training seeds of every model
profile = "default"  # "quick" | "default" | "paper": world size and model budgets
data_root = None  # folder with EMOPIA/ (split CSVs, audios/) and maestro-v3.0.0/; None -> world
device = "cpu"
threads = 2  # torch threads, fixed so the same parameters give the same tables on any machine
transcription_backend = "onsets_frames"  # tr.get_backend name; "onsets_frames": OnsetsFramesLite
#                                          trained here
lr = 1e-3  # paper: 1e-4 (set by the paper profile)
batch_size = 64  # paper: 64
epochs = 10  # fine-tuning epochs of every 4Q model and the trained baselines (CPU default)
acoustic_widths = [4, 8, 16]  # paper Table 1: [64, 128, 256]
n_frames = 32  # time frames of the resized acoustic input (None: keep all)
d_model = 64  # width shared by both branches and CDA
n_heads = 4  # CDA and Transformer heads
max_tokens = 256  # tokens per clip (transcribed notes) and pre-training window
finetune_symbolic = False  # True: fine-tune the Transformer (paper); False: frozen + cached
transcriber_clips = 48  # paired training clips the transcriber learns from (None: all)
transcriber_epochs = 6  # training epochs of the transcriber
transcriber_crops = 2  # random 4-s crops per paired clip and epoch
pretrain_epochs = 3  # masked-token pre-training epochs of the symbolic Transformer
pretrain_clips = 48  # paired training clips whose MIDI pre-trains it (None: all)
resnet_width = 8  # short-chunk ResNet channels (Won et al.: 128)
lstm_sizes = [32, 16, 16, 4]  # LSTM-Attn: embedding, LSTM, da, r (EMOPIA: 300, 128, 128, 14)
figure_clip = None  # test clip for the piano-roll and attention figures (None: first)

# %%
# NBVAL_IGNORE_OUTPUT
import hashlib
import logging
import platform
import time
from pathlib import Path

import librosa
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

import emolib
from emolib import features, plots, provenance, tables
from emolib.data.world import make_world
from emolib.encoders import cross_attention as cda
from emolib.encoders import symbolic as sym
from emolib.encoders import transcription as tr
from emolib.encoders.acoustic import AcousticEncoder
from emolib.encoders.audio import ShortChunkResNet, load_audio
from emolib.params import check_notebook
from emolib.seed import seed_everything, set_num_threads
from emolib.train import fit, params_key

RUN_PARAMS = check_notebook("04_zhu2023", globals())  # refuse bad parameters before any work
logging.basicConfig(level=logging.WARNING)
set_num_threads(threads)
plots.set_style()
t_start = time.perf_counter()
if profile == "paper":
    lr, epochs, acoustic_widths, n_frames, d_model = 1e-4, 200, [64, 128, 256], None, 128
    finetune_symbolic, transcriber_clips, transcriber_epochs, pretrain_epochs = True, None, 100, 50
    pretrain_clips = None
    resnet_width, lstm_sizes, max_tokens = 128, [300, 128, 128, 14], 1024
print(f"emolib {emolib.__version__} | python {platform.python_version()}"
      f" | torch {torch.__version__} | librosa {librosa.__version__}")
print(f"seed={seed} seeds={seeds} profile={profile} device={device} data_root={data_root} "
      f"lr={lr} batch={batch_size} epochs={epochs} threads={threads} "
      f"transcription={transcription_backend}")

# %% [markdown]
# ## 4.1 Data: EMOPIA role and MAESTRO role
#
# EMOPIA: 1,087 clips of 387 songs, 4 quadrants, split 7:2:1 by song (official split
# files). MAESTRO: >200 h of paired piano audio and MIDI, used to pre-train the
# transcriber and the symbolic encoder. In the world: `world.piano` and `world.paired`.
# With `data_root`, `emolib.data.emopia.read_emopia` and `emolib.data.maestro.read_maestro`
# read the published layouts (audio is resampled to 16 kHz; clips without audio are
# dropped, as the paper could fetch only ~90 % of EMOPIA from YouTube).

# %%
# NBVAL_IGNORE_OUTPUT
if data_root is None:
    world = make_world(seed, profile)
    piano, paired, sr = world.piano, world.paired, world.sr
    data_name = f"world (seed={seed}, profile={profile})"
else:
    from emolib.data.emopia import read_emopia
    from emolib.data.maestro import read_maestro

    piano = read_emopia(Path(data_root) / "EMOPIA", midi_dir=None, missing="drop")
    paired = read_maestro(Path(data_root) / "maestro-v3.0.0")
    sr, data_name = 16000, "EMOPIA + MAESTRO"
piano = piano.reset_index(drop=True)
classes = ["Q1", "Q2", "Q3", "Q4"]
y_all = piano.label.map({q: i for i, q in enumerate(classes)}).to_numpy()
split_idx = {s: np.flatnonzero(piano.split.to_numpy() == s) for s in ("train", "val", "test")}
provenance.start_run("04_zhu2023", RUN_PARAMS, data=data_name,  # run record of every table
                     splits={"piano": piano, "paired": paired})
print(data_name)

# %%
# NBVAL_CHECK_OUTPUT
print(pd.crosstab(piano.split, piano.label).loc[["train", "val", "test"]].to_string())
print(f"songs per split: {piano.groupby('split').song_id.nunique().to_dict()}")
print(f"paired corpus: {paired.split.value_counts().sort_index().to_dict()}")

# %% [markdown]
# ## 3.1 Acoustic domain: mixed features
#
# MFCC (20), log-mel (128 bands), spectral centroid and RMS energy, computed with librosa
# (n_fft 1024, hop 512 at 16 kHz), "resized and aligned in the time dimension" and spliced
# along the feature axis (`emolib.features.mixed_features`): a 150-row matrix per clip.
# The ablation's STFT input is the dB magnitude spectrogram (257 rows).

# %%
# NBVAL_IGNORE_OUTPUT
def _mixed(path):
    return features.mixed_features(load_audio(path, sr), sr, n_frames=n_frames)


def _stft(path):
    return features.stft_features(load_audio(path, sr), sr, n_fft=512, hop_length=512,
                                  n_frames=n_frames)


def _stack(arrays):
    """Per-clip (rows, frames) arrays as one array. Real clips differ in length (here with
    n_frames=None, and for the ResNet's log-mels): the shorter ones repeat to the longest."""
    n = max(a.shape[-1] for a in arrays)
    return np.stack([np.pad(a, [(0, 0), (0, n - a.shape[-1])], mode="wrap") for a in arrays])


t_feat = time.perf_counter()
paths = piano.audio_path.tolist()
durations = np.array([librosa.get_duration(path=p) for p in paths])  # clip lengths (s)
mixed = _stack(features.cached_features(
    paths, "zhu2023-mixed",
    {"key": params_key("zhu2023-mixed", {"n_frames": n_frames, "sr": sr})}, _mixed))
stft = _stack(features.cached_features(
    paths, "zhu2023-stft",
    {"key": params_key("zhu2023-stft", {"n_frames": n_frames, "sr": sr, "n_fft": 512})}, _stft))
print(mixed.shape, stft.shape, f"features {time.perf_counter() - t_feat:.0f} s")

# %%
# NBVAL_CHECK_OUTPUT
rows = features.mixed_feature_rows()
q_means = pd.DataFrame({name: [float(mixed[y_all == q][:, sl].mean()) for q in range(4)]
                        for name, sl in rows.items()}, index=classes)
print(f"mean of each feature block per quadrant ({'world' if data_root is None else 'EMOPIA'}"
      " clips):")
print(q_means.round(2).to_string())

# %% [markdown]
# ## 3.2 Symbolic domain, step 1: automatic piano transcription
#
# The paper transcribes the EMOPIA audio with an AMT model pre-trained on MAESTRO. No
# transcription weights can be downloaded here, so we train a small model of the
# Onsets-and-Frames family (`OnsetsFramesLite`: CQT with 3 bins per semitone, harmonic
# stacking, pitch-equivariant conv stack, onset / frame (conditioned on onsets) /
# velocity heads; O&F decoding) on the paired corpus's training split, once (cached).
# Transcription quality: note-level precision / recall / F1 (mir_eval, onset tolerance
# 50 ms; "with offsets" also requires the offset within 20 % of the note or 50 ms) on the
# held-out paired clips and on the test piano clips (whose MIDI the world keeps).
# The onset threshold is chosen on the paired validation clips.

# %%
# NBVAL_IGNORE_OUTPUT
pair_tr = paired[paired.split == "train"]
val_pairs, test_pairs = paired[paired.split == "val"], paired[paired.split == "test"]
piano_test = piano.iloc[split_idx["test"]]
front = tr.FrontEnd(sr=sr)
t_tr = time.perf_counter()
if transcription_backend == "onsets_frames":
    pair_fit = pair_tr if transcriber_clips is None else pair_tr.sample(
        min(transcriber_clips, len(pair_tr)), random_state=seed).sort_index()
    # paths, not arrays: each recording's CQT is cached on disk and memory-mapped per crop,
    # so a MAESTRO-sized corpus trains in bounded memory
    transcriber = tr.pretrained_transcriber(
        list(pair_fit.audio_path), list(pair_fit.midi_path),
        front=front, epochs=transcriber_epochs, lr=3e-3, batch_size=8, crop_frames=128,
        crops_per_clip=transcriber_crops, seed=seed, progress=False)
    def _activations(paths_):
        """Frame activations per recording, one memory-mapped cached CQT at a time (long
        recordings are processed in overlapping chunks)."""
        return [tr.activations_from_features(
                    transcriber, np.load(tr.cached_front_end(p, front), mmap_mode="r"))
                for p in paths_]

    def _decode(act, threshold):
        return tr.decode_notes(act["onset"], act["frame"], front.fps, act["velocity"],
                               onset_threshold=threshold, frame_threshold=0.5)

    val_act = _activations(val_pairs.audio_path)
    val_ref = [sym.midi_to_notes(p) for p in val_pairs.midi_path]
    grid = [0.2, 0.25, 0.3, 0.35, 0.4, 0.5]
    val_f1 = [np.mean([tr.note_scores(r, _decode(a, t))["f1"] for r, a in zip(val_ref, val_act)])
              for t in grid]
    onset_threshold = grid[int(np.argmax(val_f1))]
    print("validation F1 per onset threshold:", dict(zip(grid, np.round(val_f1, 3))))

    def transcribe(paths_):
        return [_decode(a, onset_threshold) for a in _activations(paths_)]
else:  # another registered backend (e.g. "basic_pitch", if installed): used as is
    backend = tr.get_backend(transcription_backend)
    onset_threshold = None

    def transcribe(paths_):
        return [backend.transcribe(load_audio(p, sr), sr) for p in paths_]

# %% [markdown]
# Transcribe every piano clip (the CQT is cached) — this is the symbolic input from here
# on — and score the transcription on the held-out paired clips and, on the world (which
# keeps the piano clips' MIDI), on the test piano clips.

# %%
# NBVAL_IGNORE_OUTPUT
piano_notes = transcribe(piano.audio_path)
print(f"{np.mean([len(n) for n in piano_notes]):.1f} transcribed notes per clip; "
      f"transcription stage {time.perf_counter() - t_tr:.0f} s")


def _scores(refs, ests, name):
    out = []
    for with_off in (False, True):
        s = [tr.note_scores(r, e, with_offsets=with_off) for r, e in zip(refs, ests)]
        for metric in ("precision", "recall", "f1"):
            out.append({"table": "Transcription",
                        "setting": f"clips={name}; offsets={'yes' if with_off else 'no'}",
                        "metric": metric, "seed": seed,
                        "value": float(np.mean([x[metric] for x in s]))})
    return out


trans_rows = _scores([sym.midi_to_notes(p) for p in test_pairs.midi_path],
                     transcribe(test_pairs.audio_path), "paired test")
if data_root is None:  # the world keeps the piano clips' MIDI: measure the transcription there too
    trans_rows += _scores([sym.midi_to_notes(p) for p in piano_test.midi_path],
                          [piano_notes[i] for i in split_idx["test"]], "piano test")
trans_results = pd.DataFrame(trans_rows)

# %%
# NBVAL_IGNORE_OUTPUT
# trained numbers: checked within tolerance by tests/test_reexecuted_tables.py
print(f"backend: {transcription_backend}; onset threshold (chosen on validation): "
      f"{onset_threshold}")
TRANS_NOTE = (f"Transcription backend: {transcription_backend}" + (
    f" (OnsetsFramesLite trained here on {len(pair_fit)} of {len(pair_tr)} paired training clips"
    f" for {transcriber_epochs} epochs, not the refined Onsets and Frames model pre-trained on "
    "MAESTRO that the paper uses)" if transcription_backend == "onsets_frames" else "")
    + (f"; onset threshold {onset_threshold} chosen on validation clips." if onset_threshold
       else "."))
tables.show(tables.write_paper_table("zhu2023_transcription", trans_results, "zhu2023", data_name,
                                     [seed], notes=[TRANS_NOTE]))

# %% [markdown]
# A piano roll of the transcription against the world's MIDI for one test clip.

# %%
fig_id = figure_clip or piano_test.item_id.iloc[0]
fig_i = int(np.flatnonzero(piano.item_id.to_numpy() == fig_id)[0])
fig, ax = plt.subplots(figsize=(10, 4))
if data_root is None:
    for n in sym.midi_to_notes(piano.midi_path[fig_i]):
        ax.add_patch(plt.Rectangle((n.onset, n.pitch - 0.5), n.offset - n.onset, 1, color="0.75"))
for n in piano_notes[fig_i]:
    ax.add_patch(plt.Rectangle((n.onset, n.pitch - 0.5), n.offset - n.onset, 1, fill=False,
                               edgecolor="tab:red", lw=1))
clip_s = librosa.get_duration(path=piano.audio_path[fig_i])
ax.grid(False)
ax.set(xlim=(0, clip_s), ylim=(20, 109), xlabel="time (s)", ylabel="MIDI pitch",
       title=f"{fig_id}: ground truth (grey) vs transcription (red outline)")
plots.save_figure(fig, "zhu2023_pianoroll.png")
plt.show()

# %% [markdown]
# ## 3.2 Symbolic domain, step 2: refined MIDI-like tokens and the pre-trained Transformer
#
# Each note: `HARMONIC_h` (notes sounding at its onset), `VELOCITY_v`, `NOTE_ON_p`, then
# `TIME_SHIFT`s and its `NOTE_OFF_p` — MIDI-like (Oore et al.) plus the paper's
# "harmonic" attribute. The 4-layer Transformer encoder is pre-trained with masked-token
# modelling on the paired corpus's MIDI (the paper pre-trains on MAESTRO's MIDI; the
# objective is not given in the paper — masked tokens is our choice).

# %%
vocab = sym.MidiLikeVocab()
print(" ".join(sym.notes_to_tokens(piano_notes[fig_i], vocab)[:24]), "...")

# %%
# NBVAL_IGNORE_OUTPUT
def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


t_sym = time.perf_counter()
pair_pre = pair_tr if pretrain_clips is None else pair_tr.sample(
    min(pretrain_clips, len(pair_tr)), random_state=seed).sort_index()
pre_seqs = [sym.encode_notes(sym.midi_to_notes(p), vocab) for p in pair_pre.midi_path]
pre_val = [sym.encode_notes(sym.midi_to_notes(p), vocab) for p in val_pairs.midi_path]
encoder_kw = dict(d_model=d_model, n_heads=n_heads, n_layers=4, d_ff=2 * d_model,
                  max_len=max_tokens)
encoder = sym.pretrained_symbolic_encoder(
    pre_seqs, vocab, corpus_key=_digest(*pre_seqs, *pre_val), **encoder_kw,
    epochs=pretrain_epochs, lr=5e-4, batch_size=32, seed=seed, val_sequences=pre_val,
    progress=False)
tokens = [sym.encode_notes(n, vocab, max_tokens) for n in piano_notes]
tok_ids, tok_pad = sym.pad_batch(tokens, vocab.pad_id)
print(f"tokens per clip: median {int(np.median([len(t) for t in tokens]))}, "
      f"{np.mean([len(t) >= max_tokens for t in tokens]):.0%} truncated at {max_tokens}; "
      f"pre-training {time.perf_counter() - t_sym:.0f} s")

# %%
# NBVAL_IGNORE_OUTPUT
def _frozen_outputs():
    with torch.no_grad():
        encoder.eval()
        return np.concatenate([encoder.encode(tok_ids[i:i + 32], tok_pad[i:i + 32]).numpy()
                               for i in range(0, len(tokens), 32)])


# keyed by the exact inputs: the token ids of the transcriptions and the encoder's weights
sym_key = params_key("zhu2023-symbolic", {
    "encoder": encoder_kw, "tokens": _digest(tok_ids.numpy(), tok_pad.numpy()),
    "weights": _digest(*[v.numpy() for v in encoder.state_dict().values()])})
sym_feats = features.cached_features(["all"], "zhu2023-symbolic", {"key": sym_key},
                                     lambda _: _frozen_outputs())[0]
print(sym_feats.shape)

# %% [markdown]
# ## 3.3 The model: acoustic branch + symbolic branch + bidirectional CDA
#
# `AcousticEncoder` (Table 1 layout; widths per profile) → acoustic tokens; the symbolic
# branch → note tokens; acoustic CDA (acoustic queries over symbolic keys/values) and
# symbolic CDA (the reverse), each pooled, concatenated → 4Q classifier.
# `zhu_loss` = CE(4Q) + BCE(arousal | acoustic) + BCE(valence | symbolic).
# Ablations (Table 4): symbolic-only and acoustic-only (one branch, its own auxiliary
# loss), STFT input instead of mixed features, single loss (CE only).

# %%
def make_model(variant: str) -> torch.nn.Module:
    """Build one model of Table 4 (CPU-sized per the parameters)."""
    rows_in = stft.shape[1] if variant == "STFT-input" else mixed.shape[1]
    ac = AcousticEncoder(rows_in, acoustic_widths, d_model)
    sy = (sym.SymbolicEncoder(len(vocab), **encoder_kw) if finetune_symbolic else
          sym.FrozenSymbolicFeatures(d_model))
    if finetune_symbolic:
        sy.load_state_dict(encoder.state_dict())
    if variant == "Acoustic-only":
        return cda.UniDomainClassifier(ac, "acoustic", d_model)
    if variant == "Symbolic-only":
        return cda.UniDomainClassifier(sy, "symbolic", d_model)
    return cda.MultiDomainClassifier(ac, sy, d_model, n_heads)


def _tensors(variant, idx):
    x_ac = torch.from_numpy(stft[idx] if variant == "STFT-input" else mixed[idx])
    x_sy = tok_ids[idx] if finetune_symbolic else torch.from_numpy(sym_feats[idx])
    return x_ac, x_sy, tok_pad[idx], torch.from_numpy(y_all[idx])


def _forward(model, batch):
    x_ac, x_sy, pad, _ = batch
    if isinstance(model, cda.UniDomainClassifier):
        return (model(feats=x_ac) if model.domain == "acoustic"
                else model(tokens=x_sy, token_pad=pad))
    return model(x_ac, x_sy, pad)


def train_zhu(variant: str, run_seed: int):
    """Train one variant with Adam (Table 4 / the proposed model) and return it."""
    seed_everything(run_seed)
    model = make_model(variant)
    aux = 0.0 if variant == "Single-loss" else 1.0
    g = torch.Generator().manual_seed(run_seed)
    train_dl = DataLoader(TensorDataset(*_tensors(variant, split_idx["train"])),
                          batch_size=batch_size, shuffle=True, generator=g)
    val_dl = DataLoader(TensorDataset(*_tensors(variant, split_idx["val"])), batch_size=256)
    res = fit(model, lambda m, b: cda.zhu_loss(_forward(m, b), b[3], aux_weight=aux), train_dl,
              val_dl, epochs=epochs, lr=lr, seed=run_seed, device=device, progress=False)
    return res.model


@torch.no_grad()
def predict_zhu(model, variant, idx):
    model.eval()
    return _forward(model, _tensors(variant, idx))


# %% [markdown]
# ## 4.2–4.3 Training and evaluation (all variants × seeds)

# %%
# NBVAL_IGNORE_OUTPUT
variants = ["Symbolic-only", "Acoustic-only", "STFT-input", "Single-loss", "proposed model"]
results, preds, t_models = [], {}, time.perf_counter()
test_y = y_all[split_idx["test"]]


def _record(table, method, run_seed, pred):
    for metric, value in cda.emopia_accuracies(test_y, pred).items():
        results.append({"table": table, "setting": f"method={method}", "metric": metric,
                        "seed": run_seed, "value": value})


proposed_models = {}
for s in seeds:
    for v in variants:
        m = train_zhu(v, s)
        out = predict_zhu(m, v, split_idx["test"])
        preds[(v, s)] = out["logits"].argmax(1).numpy()
        _record("Table 4", v, s, preds[(v, s)])
        if v == "proposed model":
            proposed_models[s] = m
            for t in ("Table 2", "Table 3"):
                _record(t, v, s, preds[(v, s)])
print(f"Table 4 models: {time.perf_counter() - t_models:.0f} s")

# %% [markdown]
# ### Baselines
#
# * **Short-chunk ResNet** on audio (Won et al. 2020; EMOPIA's audio baseline): log-mel
#   front end, random 3-s crops for training, non-overlapping 3-s chunks averaged at test.
# * **LSTM-Attn + MIDI-like** (EMOPIA's MIDI baseline): embedding → BiLSTM → structured
#   self-attention (da, r) → classes, on plain MIDI-like tokens of the *transcribed* notes.
# * **Audio-LR** / **symbolic-LR**: logistic regression on hand-crafted clip features
#   (mean and std over time of the mixed features; note statistics of the transcription).

# %%
# NBVAL_IGNORE_OUTPUT
t_base = time.perf_counter()
_probe = ShortChunkResNet(n_channels=resnet_width, n_classes=4)
mels = torch.from_numpy(_stack(features.cached_features(
    paths, "zhu2023-resnet-mel", {"key": params_key("zhu2023-resnet-mel", {"sr": sr})},
    lambda p: _probe.features(torch.from_numpy(load_audio(p, sr))[None])[0].numpy())))
crop = int(3.0 * sr / 256)  # 3-s crops at hop 256


@torch.no_grad()
def predict_resnet(model, idx):
    model.eval()
    n_chunks = mels.shape[-1] // crop
    chunks = torch.stack([mels[idx, :, k * crop:(k + 1) * crop] for k in range(n_chunks)], 1)
    logits = model.classify_features(chunks.flatten(0, 1)).view(len(idx), n_chunks, 4).mean(1)
    return logits.argmax(1).numpy()


def train_resnet(run_seed):
    seed_everything(run_seed)
    model = ShortChunkResNet(n_channels=resnet_width, n_classes=4)
    g = torch.Generator().manual_seed(run_seed)
    idx_tr = torch.from_numpy(split_idx["train"])
    dl = DataLoader(TensorDataset(idx_tr), batch_size=batch_size, shuffle=True, generator=g)

    def loss_fn(m, batch):
        (ii,) = batch
        starts = torch.randint(0, mels.shape[-1] - crop + 1, (len(ii),))
        x = torch.stack([mels[i, :, s:s + crop] for i, s in zip(ii.tolist(), starts.tolist())])
        return torch.nn.functional.cross_entropy(m.classify_features(x),
                                                 torch.from_numpy(y_all[ii.numpy()]))

    def val_accuracy(m):  # best epoch on validation 4Q accuracy (chunk-averaged, deterministic)
        return float(np.mean(predict_resnet(m, split_idx["val"]) == y_all[split_idx["val"]]))

    return fit(model, loss_fn, dl, epochs=epochs, lr=lr, seed=run_seed, progress=False,
               val_metric=val_accuracy).model


plain = [sym.encode_notes(n, vocab, max_tokens, harmonic=False) for n in piano_notes]
plain_ids, plain_pad = sym.pad_batch(plain, vocab.pad_id)


def train_lstm(run_seed):
    seed_everything(run_seed)
    emb, hid, da, r = lstm_sizes
    model = sym.BiLSTMAttention(len(vocab), 4, emb, hid, da, r, hidden=2 * hid, pad_id=vocab.pad_id)
    g = torch.Generator().manual_seed(run_seed)
    i_tr = split_idx["train"]
    dl = DataLoader(TensorDataset(plain_ids[i_tr], plain_pad[i_tr], torch.from_numpy(y_all[i_tr])),
                    batch_size=batch_size, shuffle=True, generator=g)
    i_va = split_idx["val"]
    val = DataLoader(TensorDataset(plain_ids[i_va], plain_pad[i_va], torch.from_numpy(y_all[i_va])),
                     batch_size=256)
    return fit(model, lambda m, b: torch.nn.functional.cross_entropy(m(b[0], b[1]), b[2]), dl, val,
               epochs=epochs, lr=lr, seed=run_seed, progress=False).model


for s in seeds:
    rn = train_resnet(s)
    preds[("Short-chunk ResNet", s)] = predict_resnet(rn, split_idx["test"])
    _record("Table 3", "Short-chunk ResNet", s, preds[("Short-chunk ResNet", s)])
    lstm = train_lstm(s).eval()
    with torch.no_grad():
        preds[("LSTM-Attn+MIDI-like", s)] = lstm(plain_ids[split_idx["test"]],
                                                 plain_pad[split_idx["test"]]).argmax(1).numpy()
    _record("Table 2", "LSTM-Attn+MIDI-like", s, preds[("LSTM-Attn+MIDI-like", s)])

audio_x = np.stack([features.summary_statistics(m) for m in mixed])
notes_x = np.stack([sym.note_statistics(n, duration=d) for n, d in zip(piano_notes, durations)])
for name, table, x in (("Audio-LR", "Table 3", audio_x), ("symbolic-LR", "Table 2", notes_x)):
    lr_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    lr_model.fit(x[split_idx["train"]], y_all[split_idx["train"]])
    _record(table, name, seeds[0], lr_model.predict(x[split_idx["test"]]))  # deterministic: one run
print(f"baselines: {time.perf_counter() - t_base:.0f} s")
results = pd.DataFrame(results)

# %% [markdown]
# ## Table 2 — comparison with symbolic-domain methods

# %%
# NBVAL_IGNORE_OUTPUT
# trained numbers: checked within tolerance by tests/test_reexecuted_tables.py
n_test = len(split_idx["test"])
ZHU_NOTES = [TRANS_NOTE,
             "Symbolic Transformer: pre-trained here by masked-token modelling on "
             f"{len(pair_pre)} of {len(pair_tr)} paired clips for {pretrain_epochs} epochs, "
             + ("fine-tuned (paper)." if finetune_symbolic else
                "then frozen (its outputs cached) with a trainable adapter on top; the paper "
                "fine-tunes it."),
             f"Budget of this profile ({profile}): lr {lr}, {epochs} epochs, acoustic widths "
             f"{acoustic_widths} (paper 64/128/256), {n_frames or 'all'} time frames, {max_tokens} "
             f"tokens per clip, short-chunk ResNet width {resnet_width} (128), LSTM-Attn sizes "
             f"{lstm_sizes} (EMOPIA: 300/128/128/14).",
             "All symbolic rows (LSTM-Attn, symbolic-LR, the symbolic branch) read *transcribed* "
             "notes; the published symbolic baselines used EMOPIA's own MIDI.",
             "Arousal and valence accuracies are derived from the 4Q predictions (A high = Q1, Q2; "
             "V high = Q1, Q4). Logistic-regression rows are deterministic (one fit per seed, "
             "same result)."]
if n_test:
    ZHU_NOTES.append(f"{n_test} test clips: one clip is {100 / n_test:.1f} accuracy points.")
tables.show(tables.write_paper_table("zhu2023_table2", results[results.table == "Table 2"],
                                     "zhu2023", data_name, seeds, notes=ZHU_NOTES))

# %% [markdown]
# ## Table 3 — comparison with acoustic-domain methods

# %%
# NBVAL_IGNORE_OUTPUT
# trained numbers: checked within tolerance by tests/test_reexecuted_tables.py
tables.show(tables.write_paper_table("zhu2023_table3", results[results.table == "Table 3"],
                                     "zhu2023", data_name, seeds, notes=ZHU_NOTES))

# %% [markdown]
# ## Table 4 — ablations

# %%
# NBVAL_IGNORE_OUTPUT
# trained numbers: checked within tolerance by tests/test_reexecuted_tables.py
tables.show(tables.write_paper_table("zhu2023_table4", results[results.table == "Table 4"],
                                     "zhu2023", data_name, seeds, notes=ZHU_NOTES))

# %% [markdown]
# ## Figures: 4Q confusion matrices and CDA attention maps

# %%
shown = ["proposed model", "Acoustic-only", "Symbolic-only", "Short-chunk ResNet"]
fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.6))
for ax, name in zip(axes, shown):
    cm = sum(confusion_matrix(test_y, preds[(name, s)], labels=range(4)) for s in seeds)
    ax.grid(False)
    ax.imshow(cm, cmap="Blues")
    for (i, j), c in np.ndenumerate(cm):
        ax.text(j, i, int(c), ha="center", va="center", fontsize=9)
    ax.set(xticks=range(4), yticks=range(4), xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title=f"{name}\n(test, summed over seeds)")
fig.tight_layout()
plots.save_figure(fig, "zhu2023_confusion.png")
plt.show()

# %%
out = predict_zhu(proposed_models[seeds[0]], "proposed model", np.array([fig_i]))
n_tok = int((~tok_pad[fig_i]).sum())
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
a_map = out["attn_acoustic"][0].mean(0)[:, :n_tok].numpy()
s_map = out["attn_symbolic"][0].mean(0)[:n_tok].numpy()
for ax in axes:
    ax.grid(False)
axes[0].imshow(a_map, aspect="auto", cmap="magma")
axes[0].set(xlabel="symbolic token (key/value)", ylabel="acoustic step (query)",
            title="acoustic CDA (mean over heads)")
axes[1].imshow(s_map.T, aspect="auto", cmap="magma")
axes[1].set(xlabel="symbolic token (query)", ylabel="acoustic step (key/value)",
            title="symbolic CDA (mean over heads)")
fig.suptitle(f"{fig_id} ({piano.label[fig_i]}), proposed model, seed {seeds[0]}")
fig.tight_layout()
plots.save_figure(fig, "zhu2023_cda_attention.png")
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
print(f"total run time: {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## In this notebook we:
#
# * computed Zhu et al.'s mixed acoustic features (MFCC + log-mel + centroid + RMS) and the
#   STFT input of their ablation with `emolib.features`;
# * trained a small Onsets-and-Frames-family transcriber on the paired (MAESTRO-role) corpus,
#   measured it with mir_eval note-level P/R/F1, and transcribed every piano clip (the
#   clips' own MIDI was never an input);
# * wrote the transcriptions as refined MIDI-like tokens (with the "harmonic" attribute) and
#   pre-trained a 4-layer Transformer on the paired MIDI with masked-token modelling;
# * trained the proposed model (acoustic ConvNet + symbolic Transformer + bidirectional
#   cross-domain attention, CE + arousal BCE + valence BCE), its four ablations and four
#   baselines over several seeds, and wrote `paper_tables/zhu2023_table2|3|4` and
#   `zhu2023_transcription` beside the published numbers;
# * drew 4Q confusion matrices, a transcription piano roll and CDA attention maps
#   (`figures/zhu2023_*.png`).
#
# On the world the numbers test the method, not the paper's EMOPIA results; the CPU
# default also departs from the paper's training setup (lr, widths, frozen Transformer,
# shorter token sequences, smaller pre-training of the two stand-ins) as stated at the top.
# The logistic-regression baselines are deterministic, so they are fitted once (their rows
# show one seed); every other model is trained once per seed in `seeds`. The transcriber
# and the Transformer pre-training use the world `seed`. Not done here: a pretrained
# transcriber from the paper's family (no weights can be downloaded; another registered
# backend can be chosen with `transcription_backend`, e.g. "basic_pitch" if installed),
# and the real EMOPIA / MAESTRO run (`data_root`), which this machine cannot hold.
