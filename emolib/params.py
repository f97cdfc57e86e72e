"""Parameter validation: every notebook refuses bad parameters before it does any work.

Each numbered notebook calls :func:`check_notebook` at the top of its first code cell
after the papermill ``parameters`` cell, right after its imports, so a bad value fails in
a second with a message that names the parameter, the value given and what was expected
— not minutes later, half-way through, with tables and figures already written.
``scripts/reproduce.py`` runs the same checks before it starts a kernel.

* Small validators, each raising ``ValueError`` (``FileNotFoundError`` for paths that do
  not exist): :func:`check_seed`, :func:`check_seeds`, :func:`check_profile`,
  :func:`check_device`, :func:`check_threads`, :func:`check_choice`,
  :func:`check_positive`, :func:`check_sizes`, :func:`check_weights`,
  :func:`check_bool`, :func:`check_text`, :func:`check_optional_path`,
  :func:`check_checkpoints` and :func:`check_data_root`; :func:`check_common` runs the
  ones every notebook shares.
* :data:`LAYOUTS`: what each notebook reads under ``data_root`` (see the readers in
  ``emolib.data``), one entry per required path with a short description.
* :data:`NOTEBOOK_CHECKS`: one function per notebook that checks *every* parameter of its
  parameters cell (:func:`check_notebook` is the entry point).
* :func:`notebook_defaults`: the names and default values of a notebook's parameters cell,
  read from its py:percent source (``scripts/reproduce.py``, ``emolib.provenance``).

Notebooks: 00_tour, 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023;
``scripts/reproduce.py``.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util
import math
import numbers
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emolib.paths import repo_root

__all__ = ["PROFILES", "LAYOUTS", "NOTEBOOK_CHECKS", "TRANSCRIPTION_BACKENDS",
           "available_devices", "check_seed", "check_seeds", "check_profile", "check_device",
           "check_threads", "check_choice", "check_positive", "check_sizes", "check_weights",
           "check_bool", "check_text", "check_optional_path", "check_checkpoints",
           "check_data_root", "check_common", "check_notebook", "NotLiteral",
           "notebook_defaults"]

#: The size profiles every notebook knows (world size and model budgets).
PROFILES: tuple[str, ...] = ("quick", "default", "paper")
#: Names ``emolib.encoders.transcription.get_backend`` builds (notebook 04); the same as
#: ``transcription.BACKENDS`` (tests/test_transcription.py holds the two in step).
TRANSCRIPTION_BACKENDS: tuple[str, ...] = ("onsets_frames", "madmom", "transkun", "basic_pitch")
#: Largest seed accepted (fits a signed 64-bit integer, as torch.manual_seed needs).
MAX_SEED = 2**63 - 1

_AUDIOSET_SEGMENTS = ("audioset/balanced_train_segments.csv | "
                      "audioset/unbalanced_train_segments.csv | audioset/eval_segments.csv")
_AUDIOSET_AUDIO = "audioset/audio/"
_DEEPEMOTION = ("amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear",
                "sadness")

#: What each notebook reads under ``data_root`` (relative path -> description), taken from
#: the readers in ``emolib.data`` and the notebooks' data-loading cells. Entry syntax
#: (:func:`check_data_root`): a trailing ``/`` is a folder, anything else a file; ``*``
#: matches as in :mod:`glob` (at least one match); ``a | b`` means either; ``a + b`` both.
#: None of the entries depends on other parameters: every real-data run reads them all.
LAYOUTS: dict[str, dict[str, str]] = {
    # the tour always shows the embedded world; a data_root given to it must be a folder
    "00_tour": {},
    "01_won2021": {
        _AUDIOSET_SEGMENTS: "AudioSet segment lists (at least one; class_labels_indices.csv "
                            "beside them is optional)",
        _AUDIOSET_AUDIO: "AudioSet mood clips you fetched, named by YTID (<YTID>.wav, "
                         "Y<YTID>.wav, <YTID>_<start>.wav, ...)",
        "alm/Grimms/agree-sent/*.agree | alm/HCAndersen/agree-sent/*.agree":
            "Alm's high-agreement sentences of the training authors",
        "alm/Potter/agree-sent/*.agree": "Alm's high-agreement sentences of the held-out "
                                         "author (validation and test)",
        "isear/isear.csv": "ISEAR, pipe-separated (py_isear_dataset copy)",
    },
    "02_emoclim2024": {
        **{f"deepemotion/{e}/ | deepemotion/*/{e}/": f"DeepEmotion images of {e!r}"
           for e in _DEEPEMOTION},
        _AUDIOSET_SEGMENTS: "AudioSet segment lists (at least one; class_labels_indices.csv "
                            "beside them is optional)",
        _AUDIOSET_AUDIO: "AudioSet mood clips you fetched, named by YTID",
        "mtat/train.npy": "MagnaTagATune training list (Won et al.'s split)",
        "mtat/valid.npy": "MagnaTagATune validation list (Won et al.'s split)",
        "mtat/test.npy": "MagnaTagATune test list (Won et al.'s split)",
        "mtat/annotations_final.csv | mtat/tags.npy + mtat/binary.npy":
            "MagnaTagATune tags (the 188-tag annotations, or Won's top-50 tags.npy + "
            "binary.npy); the audio under mtat/<d>/<name>.mp3",
    },
    "03_chowdhury2023": {
        "con_espressione/con_espressione_game_answers.csv": "Con Espressione Game answers",
        "con_espressione/audio_all/ | con_espressione/audio/": "the performances' recordings",
        "midlevel/metadata_annotations/annotations.csv": "mid-level ratings (7 per clip; "
                                                         "metadata.csv beside it is optional)",
        "midlevel/audio/": "mid-level dataset clips, <song id>.mp3",
    },
    "04_zhu2023": {
        "EMOPIA/train.csv": "EMOPIA official clip split (fname,label)",
        "EMOPIA/val.csv": "EMOPIA official clip split (fname,label)",
        "EMOPIA/test.csv": "EMOPIA official clip split (fname,label)",
        "EMOPIA/audios/": "EMOPIA clip audio <fname>.{wav,mp3,flac,ogg} (clips without "
                          "audio are dropped)",
        "maestro-v3.0.0/maestro-v*.csv": "MAESTRO metadata CSV (and the audio and MIDI "
                                         "files it lists)",
    },
}

_UNSET: Any = object()


def _show(value: object, limit: int = 120) -> str:
    """``repr(value)``, shortened to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _hint(value: object, choices: Sequence[object]) -> str:
    """`` (did you mean 'x'?)`` for a string close to one of ``choices``, else ''."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=2)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_seed(name: str, value: object) -> int:
    """A seed: a non-negative int (not a bool), at most :data:`MAX_SEED`.

    Notebooks: all (``seed``), via :func:`check_common`.
    """
    if not _is_int(value):
        raise ValueError(f"{name}={_show(value)}: expected a non-negative int")
    if not 0 <= int(value) <= MAX_SEED:
        raise ValueError(f"{name}={_show(value)}: expected a non-negative int at most 2**63 - 1")
    return int(value)


def check_seeds(value: object, name: str = "seeds") -> list[int]:
    """Training seeds: a non-empty list or tuple of distinct non-negative ints.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    expected = "expected a non-empty list of distinct non-negative ints, e.g. [0, 1, 2]"
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{name}={_show(value)}: {expected}")
    for i, s in enumerate(value):
        if not _is_int(s) or not 0 <= int(s) <= MAX_SEED:
            raise ValueError(f"{name}={_show(value)}: item {i} ({_show(s)}) is not a "
                             f"non-negative int; {expected}")
    dup = sorted({int(s) for s in value if list(value).count(s) > 1})
    if dup:
        raise ValueError(f"{name}={_show(value)}: seed(s) {dup} repeated; {expected}")
    return [int(s) for s in value]


def check_profile(value: object, known: Sequence[str] = PROFILES, name: str = "profile") -> str:
    """A size profile, one of ``known`` (:data:`PROFILES`).

    Notebooks: all, via :func:`check_common`; ``scripts/reproduce.py`` (``--profile``).
    """
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"{name}={_show(value)}: expected one of "
                         f"{', '.join(map(repr, known))}{_hint(value, known)}")
    return value


def available_devices() -> list[str]:
    """The torch devices this machine can run on: 'cpu', then 'cuda:N' and 'mps' if present.

    Imports torch only when called. Notebooks: all, through :func:`check_device`.
    """
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


_DEVICE_RE = re.compile(r"^(cpu|cuda|mps)(?::(\d+))?$")


def check_device(value: object, name: str = "device") -> str:
    """A torch device string that exists here: 'cpu' always; 'cuda' / 'cuda:N' only when
    ``torch.cuda.is_available()`` and N < ``torch.cuda.device_count()``; 'mps' only when
    available. The message lists the devices that are available.

    Notebooks: all, via :func:`check_common` (00_tour trains nothing, but checks it too).
    """
    if not isinstance(value, str):
        raise ValueError(f"{name}={_show(value)}: expected a device name such as 'cpu' or "
                         "'cuda'")
    m = _DEVICE_RE.match(value)
    if m is not None and m.group(1) == "cpu":
        return value  # no need to import torch
    devices = available_devices()
    if m is None:
        raise ValueError(f"{name}={_show(value)}: expected a torch device 'cpu', 'cuda', "
                         f"'cuda:N' or 'mps'; available here: {', '.join(map(repr, devices))}")
    kind, index = m.group(1), int(m.group(2) or 0)
    if (kind == "cuda" and f"cuda:{index}" in devices) or (
            kind == "mps" and index == 0 and "mps" in devices):
        return value
    import torch

    if kind == "cuda":
        why = (f" (this torch {torch.__version__} is a CPU build)" if torch.version.cuda is None
               else f" ({torch.cuda.device_count()} CUDA device(s) visible)")
    else:
        why = " (MPS is not available here)" if "mps" not in devices else " (only 'mps:0')"
    raise ValueError(f"{name}={_show(value)} is not available{why}; available devices: "
                     f"{', '.join(map(repr, devices))}")


def check_threads(value: object, name: str = "threads") -> int:
    """The torch thread count: a positive int (not a bool).

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    if not _is_int(value) or int(value) < 1:
        raise ValueError(f"{name}={_show(value)}: expected a positive int (torch threads)")
    return int(value)


def check_choice(name: str, value: object, choices: Collection[object]) -> Any:
    """``value`` is one of ``choices`` (any collection; a mapping means its keys).

    Notebooks: 01_won2021 (``audio_arch``, ``positives``), 02_emoclim2024
    (``short_chunk_arch``), 03_chowdhury2023 (``train_unit``, ``query_unit``),
    04_zhu2023 (``transcription_backend``).
    """
    options = list(choices)
    if not any(isinstance(value, type(c)) and value == c for c in options):
        raise ValueError(f"{name}={_show(value)}: expected one of "
                         f"{', '.join(map(repr, options))}{_hint(value, options)}")
    return value


def check_positive(name: str, value: object, *, integer: bool = False,
                   allow_none: bool = False, allow_zero: bool = False) -> Any:
    """A positive number (``integer``: an int; never a bool, NaN or infinity); ``None``
    passes with ``allow_none`` (the notebook then picks a value by profile), zero with
    ``allow_zero``.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (epochs, sizes,
    learning rates, ...).
    """
    if value is None and allow_none:
        return None
    kind = "int" if integer else "number"
    expected = (f"expected a {'non-negative' if allow_zero else 'positive'} {kind}"
                + (" or None" if allow_none else ""))
    ok = _is_int(value) if integer else _is_real(value) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name}={_show(value)}: {expected}")
    return value


def check_sizes(name: str, value: object, *, length: int | None = None, integer: bool = True,
                allow_none: bool = False) -> Any:
    """A non-empty list or tuple of positive ints (``integer=False``: numbers), of exactly
    ``length`` items if given; ``None`` passes with ``allow_none``.

    Notebooks: 02_emoclim2024 (``pretrain_epochs``), 03_chowdhury2023
    (``midlevel_widths``), 04_zhu2023 (``acoustic_widths``, ``lstm_sizes``).
    """
    if value is None and allow_none:
        return None
    what = "ints" if integer else "numbers"
    expected = (f"expected a list of {length if length else 'one or more'} positive {what}"
                + (" or None" if allow_none else ""))
    if not isinstance(value, (list, tuple)) or not value or (length and len(value) != length):
        raise ValueError(f"{name}={_show(value)}: {expected}")
    for i, v in enumerate(value):
        if not (_is_int(v) if integer else _is_real(v) and math.isfinite(v)) or v <= 0:
            raise ValueError(f"{name}={_show(value)}: item {i} ({_show(v)}) is not a positive "
                             f"{what[:-1]}; {expected}")
    return value


def check_weights(name: str, value: object, length: int) -> Any:
    """Loss weights: a list or tuple of ``length`` non-negative numbers, not all zero.

    Notebooks: 01_won2021 (``branch_weights``), 02_emoclim2024 (``lambdas``).
    """
    expected = f"expected {length} non-negative numbers, not all zero"
    if (not isinstance(value, (list, tuple)) or len(value) != length
            or not all(_is_real(v) and math.isfinite(v) and v >= 0 for v in value)
            or not any(v > 0 for v in value)):
        raise ValueError(f"{name}={_show(value)}: {expected}")
    return value


def check_bool(name: str, value: object, *, allow_none: bool = False) -> bool | None:
    """``True`` or ``False`` (``None`` too with ``allow_none``: "by profile").

    Notebooks: 01_won2021, 03_chowdhury2023, 04_zhu2023.
    """
    if isinstance(value, bool) or (value is None and allow_none):
        return value
    raise ValueError(f"{name}={_show(value)}: expected True or False"
                     + (" or None" if allow_none else ""))


def check_text(name: str, value: object, *, allow_none: bool = False) -> str | None:
    """A non-empty string (``None`` too with ``allow_none``).

    Notebooks: 03_chowdhury2023 (``query``, ``figure_piece``), 04_zhu2023 (``figure_clip``).
    """
    if (value is None and allow_none) or (isinstance(value, str) and value.strip()):
        return value
    raise ValueError(f"{name}={_show(value)}: expected a non-empty string"
                     + (" or None" if allow_none else ""))


def _as_path(name: str, value: object) -> Path:
    if isinstance(value, str) and value.strip():
        return Path(value)
    if isinstance(value, os.PathLike):
        return Path(value)
    raise ValueError(f"{name}={_show(value)}: expected a non-empty path (str) or None")


def check_optional_path(name: str, value: object, kind: str = "file") -> Path | None:
    """``None``, or the path of an existing file (``kind="file"``) or folder (``"dir"``).

    A wrong type or an empty string is a ``ValueError``; a path that is not there (or is
    not of that kind) a ``FileNotFoundError``. Notebooks: 01_won2021 (``audio_checkpoint``,
    ``text_model``, ``word_vectors``), 02_emoclim2024 (``clip_path``, ``clap_path``,
    ``audio_checkpoints``), 03_chowdhury2023 (``midlevel_checkpoint``).
    """
    if kind not in ("file", "dir"):
        raise ValueError(f"kind must be 'file' or 'dir', got {kind!r}")
    if value is None:
        return None
    path = _as_path(name, value)
    what = "file" if kind == "file" else "folder"
    if not path.exists():
        raise FileNotFoundError(f"{name}={_show(value)}: no such {what} ({path.resolve()})")
    if (kind == "file") != path.is_file():
        raise FileNotFoundError(f"{name}={_show(value)}: expected a {what}, found a "
                                f"{'folder' if path.is_dir() else 'special file'}")
    return path


def check_checkpoints(name: str, value: object, keys: Collection[str],
                      required: Collection[str] = ()) -> Mapping[str, Any] | None:
    """``None`` or a mapping from names in ``keys`` to existing files; ``required`` names
    must be present (then ``None`` is refused too).

    Notebooks: 02_emoclim2024 (``audio_checkpoints``: architecture -> state_dict file).
    """
    expected = (f"expected a dict {{name: checkpoint file}} with names from "
                f"{', '.join(map(repr, keys))}")
    if value is None and not required:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}={_show(value)}: {expected}")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ValueError(f"{name}={_show(value)}: unknown name(s) {unknown}; {expected}"
                         f"{_hint(unknown[0], list(keys))}")
    missing = [k for k in required if k not in value]
    if missing:
        raise ValueError(f"{name}={_show(value)}: no checkpoint for {missing}; {expected}")
    for k, path in value.items():
        check_optional_path(f"{name}[{k!r}]", path, kind="file")
    return value


def _exists(root: Path, pattern: str) -> bool:
    """One layout entry part: a file, or a folder if it ends in '/'; '*' globs."""
    want_dir = pattern.endswith("/")
    rel = pattern.rstrip("/")
    hits = list(root.glob(rel)) if any(c in rel for c in "*?[") else [root / rel]
    return any(p.is_dir() if want_dir else p.is_file() for p in hits)


def _entry_present(root: Path, entry: str) -> bool:
    """A layout entry: alternatives ``a | b`` (any), each all of its ``x + y`` parts."""
    return any(all(_exists(root, part.strip()) for part in alt.split(" + "))
               for alt in entry.split(" | "))


def check_data_root(data_root: object, layout: Mapping[str, str] | Sequence[str],
                    notebook: str) -> Path | None:
    """``None`` (the emotion world), or a folder holding every entry of ``layout``.

    ``layout`` maps relative paths to descriptions (:data:`LAYOUTS`), or is a plain list of
    relative paths. A trailing ``/`` marks a folder, anything else a file; ``*`` globs
    (at least one match); ``a | b``: either will do; ``a + b``: both. When entries are
    missing, one ``FileNotFoundError`` lists *all* of them and the whole expected layout.

    Notebooks: all, via :func:`check_common`.
    """
    if data_root is None:
        return None
    root = _as_path("data_root", data_root)
    if not root.is_dir():
        raise FileNotFoundError(f"data_root={_show(data_root)}: no such folder "
                                f"({root.resolve()}); {notebook} expects a folder holding "
                                "the datasets in their published layouts (see README), or "
                                "None for the emotion world")
    entries = dict(layout) if isinstance(layout, Mapping) else dict.fromkeys(layout, "")
    missing = [e for e in entries if not _entry_present(root, e)]
    if missing:
        def line(e: str) -> str:
            mark = "MISSING" if e in missing else "found  "
            return f"  {mark} {e}" + (f"  -- {entries[e]}" if entries[e] else "")

        raise FileNotFoundError(
            f"data_root={_show(data_root)} lacks {len(missing)} of the {len(entries)} entries "
            f"{notebook} reads: {'; '.join(missing)}\n"
            f"expected layout under {root} ('a | b': either will do, 'a + b': both, a trailing "
            "'/' marks a folder, '*' any name):\n" + "\n".join(line(e) for e in entries))
    return root


def check_common(*, seed: object = _UNSET, seeds: object = _UNSET, profile: object = _UNSET,
                 device: object = _UNSET, threads: object = _UNSET, data_root: object = _UNSET,
                 layout: str | Mapping[str, str] | Sequence[str] | None = None,
                 notebook: str | None = None) -> None:
    """Check the parameters every notebook shares; those not passed are skipped.

    ``layout`` is a :data:`LAYOUTS` key (that notebook's layout, and its name in messages)
    or a layout itself; without one, a ``data_root`` only has to be a folder.
    Notebooks: all, through :func:`check_notebook`; ``scripts/reproduce.py``.
    """
    if seed is not _UNSET:
        check_seed("seed", seed)
    if seeds is not _UNSET:
        check_seeds(seeds)
    if profile is not _UNSET:
        check_profile(profile)
    if device is not _UNSET:
        check_device(device)
    if threads is not _UNSET:
        check_threads(threads)
    if data_root is not _UNSET:
        if isinstance(layout, str):
            notebook, layout = notebook or layout, LAYOUTS[layout]
        check_data_root(data_root, layout or {}, notebook or "this notebook")


def _common(p: Mapping[str, Any], notebook: str, seeds: bool = True,
            threads: bool = True) -> None:
    extra = {"seeds": p["seeds"]} if seeds else {}
    if threads:
        extra["threads"] = p["threads"]
    check_common(seed=p["seed"], profile=p["profile"], device=p["device"],
                 data_root=p["data_root"], layout=notebook, **extra)


def _positives(p: Mapping[str, Any], names: str, **kwargs: bool) -> None:
    for name in names.split():
        check_positive(name, p[name], **kwargs)


def _required_with_data_root(p: Mapping[str, Any], name: str, why: str) -> None:
    if p["data_root"] is not None and not p[name]:
        raise ValueError(f"{name}={_show(p[name])} with data_root={_show(p['data_root'])}: "
                         f"real-data runs need {name} ({why})")


def _check_tour(p: Mapping[str, Any]) -> None:
    """00_tour: seed, profile, device, audit_per_class (clips per class the world audit's
    pretrained models hear); data_root is unused (a folder if given)."""
    _common(p, "00_tour", seeds=False, threads=False)
    _positives(p, "audit_per_class", integer=True)


def _check_won2021(p: Mapping[str, Any]) -> None:
    """01_won2021: the common parameters, encoders and checkpoints, sizes and weights."""
    from emolib.encoders.audio import ARCHS
    from emolib.encoders.musicnn import MODELS as MUSICNN_MODELS

    _common(p, "01_won2021")
    check_choice("audio_arch", p["audio_arch"], (*MUSICNN_MODELS, *ARCHS))
    check_choice("compare_audio_arch", p["compare_audio_arch"], (None, *ARCHS))
    if p["audio_arch"] in MUSICNN_MODELS and p["finetune_audio"]:
        raise ValueError(f"finetune_audio={_show(p['finetune_audio'])} with audio_arch="
                         f"{_show(p['audio_arch'])}: musicnn is used frozen (its TensorFlow "
                         "weights are read for inference only); fine-tune a CNN audio_arch")
    check_choice("positives", p["positives"], ("paper_w2v", "ours_w2v"))
    check_choice("negative_sampling", p["negative_sampling"], ("official", "distance_weighted"))
    check_choice("w2v_output", p["w2v_output"], ("linear", "sigmoid"))
    check_optional_path("audio_checkpoint", p["audio_checkpoint"], kind="file")
    if p["audio_arch"] in ARCHS or p["compare_audio_arch"] is not None:
        cnn = p["audio_arch"] if p["audio_arch"] in ARCHS else p["compare_audio_arch"]
        _required_with_data_root(p, "audio_checkpoint", f"a state_dict of the audio CNN {cnn!r}"
                                 ", e.g. pre-trained on MagnaTagATune; none can be downloaded "
                                 "here; or compare_audio_arch=None with a musicnn audio_arch")
    check_optional_path("text_model", p["text_model"], kind="dir")
    check_optional_path("word_vectors", p["word_vectors"], kind="file")
    _positives(p, "n_chunks epochs tagger_epochs", integer=True, allow_none=True)
    _positives(p, "emb_dim batch_size", integer=True)
    _positives(p, "lr", allow_none=True)
    _positives(p, "margin")
    check_weights("branch_weights", p["branch_weights"], 3)
    for name in ("finetune_audio", "finetune_text"):
        check_bool(name, p[name], allow_none=True)
    check_bool("alm_anger_as_in_paper", p["alm_anger_as_in_paper"])
    ws = p["world_seeds"]
    if ws is not None:
        if (not isinstance(ws, (list, tuple)) or not ws or len(set(ws)) != len(ws)
                or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 0
                           for w in ws)):
            raise ValueError(f"world_seeds={_show(ws)}: expected None or a list of distinct "
                             "non-negative integers, e.g. [0, 1, 2]")
        if p["data_root"] is not None:
            raise ValueError(f"world_seeds={_show(ws)} with data_root={_show(p['data_root'])}: "
                             "world draws exist only for the emotion world")
        paper = p["profile"] == "paper"  # where None means fine-tuned (a CNN, the text)
        if (p["finetune_text"] or (paper and p["finetune_text"] is None) or p["finetune_audio"]
                or (paper and p["finetune_audio"] is None and p["audio_arch"] in ARCHS)):
            raise ValueError(f"world_seeds={_show(ws)}: pooling world draws runs on frozen "
                             "features; set finetune_audio=False and finetune_text=False")


def _check_emoclim2024(p: Mapping[str, Any]) -> None:
    """02_emoclim2024: the common parameters, encoders and checkpoints, schedule sizes."""
    _common(p, "02_emoclim2024")
    arch = check_choice("short_chunk_arch", p["short_chunk_arch"],
                        ("short_chunk_cnn", "short_chunk_resnet"))
    check_optional_path("clip_path", p["clip_path"], kind="dir")
    check_optional_path("clap_path", p["clap_path"], kind="dir")
    for name, why in (("clip_path", "a local CLIP folder"), ("clap_path", "a local CLAP folder"),
                      ("audio_checkpoints", "MSD-pretrained short-chunk / Harmonic CNN "
                                            "state_dicts; the offline stand-ins are trained "
                                            "on the emotion world")):
        _required_with_data_root(p, name, why)
    check_checkpoints("audio_checkpoints", p["audio_checkpoints"],
                      ("short_chunk_cnn", "short_chunk_resnet", "harmonic_cnn"),
                      required=(arch, "harmonic_cnn") if p["data_root"] is not None else ())
    _positives(p, "temperature clip_seconds")
    check_weights("lambdas", p["lambdas"], 4)
    _positives(p, "emb_dim batch_size", integer=True)
    _positives(p, "epochs batches_per_epoch n_views unfrozen_epochs unfrozen_batches "
                  "unfrozen_batch_size tag_epochs", integer=True, allow_none=True)
    _positives(p, "lr", allow_none=True)
    check_positive("weight_decay", p["weight_decay"], allow_zero=True)
    check_sizes("pretrain_epochs", p["pretrain_epochs"], length=3, allow_none=True)


def _check_chowdhury2023(p: Mapping[str, Any]) -> None:
    """03_chowdhury2023: the common parameters, mid-level model, text space, units."""
    _common(p, "03_chowdhury2023")
    check_optional_path("midlevel_checkpoint", p["midlevel_checkpoint"], kind="file")
    check_sizes("midlevel_widths", p["midlevel_widths"], length=3, allow_none=True)
    _positives(p, "midlevel_epochs", integer=True, allow_none=True)
    _positives(p, "midlevel_crop_s", allow_none=True)
    check_bool("mtr_baseline", p["mtr_baseline"])
    _positives(p, "ewe_strength")
    _positives(p, "pca_components", integer=True)
    _positives(p, "n_aug", integer=True, allow_zero=True)
    check_choice("train_unit", p["train_unit"], ("performance", "description"))
    check_choice("query_unit", p["query_unit"], ("description", "performance"))
    check_text("figure_piece", p["figure_piece"], allow_none=True)
    check_text("query", p["query"])


def _check_zhu2023(p: Mapping[str, Any]) -> None:
    """04_zhu2023: the common parameters, transcription backend, model sizes, budgets."""
    _common(p, "04_zhu2023")
    backend = check_choice("transcription_backend", p["transcription_backend"],
                           TRANSCRIPTION_BACKENDS)
    if backend == "basic_pitch" and importlib.util.find_spec("basic_pitch") is None:
        raise ValueError("transcription_backend='basic_pitch' is not available: basic-pitch "
                         "is not installed (pip install --no-deps basic-pitch onnxruntime "
                         "'resampy<0.4.3'); available: 'onsets_frames'")
    _positives(p, "lr")
    _positives(p, "batch_size epochs d_model n_heads max_tokens transcriber_epochs "
                  "transcriber_crops pretrain_epochs resnet_width", integer=True)
    _positives(p, "n_frames transcriber_clips pretrain_clips", integer=True, allow_none=True)
    check_sizes("acoustic_widths", p["acoustic_widths"])
    check_sizes("lstm_sizes", p["lstm_sizes"], length=4)
    check_bool("finetune_symbolic", p["finetune_symbolic"])
    check_text("figure_clip", p["figure_clip"], allow_none=True)
    if p["profile"] != "paper":  # the paper profile sets d_model=128, n_frames=None itself
        if p["d_model"] % p["n_heads"]:
            raise ValueError(f"d_model={p['d_model']!r} with n_heads={p['n_heads']!r}: "
                             "expected d_model divisible by n_heads (cross-domain attention)")
        min_frames = 2 ** len(p["acoustic_widths"])
        if p["n_frames"] is not None and p["n_frames"] < min_frames:
            raise ValueError(f"n_frames={p['n_frames']!r} with acoustic_widths="
                             f"{p['acoustic_widths']!r}: expected n_frames >= {min_frames} "
                             "(one 2x2 pooling per width) or None")
    elif 128 % p["n_heads"]:
        raise ValueError(f"n_heads={p['n_heads']!r} with profile='paper' (d_model=128): "
                         "expected a divisor of 128")


#: The check of each numbered notebook: ``params`` -> None, raising on the first bad value.
NOTEBOOK_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "00_tour": _check_tour,
    "01_won2021": _check_won2021,
    "02_emoclim2024": _check_emoclim2024,
    "03_chowdhury2023": _check_chowdhury2023,
    "04_zhu2023": _check_zhu2023,
}


class _Params(Mapping[str, Any]):
    """Read-only view of a notebook namespace; a missing name is a clear KeyError."""

    def __init__(self, notebook: str, values: Mapping[str, Any]) -> None:
        self.notebook, self.values = notebook, values

    def __getitem__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{self.notebook} defines no parameter {name!r}; "
                           "emolib.params and its parameters cell disagree") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def check_notebook(notebook: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check every parameter of a notebook's parameters cell before it does any work.

    ``params`` holds the parameter values: in the notebook its ``globals()``, in
    ``scripts/reproduce.py`` the defaults of the parameters cell updated with the
    overrides. Raises ``ValueError`` (or ``FileNotFoundError`` for missing files and
    ``data_root`` entries) naming the parameter, the value and what was expected.
    Returns a shallow copy of ``params`` as given, before the notebook resolves its
    ``None`` defaults: what :func:`emolib.provenance.start_run` records.

    Notebooks: 00_tour, 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    if notebook not in NOTEBOOK_CHECKS:
        known = list(NOTEBOOK_CHECKS)
        raise ValueError(f"notebook={notebook!r}: expected one of "
                         f"{', '.join(map(repr, known))}{_hint(notebook, known)}")
    NOTEBOOK_CHECKS[notebook](_Params(notebook, params))
    return dict(params)


# --------------------------------------------------------------------------------------
# the parameters cell of a notebook's source
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotLiteral:
    """A parameter default that is not a Python literal: its source text (not pre-checked)."""

    source: str


def _source_path(notebook: str | os.PathLike[str]) -> Path:
    """A notebook name (``02_emoclim2024``) -> ``notebooks/<name>.py`` of the clone; a path
    (a ``Path``, or a string ending in ``.py``) -> itself."""
    if isinstance(notebook, os.PathLike) or str(notebook).endswith(".py"):
        return Path(notebook)
    root = repo_root()
    if root is None:
        raise FileNotFoundError(f"no source of notebook {notebook!r}: emolib is not imported "
                                "from a clone (no notebooks/ folder beside the package)")
    return root / "notebooks" / f"{notebook}.py"


def notebook_defaults(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """The names assigned in a notebook's papermill ``parameters`` cell -> their defaults.

    ``notebook`` is a name such as ``"02_emoclim2024"`` (its py:percent source
    ``notebooks/<name>.py`` in the clone) or the path of a py:percent source. Defaults are
    read with ``ast.literal_eval``; a default that is not a literal is a
    :class:`NotLiteral` holding its source text. Names keep the order of the cell. No
    parameters cell -> an empty dict; a missing source -> ``FileNotFoundError`` naming it
    (also when emolib is not imported from a clone); needs ``jupytext`` (the notebooks
    extra). Used by ``scripts/reproduce.py`` and :func:`emolib.provenance.start_run`.
    """
    import jupytext

    source = _source_path(notebook)
    if not source.is_file():
        raise FileNotFoundError(f"notebook source not found: {source}")
    nb = jupytext.read(source)
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    defaults: dict[str, Any] = {}
    for stmt in ast.parse(cells[0].source).body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        try:
            default = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError):
            default = NotLiteral(ast.unparse(value))
        for target in targets:
            names = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            defaults.update({t.id: default for t in names if isinstance(t, ast.Name)})
    return defaults
