"""Miniature real-data roots and tiny random-weight models for the notebooks' data_root path.

A helper module for tests (no ``test_`` prefix: pytest does not collect it), used by
``tests/test_realdata_notebooks.py``. :func:`write_data_root` writes one ``data_root`` that
holds every dataset of ``emolib.params.LAYOUTS`` in its published layout, with just enough
items per class and split for every step of notebooks 01-04:

* ``audioset/`` — ``balanced_train_segments.csv`` and ``eval_segments.csv`` (rows taken
  verbatim from the real lists in ``../shared/data/audioset``: 10 single-mood clips per mood
  plus a few non-mood and multi-mood rows; written here in the same format when that copy is
  absent), ``class_labels_indices.csv`` and ``audio/`` with one short synthetic clip per mood
  clip, named in the three usual ways (``<YTID>.wav``, ``Y<YTID>.wav``, ``<YTID>_<start>``)
  as WAV, FLAC or MP3, in sub-folders, at 16 or 22.05 kHz;
* ``alm/`` — ``{Grimms,HCAndersen,Potter}/agree-sent/*.agree`` and ``emmood/*.emmood``;
* ``isear/isear.csv`` — 10 rows per emotion of the real file (raw bytes), or written here;
* ``deepemotion/emotion_dataset/<emotion>/`` — 10 small PNG/JPEG images per emotion;
* ``mtat/`` — ``annotations_final.csv`` (tab-separated, quoted; 12 tags), Won's
  ``train.npy`` / ``valid.npy`` / ``test.npy`` and the MP3s as ``mtat/<d>/<name>.mp3``;
* ``con_espressione/`` — ``con_espressione_game_answers.csv`` and ``audio_all/`` (both file
  naming layouts); ``midlevel/`` — ``metadata_annotations/annotations.csv``,
  ``metadata.csv`` (``;``-separated) and ``audio/<song id>.mp3``;
* ``EMOPIA/`` — ``train.csv`` / ``val.csv`` / ``test.csv`` (rows of the real split files in
  ``../shared/data/emopia``, or written here) and ``audios/<fname>.{wav,mp3}`` (one clip
  has no audio: it is dropped, as the readers allow); ``maestro-v3.0.0/`` — the metadata
  CSV and the WAV/MIDI pairs it lists.

Clip lengths differ within every dataset, as they do in the real ones (a few AudioSet and
EMOPIA clips are shorter than a model's input window); sample rates are 16, 22.05 or
44.1 kHz, MAESTRO and half of EMOPIA stereo. :func:`write_models`
saves tiny pretrained models with random weights (tagger state_dicts, a CLIP and a CLAP
folder, a DistilBERT folder, a word2vec text file), and :func:`notebook_parameters` gives
each notebook's papermill parameters for a fast run on them.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

__all__ = ["SHARED", "DATA_NAMES", "write_audio", "write_data_root", "write_models",
           "notebook_parameters", "MTAT_TAGS"]

#: The public reference files of the workplace (real layouts; may be absent).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: What each notebook names as its data on a real-data run (tables' ``data`` column).
DATA_NAMES = {"01_won2021": "AudioSet mood + Alm + ISEAR",
              "02_emoclim2024": "DeepEmotion + AudioSet mood + MagnaTagATune",
              "03_chowdhury2023": "Con Espressione + mid-level dataset",
              "04_zhu2023": "EMOPIA + MAESTRO"}
MOODS = {"/t/dd00031": "Happy music", "/t/dd00032": "Funny music", "/t/dd00033": "Sad music",
         "/t/dd00034": "Tender music", "/t/dd00035": "Exciting music",
         "/t/dd00036": "Angry music", "/t/dd00037": "Scary music"}
#: The miniature MagnaTagATune tag set (the taggers' heads have one output per tag).
MTAT_TAGS = ("guitar", "classical", "slow", "techno", "strings", "drums", "electronic",
             "rock", "fast", "piano", "ambient", "no voice")
EMOTIONS = ("amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear",
            "sadness")
ISEAR_HEADER = ("ID|CITY|COUN|SUBJ|SEX|AGE|RELI|PRAC|FOCC|MOCC|FIEL|EMOT|WHEN|LONG|INTS|ERGO|"
                "TROPHO|TEMPER|EXPRES|MOVE|EXP1|EXP2|EXP10|PARAL|CON|EXPC|PLEA|PLAN|FAIR|CAUS|"
                "COPING|MORL|SELF|RELA|VERBAL|NEUTRO|Field1|Field3|Field2|MYKEY|SIT|STATE|")
ISEAR_LABELS = ("joy", "fear", "anger", "sadness", "disgust", "shame", "guilt")
_YTID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# ------------------------------------------------------------------------- audio, images
def synth_audio(seconds: float, sr: int, seed: int,
                notes: list[tuple[int, float, float, int]] | None = None) -> np.ndarray:
    """A short piano-like signal: decaying harmonic tones (random notes unless ``notes``
    = ``(pitch, onset, offset, velocity)`` are given) plus a little noise, peak 0.5."""
    g = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    if notes is None:
        notes = random_notes(seconds, g)
    y = 0.005 * g.standard_normal(n)
    for pitch, on, off, vel in notes:
        i0, i1 = int(on * sr), min(n, int(off * sr))
        if i1 <= i0:
            continue
        t = np.arange(i1 - i0) / sr
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3) if k * f0 < sr / 2)
        y[i0:i1] += (vel / 127) * np.exp(-3.0 * t) * tone
    return (0.5 * y / max(1e-9, np.abs(y).max())).astype(np.float32)


def random_notes(seconds: float, g: np.random.Generator, low: int = 48, high: int = 84,
                 rate: float = 3.0) -> list[tuple[int, float, float, int]]:
    """Random notes (pitch, onset, offset, velocity), about ``rate`` per second."""
    out = []
    for _ in range(max(1, int(seconds * rate))):
        on = float(g.uniform(0, max(0.1, seconds - 0.4)))
        out.append((int(g.integers(low, high)), round(on, 3),
                    round(min(seconds, on + float(g.uniform(0.2, 0.8))), 3),
                    int(g.integers(40, 110))))
    return sorted(out, key=lambda x: x[1])


def write_audio(path: Path, seconds: float, sr: int = 16000, seed: int = 0,
                notes: list[tuple[int, float, float, int]] | None = None,
                channels: int = 1) -> Path:
    """Write :func:`synth_audio` to ``path``; the format follows the extension (WAV, FLAC,
    MP3: libsndfile here writes MPEG layer III). ``channels=2``: stereo (the right channel
    a little quieter), as MAESTRO and most collected audio are."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    y = synth_audio(seconds, sr, seed, notes)
    sf.write(str(path), y if channels == 1 else np.stack([y, 0.8 * y], axis=1), sr)
    return path


def write_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int],
                seed: int) -> Path:
    """A small noisy colour-gradient image (PNG or JPEG by extension)."""
    from PIL import Image

    g = np.random.default_rng(seed)
    h, w = size
    ramp = np.linspace(0.6, 1.0, w)[None, :, None]
    arr = np.clip(np.array(colour)[None, None] * ramp + g.normal(0, 12, (h, w, 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8)).save(path)
    return path


# ---------------------------------------------------------------------------- AudioSet
def _segment_rows(path: Path) -> tuple[list[str], list[tuple[str, set[str], str]]]:
    """(the comment lines, [(ytid, mids, raw line)]) of a real segments file."""
    head, rows = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            head.append(line)
            continue
        m = re.match(r'^([^,]+), [^,]+, [^,]+, "([^"]*)"', line)
        if m:
            rows.append((m.group(1), set(m.group(2).split(",")), line))
    return head, rows


def _synthetic_segments(n_per_mood: int, seed: int, start: int) -> list[str]:
    g = np.random.default_rng(seed)
    rows = []
    for mid in MOODS:
        for _ in range(n_per_mood):
            ytid = "".join(g.choice(list(_YTID_CHARS), 11))
            rows.append(f'{ytid}, {start}.000, {start + 10}.000, "/m/04rlf,{mid}"')
    rows.append(f'{"".join(g.choice(list(_YTID_CHARS), 11))}, 0.000, 10.000, "/m/09x0r"')
    rows.append(f'{"".join(g.choice(list(_YTID_CHARS), 11))}, 0.000, 10.000, '
                '"/t/dd00031,/t/dd00033"')
    return rows


def write_audioset(root: Path, per_mood: tuple[int, int] = (7, 3),
                   shared: Path = SHARED) -> str:
    """``root/audioset``: the balanced-train and eval segment lists (``per_mood`` single-mood
    clips per mood from each), the class index and one synthetic clip per mood clip.
    Returns where the lists came from."""
    out = root / "audioset"
    out.mkdir(parents=True, exist_ok=True)
    src = shared / "audioset"
    real = all((src / f).is_file() for f in ("balanced_train_segments.csv", "eval_segments.csv",
                                              "class_labels_indices.csv"))
    seen: set[str] = set()
    clips = []  # (ytid, start, label index)
    for k, (name, n) in enumerate(zip(("balanced_train_segments.csv", "eval_segments.csv"),
                                      per_mood)):
        if real:
            head, rows = _segment_rows(src / name)
            kept = []
            for mid in MOODS:
                hits = [r for r in rows if r[1] & set(MOODS) == {mid} and r[0] not in seen][:n]
                kept += [r[2] for r in hits]
                seen |= {r[0] for r in hits}
            kept += [r[2] for r in rows if not r[1] & set(MOODS)][:3]  # no mood: not in the subset
            kept += [r[2] for r in rows if len(r[1] & set(MOODS)) > 1][:2]  # two moods: dropped
        else:
            head = ["# Segments csv created by tests/realdata.py",
                    "# num_ytids=0, num_segs=0, num_unique_labels=527, num_positive_labels=0",
                    "# YTID, start_seconds, end_seconds, positive_labels"]
            kept = _synthetic_segments(n, seed=11 + k, start=30 * k)
        (out / name).write_text("\n".join([*head, *kept]) + "\n", encoding="utf-8")
        for line in kept:
            ytid, start, _, mids = (p.strip() for p in line.split(", ", 3))
            moods = [m for m in mids.strip('"').split(",") if m in MOODS]
            if len(moods) == 1:
                clips.append((ytid, float(start), list(MOODS).index(moods[0]), name[:4]))
    if real:
        (out / "class_labels_indices.csv").write_bytes(
            (src / "class_labels_indices.csv").read_bytes())
    else:
        lines = ["index,mid,display_name", '0,/m/09x0r,"Speech"', '1,/m/04rlf,"Music"']
        lines += [f'{i + 2},{mid},"{name}"' for i, (mid, name) in enumerate(MOODS.items())]
        (out / "class_labels_indices.csv").write_text("\n".join(lines) + "\n")
    for i, (ytid, start, mood, sub) in enumerate(clips):
        stem, ext = [(ytid, ".wav"), (f"Y{ytid}", ".wav"), (f"{ytid}_{start:.3f}", ".flac"),
                     (ytid, ".mp3")][i % 4]
        g = np.random.default_rng(100 + i)
        secs = 2.5 if i % 9 == 4 else 5.0 + 0.25 * (i % 5)  # some fetched clips are short
        write_audio(out / "audio" / sub / f"{stem}{ext}", secs,
                    sr=(16000, 22050)[i % 2], seed=100 + i,
                    notes=random_notes(5.0, g, low=40 + 6 * mood, high=60 + 6 * mood,
                                       rate=1.5 + mood))
    return "../shared/data/audioset (rows kept verbatim)" if real else "written here"


# -------------------------------------------------------------------------- Alm, ISEAR
_ALM_WORDS = {"2": ("angry", "furious", "cross"), "3": ("afraid", "frightened", "scared"),
              "4": ("glad", "happy", "merry"), "6": ("sad", "sorrowful", "gloomy"),
              "7": ("astonished", "amazed", "surprised")}
_EMMOOD = {"2": ("A", "A"), "3": ("F", "F"), "4": ("H", "H"), "6": ("Sa", "S"),
           "7": ("Su+", "+")}  # primary emotion code, mood code


def write_alm(root: Path, per_label: dict[str, int] | None = None) -> None:
    """``root/alm``: two stories per author, ``.agree`` (high-agreement sentences) and
    ``.emmood`` (every sentence, two annotators) files. Grimms and HCAndersen train;
    Potter (held out) has 4 sentences per label so that its val/test halves hold every
    label."""
    per_label = per_label or {"Grimms": 3, "HCAndersen": 3, "Potter": 4}
    subjects = ("the king", "the little rabbit", "the old woman", "the fir tree", "the miller")
    for a, (author, n) in enumerate(per_label.items()):
        for story in range(2):
            agree, emmood = [], []
            sid = 0
            for code, words in _ALM_WORDS.items():
                for j in range(n):
                    if (j + story) % 2:  # stories split each label's sentences between them
                        continue
                    subj = subjects[(a + j + story) % len(subjects)]
                    text = f"Then {subj} was {words[j % 3]}, and {subj} said so."
                    agree.append(f"{sid}@{code}@{text}")
                    e, m = _EMMOOD[code]
                    emmood.append(f"{sid}:{sid}\t{e}:{e}\t{m}:{m}\t{text}")
                    sid += 1
                    emmood.append(f"{sid}:{sid}\tN:N\tN:N\tAnd so the day went on.")
                    sid += 1
            name = f"{author.lower()}_story_{story}"
            d = root / "alm" / author
            (d / "agree-sent").mkdir(parents=True, exist_ok=True)
            (d / "emmood").mkdir(parents=True, exist_ok=True)
            eol = "\r\n" if story else "\n"  # the corpus mixes line endings
            (d / "agree-sent" / f"{name}.agree").write_text(eol.join(agree) + eol,
                                                            encoding="latin-1", newline="")
            (d / "emmood" / f"{name}.emmood").write_text(eol.join(emmood) + eol,
                                                         encoding="latin-1", newline="")


def write_isear(root: Path, per_label: int = 10, shared: Path = SHARED) -> str:
    """``root/isear/isear.csv``: the header and ``per_label`` rows per emotion of the real
    (pipe-separated, partly non-UTF-8) file, byte for byte; written here when absent."""
    out = root / "isear" / "isear.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    src = shared / "isear" / "isear.csv"
    if src.is_file():
        lines = src.read_bytes().split(b"\n")
        n_fields = len(lines[0].split(b"|"))
        kept, counts = [lines[0]], dict.fromkeys(ISEAR_LABELS, 0)
        for line in lines[1:]:
            f = line.split(b"|")
            emo = f[36].decode("latin-1") if len(f) > 36 else ""
            if len(f) >= n_fields and counts.get(emo, per_label) < per_label:
                kept.append(line)
                counts[emo] += 1
        out.write_bytes(b"\n".join(kept) + b"\n")
        return "../shared/data/isear (rows kept verbatim)"
    rows = [ISEAR_HEADER.encode()]
    for i in range(per_label * len(ISEAR_LABELS)):
        emo = ISEAR_LABELS[i % len(ISEAR_LABELS)]
        sit = f"I felt {emo} when my friend \u00e1 came home late.".encode("cp1252")
        rows.append(("|".join(["1"] * 36) + f"|{emo}|4|3|{110000 + i:07d}|").encode()
                    + sit + b"|1|")
    out.write_bytes(b"\n".join(rows) + b"\n")
    return "written here"


# --------------------------------------------------------------------- images, MagnaTagATune
def write_deepemotion(root: Path, per_label: int = 10) -> None:
    """``root/deepemotion/emotion_dataset/<emotion>/``: ``per_label`` images per emotion
    (PNG and JPEG, sizes vary), inside one wrapper folder as in the published archive."""
    base = root / "deepemotion" / "emotion_dataset"
    for li, lab in enumerate(EMOTIONS):
        colour = (40 + 25 * li, 200 - 20 * li, 90 + 15 * (li % 3))
        for k in range(per_label):
            ext = ".jpg" if k % 2 else ".png"
            write_image(base / lab / f"{lab}_{k:04d}{ext}", colour, (36 + 4 * (k % 3), 48),
                        seed=1000 * li + k)
        (base / lab / "Thumbs.db").write_bytes(b"\0")  # not an image: skipped


def write_mtat(root: Path, n_split: tuple[int, int, int] = (12, 3, 3)) -> list[str]:
    """``root/mtat``: ``annotations_final.csv`` (tab-separated, every field quoted, the
    :data:`MTAT_TAGS` columns; two clips are in no split), Won's split lists
    ``"<row>\\t<mp3_path>"`` and one MP3 per listed clip. Returns the listed mp3 paths."""
    out = root / "mtat"
    out.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(7)
    n = sum(n_split) + 2
    rows, paths = [], []
    for i in range(n):
        tags = (g.random(len(MTAT_TAGS)) < 0.35).astype(int)
        tags[i % len(MTAT_TAGS)] = 1  # every tag used, every clip tagged
        path = f"{'0123456789abcdef'[i % 16]}/artist_{i % 5}-album-{i:02d}-track_{i}-30-59.mp3"
        rows.append([str(2 * i + 1), *map(str, tags), path])
        paths.append(path)
    lines = ["\t".join(f'"{c}"' for c in ("clip_id", *MTAT_TAGS, "mp3_path"))]
    lines += ["\t".join(f'"{v}"' for v in r) for r in rows]
    (out / "annotations_final.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = 0
    for fname, k in zip(("train.npy", "valid.npy", "test.npy"), n_split):
        np.save(out / fname, np.array([f"{r}\t{paths[r]}" for r in range(start, start + k)]))
        start += k
    listed = paths[:sum(n_split)]
    for i, p in enumerate(listed):
        write_audio(out / p, 5.0 + 0.5 * (i % 3), sr=16000, seed=300 + i)
    return listed


# ------------------------------------------------------------ Con Espressione, mid-level
_CE_PIECES = ("bach", "mozart_k545_excerpt1", "schumann_arabeske_excerpt1")
_CE_PERFORMERS = ("Gould", "Schiff", "MIDI")
_CE_WORDS = ("playful light bouncy", "dark heavy sad", "mechanical flat", "tender shy delicate",
             "angry fast aggressive", "calm warm, gentle", "magical deep", "nervous rushed")


def write_con_espressione(root: Path) -> None:
    """``root/con_espressione``: the answers CSV (3 pieces x 3 performances, 3 answers each
    plus one empty answer) and ``audio_all/`` with the id-prefixed names for the first
    piece and ``<piece>_<performer>`` names for the others."""
    out = root / "con_espressione"
    (out / "audio_all").mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["music_id", "participant_id", "answer", "piece_name", "performer"])
    music_id = 0
    for pi, piece in enumerate(_CE_PIECES):
        for qi, performer in enumerate(_CE_PERFORMERS):
            music_id += 1
            for k in range(3):
                w.writerow([music_id, 10 + k, _CE_WORDS[(pi + qi + k) % len(_CE_WORDS)], piece,
                            performer])
            if music_id == 2:
                w.writerow([music_id, 19, "n/a", piece, performer])  # dropped by the reader
            name = (f"{music_id:02d}_{piece}_{performer.lower()}.wav" if pi == 0 else
                    f"{piece.replace('_', '-').replace('excerpt', '')}_{performer.lower()}"
                    + (".mp3" if qi % 2 else ".wav"))
            g = np.random.default_rng(500 + music_id)
            write_audio(out / "audio_all" / name, 4.0 + 0.5 * qi, sr=22050, seed=500 + music_id,
                        notes=random_notes(4.0, g, rate=2.0 + 2 * qi))
    (out / "con_espressione_game_answers.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_midlevel(root: Path, n_artists: int = 8, per_artist: int = 3) -> None:
    """``root/midlevel``: ``metadata_annotations/annotations.csv`` (song id + 7 ratings),
    ``metadata.csv`` (``;``-separated, one artist per ``per_artist`` clips) and
    ``audio/<song id>.mp3``."""
    out = root / "midlevel"
    ann = out / "metadata_annotations"
    ann.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(9)
    cols = ["song_id", "melodiousness", "articulation", "rhythm_complexity", "rhythm_stability",
            "dissonance", "tonal_stability", "minorness"]
    ids = list(range(1, n_artists * per_artist + 1))
    lines = [",".join(cols)] + [",".join([str(i), *(f"{v:.4f}" for v in g.uniform(1, 9, 7))])
                                for i in ids]
    (ann / "annotations.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = ["song id;file name;Artist;Album name;Track name;Genre;Source"]
    meta += [f"{i};{i}.mp3;Artist {(i - 1) // per_artist};Album;Track {i};classical;x"
             for i in ids]
    (ann / "metadata.csv").write_text("\n".join(meta) + "\n", encoding="utf-8")
    for i in ids:
        write_audio(out / "audio" / f"{i}.mp3", 3.0 + 0.5 * (i % 3), sr=22050, seed=700 + i)


# ---------------------------------------------------------------------- EMOPIA, MAESTRO
def _emopia_rows(shared: Path, per_split: dict[str, int]) -> tuple[dict[str, list[str]], str]:
    src = shared / "emopia"
    out: dict[str, list[str]] = {}
    if all((src / f"{s}.csv").is_file() for s in per_split):
        for split, n in per_split.items():
            with open(src / f"{split}.csv", encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            out[split] = [r["fname"] for q in ("Q1", "Q2", "Q3", "Q4")
                          for r in [r for r in rows if r["label"] == q][:n]]
        return out, "../shared/data/emopia (rows of the official split files)"
    g = np.random.default_rng(13)
    for split, n in per_split.items():
        out[split] = []
        for q in range(1, 5):
            for k in range(n):
                song = "".join(g.choice(list(_YTID_CHARS), 11))
                out[split].append(f"Q{q}_{song}_{k}")
    return out, "written here"


def write_emopia(root: Path, shared: Path = SHARED,
                 per_split: dict[str, int] | None = None) -> str:
    """``root/EMOPIA``: the official clip split files ``fname,label`` (``per_split`` clips
    per quadrant) and ``audios/<fname>.{wav,mp3}``; the first training clip has no audio
    (the reader drops it). Returns where the split rows came from."""
    per_split = per_split or {"train": 4, "val": 2, "test": 2}
    out = root / "EMOPIA"
    (out / "audios").mkdir(parents=True, exist_ok=True)
    names, source = _emopia_rows(shared, per_split)
    k = 0
    for split, fnames in names.items():
        lines = ["fname,label"] + [f"{f},{f[:2]}" for f in fnames]
        (out / f"{split}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for i, f in enumerate(fnames):
            k += 1
            if split == "train" and i == 0:
                continue  # a clip the user could not fetch
            q = int(f[1])
            g = np.random.default_rng(900 + k)
            secs = 2.5 if k == 5 else 4.0 + 0.5 * (k % 3)  # one clip shorter than 3-s crops
            write_audio(out / "audios" / (f + (".mp3" if k % 3 == 0 else ".wav")), secs,
                        sr=(22050, 44100)[k % 2], seed=900 + k, channels=1 + k % 2,
                        notes=random_notes(secs, g, low=48 + 6 * (q in (1, 4)),
                                           rate=1.5 + 2 * (q in (1, 2))))
    return source


def write_maestro(root: Path, splits: tuple[str, ...] = ("train",) * 4 + ("validation", "test")
                  ) -> None:
    """``root/maestro-v3.0.0``: ``maestro-v3.0.0.csv`` and the WAV/MIDI pairs it lists
    (synthetic piano notes rendered to audio; lengths differ)."""
    from emolib.encoders.symbolic import Note, notes_to_midi

    out = root / "maestro-v3.0.0"
    (out / "2018").mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["canonical_composer", "canonical_title", "split", "year", "midi_filename",
                "audio_filename", "duration"])
    for i, split in enumerate(splits):
        secs = 6.0 + i % 3
        notes = random_notes(secs, np.random.default_rng(1200 + i), rate=2.5)
        stem = f"2018/MIDI-Unprocessed_Recital{i}_ORIG_MID--AUDIO_{i:02d}_R1_2018_wav--1"
        notes_to_midi([Note(*n) for n in notes]).write(str(out / f"{stem}.midi"))
        write_audio(out / f"{stem}.wav", secs, sr=44100, seed=1200 + i, notes=notes, channels=2)
        w.writerow(["Composer", f"Piece {i}, Op. {i + 1}", split, 2018, f"{stem}.midi",
                    f"{stem}.wav", secs])
    (out / "maestro-v3.0.0.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_data_root(root: Path, shared: Path = SHARED) -> dict[str, str]:
    """Write every dataset of ``emolib.params.LAYOUTS`` under ``root``; returns, per dataset,
    where its metadata came from (the real files in ``shared`` or written here)."""
    root.mkdir(parents=True, exist_ok=True)
    sources = {"audioset": write_audioset(root, shared=shared)}
    write_alm(root)
    sources["isear"] = write_isear(root, shared=shared)
    write_deepemotion(root)
    write_mtat(root)
    write_con_espressione(root)
    write_midlevel(root)
    sources["emopia"] = write_emopia(root, shared=shared)
    write_maestro(root)
    return sources


# -------------------------------------------------------------------------------- models
def write_tagger_checkpoint(path: Path, arch: str, width: int, n_classes: int | None,
                            seed: int = 0) -> Path:
    """A random-weight ``state_dict`` of ``emolib.encoders.audio.build_tagger(arch, width)``
    with a head of ``n_classes`` outputs (None: no head)."""
    import torch

    from emolib.encoders.audio import build_tagger

    torch.manual_seed(seed)
    torch.save(build_tagger(arch, width, n_classes).state_dict(), path)
    return path


def write_tiny_clip(path: Path) -> Path:
    """A tiny random ``CLIPModel`` (text + vision towers, as the openai folders hold) and its
    image processor, saved with ``save_pretrained``."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(0)
    text = dict(vocab_size=64, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                num_attention_heads=2, max_position_embeddings=16, bos_token_id=0,
                eos_token_id=1, pad_token_id=1, projection_dim=8)
    # as in the openai config.json files, each tower's config carries projection_dim too
    vision = dict(hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                  num_attention_heads=2, image_size=32, patch_size=8, projection_dim=8)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=8)
              ).save_pretrained(path)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
                       ).save_pretrained(path)
    return path


def write_tiny_clap(path: Path) -> Path:
    """A tiny random ``ClapModel`` and its feature extractor (1-s input), saved with
    ``save_pretrained``. ``hidden_size`` must equal ``patch_embeds_hidden_size *
    2 ** (len(depths) - 1)``."""
    import torch
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
    )

    torch.manual_seed(0)
    audio = ClapAudioConfig(window_size=4, num_mel_bins=16, spec_size=64, patch_size=4,
                            patch_stride=(4, 4), patch_embeds_hidden_size=8, hidden_size=16,
                            depths=[1, 1], num_attention_heads=[2, 2], num_hidden_layers=2,
                            projection_dim=12, enable_fusion=False)
    text = ClapTextConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=20, projection_dim=12,
                          max_position_embeddings=40)
    ClapModel(ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(),
                         projection_dim=12)).save_pretrained(path)
    ClapFeatureExtractor(feature_size=16, sampling_rate=48000, hop_length=480, max_length_s=1,
                         fft_window_size=1024).save_pretrained(path)
    return path


def write_tiny_text_model(path: Path, words: list[str]) -> Path:
    """A tiny random ``DistilBertModel`` with a word-level vocabulary, and its tokenizer."""
    import torch
    from transformers import DistilBertConfig, DistilBertModel, DistilBertTokenizer

    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(words))]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = DistilBertTokenizer(vocab_file=str(path / "vocab.txt"))
    torch.manual_seed(0)
    DistilBertModel(DistilBertConfig(vocab_size=len(vocab), dim=16, hidden_dim=32, n_layers=1,
                                     n_heads=2, max_position_embeddings=128)).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def write_word_vectors(path: Path, words: list[str], dim: int = 16, seed: int = 0) -> Path:
    """A word2vec text file (``N D`` header, then ``word v1 ... vD``) of random vectors."""
    g = np.random.default_rng(seed)
    words = list(dict.fromkeys(words))
    lines = [f"{len(words)} {dim}"] + [" ".join([w, *(f"{v:.5f}" for v in g.normal(size=dim))])
                                       for w in words]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_models(folder: Path) -> dict[str, object]:
    """Tiny pretrained models with random weights under ``folder``: ``audio_checkpoint``
    (notebook 01: Won's ResNet with a 50-tag head, loaded with a fresh head),
    ``text_model`` (DistilBERT folder), ``word_vectors`` (word2vec text), ``clip_path``,
    ``clap_path`` and ``audio_checkpoints`` (notebook 02: short-chunk CNN and Harmonic CNN
    with one output per tag of :data:`MTAT_TAGS`)."""
    from transformers.utils import logging as hf_logging

    from emolib.data.taxonomies import TAXONOMIES

    hf_logging.disable_progress_bar()  # no "Writing model shards" bars in the test log
    folder.mkdir(parents=True, exist_ok=True)
    labels = [w for t in ("audioset", "alm", "isear") for w in TAXONOMIES[t]]
    words = labels + [w for ws in _ALM_WORDS.values() for w in ws] + [
        "the", "then", "was", "and", "said", "so", "i", "felt", "when", "my", "king", "rabbit"]
    return {
        "audio_checkpoint": str(write_tagger_checkpoint(
            folder / "won2021_resnet_mtat.pt", "won2021_resnet", 4, 50, seed=1)),
        "text_model": str(write_tiny_text_model(folder / "tiny-distilbert", words)),
        "word_vectors": str(write_word_vectors(folder / "music_w2v.txt", labels + ["music"])),
        "clip_path": str(write_tiny_clip(folder / "tiny-clip")),
        "clap_path": str(write_tiny_clap(folder / "tiny-clap")),
        "audio_checkpoints": {
            "short_chunk_cnn": str(write_tagger_checkpoint(
                folder / "short_chunk_cnn_msd.pt", "short_chunk_cnn", 4, len(MTAT_TAGS), 2)),
            "harmonic_cnn": str(write_tagger_checkpoint(
                folder / "harmonic_cnn_msd.pt", "harmonic_cnn", 4, len(MTAT_TAGS), 3))},
    }


# ----------------------------------------------------------------------------- parameters
def notebook_parameters(data_root: Path, models: dict[str, object]) -> dict[str, dict]:
    """Papermill parameters per notebook: the miniature data and models, ``profile="quick"``,
    one seed and the smallest epochs and sizes each parameters cell accepts."""
    common = {"data_root": str(data_root), "profile": "quick", "seed": 0, "seeds": [0]}
    return {
        "01_won2021": {**common, **{k: models[k] for k in (
            "audio_checkpoint", "text_model", "word_vectors")},
            "n_chunks": 1, "emb_dim": 8, "epochs": 1},
        "02_emoclim2024": {**common, **{k: models[k] for k in (
            "clip_path", "clap_path", "audio_checkpoints")},
            "emb_dim": 8, "epochs": 1, "batches_per_epoch": 1, "batch_size": 8, "n_views": 1,
            "unfrozen_epochs": 1, "unfrozen_batches": 1, "unfrozen_batch_size": 4,
            "tag_epochs": 1, "clip_seconds": 5.0},
        "03_chowdhury2023": {**common, "mtr_baseline": False, "midlevel_epochs": 1,
                             "pca_components": 2},
        "04_zhu2023": {**common, "epochs": 1, "batch_size": 8, "acoustic_widths": [2, 4],
                       "n_frames": None, "d_model": 8, "n_heads": 2, "max_tokens": 32,
                       "transcriber_clips": 4, "transcriber_epochs": 1, "transcriber_crops": 1,
                       "pretrain_epochs": 1, "pretrain_clips": 4, "resnet_width": 2,
                       "lstm_sizes": [4, 4, 4, 2]},
    }
