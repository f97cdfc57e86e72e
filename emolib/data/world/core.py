"""``make_world``: build (once) and load the emotion world, with a content manifest.

The world is a pure function of ``(seed, params)``. :func:`make_world` resolves a size
*profile* ("quick", "default", "paper") plus keyword overrides into a flat parameter dict,
hashes ``(seed, params, WORLD_VERSION, code fingerprint)`` into a cache key (the
fingerprint of the world's source code and of its SoundFont renderer,
:func:`code_fingerprint`, means an edited renderer never serves a stale cache), and

* on a cache hit, checks ``manifest.json`` (valid, this folder's world, consistent) and
  the small table files against the sizes and SHA-256 it records, reads the tables (CSV)
  and checks that every file named in the manifest exists (``verify=True`` re-hashes
  every file); a damaged manifest or table is logged at WARNING, naming the file, and the
  world is rebuilt (an error naming it if it cannot be removed);
* on a miss, renders every role into a temporary directory (``emolib.io.atomic_dir``),
  adds the split columns, writes the tables as CSV and ``manifest.json`` (SHA-256 of every
  file, sorted, no timestamps), and renames the directory into
  ``cache_dir("world")/<key>``: a killed run leaves no half world behind, and the next
  build removes such a stale ``.partial`` folder.

Same seed and parameters give a byte-identical manifest on every run.

Notebooks: every notebook (``make_world(seed, profile)``); 00_tour shows the world.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from emolib.data.alm import author_split
from emolib.data.splits import group_split, stratified_count_split
from emolib.io import atomic_dir, atomic_write_text
from emolib.paths import cache_dir

__all__ = ["WORLD_VERSION", "ROLES", "PROFILES", "SPLIT_PARAMETERS", "World", "make_world",
           "resolve_params", "split_sizes", "world_key", "world_dir", "file_sha256",
           "code_fingerprint"]

log = logging.getLogger(__name__)

#: Bump when any renderer changes its output: old caches are then never reused.
#: "2": audio rendered with the GM SoundFont (issue 15); split sizes are parameters.
WORLD_VERSION = "2"

#: The world's datasets, in build order. ``performances`` also yields ``descriptions``.
ROLES: tuple[str, ...] = ("music", "piano", "paired", "performances", "midlevel",
                          "alm", "isear", "images")

_BASE: dict[str, Any] = {
    "roles": ROLES,
    "sr": 16000,
    "spread": 0.12,
    "label_noise": 0.1,
    # music (AudioSet-mood role): clips per class in each split (stratified by label)
    "music_n_train_per_class": 48, "music_n_val_per_class": 6, "music_n_test_per_class": 36,
    "music_duration": 10.0,
    # piano (EMOPIA role): songs per quadrant in each split (split by song), clips per song
    "piano_train_songs_per_quadrant": 11, "piano_val_songs_per_quadrant": 3,
    "piano_test_songs_per_quadrant": 10, "piano_clips_per_song": 4, "piano_duration": 10.0,
    # paired audio-MIDI piano (MAESTRO role): pieces in each split
    "paired_n_train": 96, "paired_n_val": 12, "paired_n_test": 12, "paired_duration": 10.0,
    # performances (Con Espressione role): evaluated leave-one-piece-out, no split column
    "perf_n_pieces": 9, "perf_per_piece": (4, 7), "perf_n_listeners": (5, 9),
    # mid-level clips: clips in each split
    "midlevel_n_train": 320, "midlevel_n_val": 40, "midlevel_n_test": 40,
    "midlevel_duration": 5.0,
    # Alm role: per class; validation and test are the held-out author's sentences
    "alm_n_train_per_class": 80, "alm_n_val_per_class": 20, "alm_n_test_per_class": 20,
    # ISEAR role, images (DeepEmotion role): per class in each split (stratified by label)
    "isear_n_train_per_class": 84, "isear_n_val_per_class": 18, "isear_n_test_per_class": 18,
    "images_n_train_per_class": 80, "images_n_val_per_class": 10,
    "images_n_test_per_class": 50, "image_size": 64,
}

#: Size profiles. "quick": a tiny world for tests and smoke runs (<= 30 s cold);
#: "default": what the notebooks use (<= 2 min cold on 2 cores, <= 2 s cached, < 1 GB) —
#: the training splits of the first world (issue 3), test splits >= 5x larger (issue 15:
#: music 252 test clips, EMOPIA-role piano 160, images 400), validation as before;
#: "paper": larger sets in the papers' proportions (80/10/10; EMOPIA 7:2:1 by song; ISEAR
#: 70/15/15; Alm: one author of three held out), for a bigger machine.
PROFILES: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "quick": MappingProxyType({**_BASE,
        "music_n_train_per_class": 6, "music_n_val_per_class": 1, "music_n_test_per_class": 1,
        "music_duration": 5.0,
        "piano_train_songs_per_quadrant": 4, "piano_val_songs_per_quadrant": 1,
        "piano_test_songs_per_quadrant": 1, "piano_clips_per_song": 2, "piano_duration": 5.0,
        "paired_n_train": 10, "paired_n_val": 1, "paired_n_test": 1, "paired_duration": 5.0,
        "perf_n_pieces": 3, "perf_per_piece": (4, 5), "perf_n_listeners": (3, 4),
        "midlevel_n_train": 32, "midlevel_n_val": 4, "midlevel_n_test": 4,
        "midlevel_duration": 3.0,
        "alm_n_train_per_class": 20, "alm_n_val_per_class": 5, "alm_n_test_per_class": 5,
        "isear_n_train_per_class": 20, "isear_n_val_per_class": 5, "isear_n_test_per_class": 5,
        "images_n_train_per_class": 16, "images_n_val_per_class": 2,
        "images_n_test_per_class": 2, "image_size": 32}),
    "default": MappingProxyType(dict(_BASE)),
    "paper": MappingProxyType({**_BASE,
        "music_n_train_per_class": 160, "music_n_val_per_class": 20,
        "music_n_test_per_class": 20,
        "piano_train_songs_per_quadrant": 28, "piano_val_songs_per_quadrant": 8,
        "piano_test_songs_per_quadrant": 4, "piano_clips_per_song": 5,
        "paired_n_train": 480, "paired_n_val": 60, "paired_n_test": 60,
        "midlevel_n_train": 1600, "midlevel_n_val": 200, "midlevel_n_test": 200,
        "alm_n_train_per_class": 200, "alm_n_val_per_class": 50, "alm_n_test_per_class": 50,
        "isear_n_train_per_class": 210, "isear_n_val_per_class": 45,
        "isear_n_test_per_class": 45,
        "images_n_train_per_class": 400, "images_n_val_per_class": 50,
        "images_n_test_per_class": 50, "image_size": 224}),
})

#: Per role with a split column: the parameters giving its train / val / test sizes, and
#: what they count.
SPLIT_PARAMETERS: Mapping[str, tuple[str, str, str, str]] = MappingProxyType({
    "music": ("music_n_train_per_class", "music_n_val_per_class", "music_n_test_per_class",
              "clips per class"),
    "piano": ("piano_train_songs_per_quadrant", "piano_val_songs_per_quadrant",
              "piano_test_songs_per_quadrant", "songs per quadrant"),
    "paired": ("paired_n_train", "paired_n_val", "paired_n_test", "pieces"),
    "midlevel": ("midlevel_n_train", "midlevel_n_val", "midlevel_n_test", "clips"),
    "alm": ("alm_n_train_per_class", "alm_n_val_per_class", "alm_n_test_per_class",
            "sentences per class"),
    "isear": ("isear_n_train_per_class", "isear_n_val_per_class", "isear_n_test_per_class",
              "reports per class"),
    "images": ("images_n_train_per_class", "images_n_val_per_class",
               "images_n_test_per_class", "images per class"),
})

_POSITIVE_INTS = ("sr", *(k for keys in SPLIT_PARAMETERS.values() for k in keys[:3]),
                  "piano_clips_per_song", "perf_n_pieces", "image_size")
_POSITIVE_FLOATS = ("music_duration", "piano_duration", "paired_duration", "midlevel_duration")
_INT_RANGES = ("perf_per_piece", "perf_n_listeners")


def split_sizes(params: Mapping[str, Any], role: str) -> tuple[int, int, int]:
    """(train, val, test) sizes of ``role`` in the units of :data:`SPLIT_PARAMETERS`
    (e.g. clips per class for music, songs per quadrant for piano)."""
    if role not in SPLIT_PARAMETERS:
        raise ValueError(f"role must be one of {sorted(SPLIT_PARAMETERS)}, got {role!r}")
    return tuple(int(params[k]) for k in SPLIT_PARAMETERS[role][:3])  # type: ignore[return-value]


def _total(params: Mapping[str, Any], role: str) -> int:
    return sum(split_sizes(params, role))


@dataclasses.dataclass(frozen=True, eq=False)
class World:
    """The emotion world: one DataFrame per dataset role, file paths absolute.

    Roles not built (see the ``roles`` parameter) are empty DataFrames. ``tags`` in
    ``music`` are lists of strings; every table but the performances' has a ``split``
    column (train/val/test) whose sizes are world parameters (:data:`SPLIT_PARAMETERS`):
    music, isear, images exactly ``<role>_n_val_per_class`` / ``<role>_n_test_per_class``
    items of every (observed) label in val / test, the rest train; paired, midlevel exact
    numbers of items; piano by song, exactly ``piano_val_songs_per_quadrant`` /
    ``piano_test_songs_per_quadrant`` songs of every quadrant; alm by author, as Won et al.
    split Alm's corpus: the last author (in sorted order) wrote ``alm_n_val_per_class +
    alm_n_test_per_class`` sentences of each class, held out and divided, stratified by
    label, into val and test in that proportion; the others train. Performances: evaluated
    leave-one-piece-out (``perf_n_pieces`` folds), no split column.
    """

    seed: int
    profile: str
    music: pd.DataFrame
    piano: pd.DataFrame
    paired: pd.DataFrame
    performances: pd.DataFrame
    descriptions: pd.DataFrame
    midlevel: pd.DataFrame
    alm: pd.DataFrame
    isear: pd.DataFrame
    images: pd.DataFrame
    tag_vocab: list[str]
    sr: int
    root: Path
    params: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by name (``descriptions`` included)."""
        return {n: getattr(self, n) for n in _TABLES}

    def summary(self) -> pd.DataFrame:
        """Rows per table and split (for the tour notebook)."""
        rows = []
        for name, df in self.tables.items():
            counts = df["split"].value_counts() if "split" in df.columns else pd.Series(dtype=int)
            rows.append({"table": name, "rows": len(df),
                         "labels": int(df["label"].nunique()) if "label" in df.columns else 0,
                         **{s: int(counts.get(s, 0)) for s in ("train", "val", "test")}})
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}={len(df)}" for n, df in self.tables.items())
        # the cache key, not the folder: a printed world shows no machine path
        return (f"World(seed={self.seed}, profile={self.profile!r}, {sizes}, "
                f"key={self.root.name!r})")


_TABLES = ("music", "piano", "paired", "performances", "descriptions", "midlevel",
           "alm", "isear", "images")


# ---------------------------------------------------------------------------------------
# parameters and keys
# ---------------------------------------------------------------------------------------

def resolve_params(profile: str = "default", **overrides: Any) -> dict[str, Any]:
    """The profile's parameters with ``overrides`` applied, validated.

    Raises ``ValueError`` naming the profile/parameter and what was expected.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown world profile {profile!r}; expected one of {sorted(PROFILES)}")
    params = dict(PROFILES[profile])
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ValueError(f"unknown world parameter(s) {unknown}; "
                         f"valid parameters: {sorted(params)}")
    params.update(overrides)
    for k in _POSITIVE_INTS:
        v = params[k]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"world parameter {k!r} must be a positive integer, got {v!r}")
        params[k] = int(v)
    for k in _POSITIVE_FLOATS:
        v = params[k]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v > 0:
            raise ValueError(f"world parameter {k!r} must be a positive number (seconds), "
                             f"got {v!r}")
        params[k] = float(v)
    for k in _INT_RANGES:
        v = params[k]
        ok = (isinstance(v, (tuple, list)) and len(v) == 2
              and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in v)
              and 1 <= v[0] <= v[1])
        if not ok:
            raise ValueError(f"world parameter {k!r} must be a pair (lo, hi) of integers with "
                             f"1 <= lo <= hi, got {v!r}")
        params[k] = [int(v[0]), int(v[1])]
    if not isinstance(params["spread"], (int, float)) or not 0 <= params["spread"] <= 1:
        raise ValueError(f"world parameter 'spread' must be in [0, 1], got {params['spread']!r}")
    if not isinstance(params["label_noise"], (int, float)) or not 0 <= params["label_noise"] < 1:
        raise ValueError(f"world parameter 'label_noise' must be in [0, 1), "
                         f"got {params['label_noise']!r}")
    params["spread"], params["label_noise"] = float(params["spread"]), float(params["label_noise"])
    roles = params["roles"]
    if isinstance(roles, str):
        roles = (roles,)
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"world parameter 'roles' must be a non-empty subset of {list(ROLES)}, "
                         f"got {roles!r}")
    params["roles"] = [r for r in ROLES if r in set(roles)]  # canonical order
    if params["sr"] != 16000:
        log.warning("the world is specified at 16 kHz; sr=%d is untested", params["sr"])
    return params


_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """SHA-256 (16 hex) of the world's source code (``emolib/data/world/*.py`` and the
    modules it draws on, :mod:`emolib.soundfont` among them), newlines normalised, and of
    the renderer's identity: the ``tinysoundfont`` version and the SoundFont file's bytes.

    Part of the cache key, so that editing a renderer (or installing another SoundFont or
    TinySoundFont) can never serve a stale world, even when nobody remembers to bump
    :data:`WORLD_VERSION`.
    """
    global _FINGERPRINT
    if _FINGERPRINT is None:
        from importlib.metadata import PackageNotFoundError, version

        from emolib.soundfont import soundfont_path

        here = Path(__file__).resolve().parent
        files = sorted(here.glob("*.py")) + [
            here.parent / "taxonomies.py", here.parent / "splits.py",
            here.parent / "alm.py", here.parent.parent / "seed.py",
            here.parent.parent / "soundfont.py",
        ]
        h = hashlib.sha256()
        for f in files:
            if f.exists():
                h.update(f.name.encode() + b"\0" + f.read_bytes().replace(b"\r\n", b"\n") + b"\0")
        try:
            tsf_version = version("tinysoundfont")
        except PackageNotFoundError:  # pragma: no cover - installed by `make setup`
            tsf_version = "absent"
        h.update(b"tinysoundfont " + tsf_version.encode() + b"\0")
        h.update(b"soundfont " + file_sha256(soundfont_path()).encode() + b"\0")
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


def world_key(seed: int, params: Mapping[str, Any]) -> str:
    """Cache key: ``s<seed>-<16 hex of sha256(seed, params, WORLD_VERSION, code)>``."""
    blob = json.dumps({"seed": int(seed), "params": params, "version": WORLD_VERSION,
                       "code": code_fingerprint()}, sort_keys=True, separators=(",", ":"))
    return f"s{int(seed)}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def world_dir(seed: int = 0, profile: str = "default", cache: str | os.PathLike | None = None,
              **overrides: Any) -> Path:
    """Where the world for these arguments lives (whether built or not)."""
    params = resolve_params(profile, **overrides)
    base = Path(cache) if cache is not None else cache_dir("world")
    return base / world_key(seed, params)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------

def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


_COLUMNS = {
    "music": ["item_id", "label", "true_label", "valence", "arousal", "audio_path", "midi_path",
              "tags", "caption", "split"],
    "piano": ["item_id", "song_id", "label", "valence", "arousal", "audio_path", "midi_path",
              "split"],
    "paired": ["item_id", "audio_path", "midi_path", "split"],
    "performances": ["performance_id", "piece_id", "style", "audio_path", "midi_path"],
    "descriptions": ["description_id", "performance_id", "piece_id", "listener_id", "text"],
    "midlevel": ["clip_id", "audio_path", "split"],
    "alm": ["item_id", "author", "label", "true_label", "valence", "arousal", "text", "split"],
    "isear": ["item_id", "label", "true_label", "valence", "arousal", "text", "split"],
    "images": ["item_id", "label", "true_label", "valence", "arousal", "image_path", "split"],
}


def _builders() -> dict[str, Callable[[Path, int, dict, int, bool], dict[str, pd.DataFrame]]]:
    """Role -> function(out_dir, seed, params, n_jobs, progress) -> {table: DataFrame}."""

    def music(out, seed, p, n_jobs, progress):
        from emolib.data.world.music import build_music
        return {"music": build_music(
            out, seed, _total(p, "music"), duration=p["music_duration"],
            sr=p["sr"], spread=p["spread"], label_noise=p["label_noise"],
            n_jobs=n_jobs, progress=progress,
        )}

    def piano(out, seed, p, n_jobs, progress):
        from emolib.data.world.piano import build_piano
        return {"piano": build_piano(
            out, seed, _total(p, "piano"), p["piano_clips_per_song"],
            duration=p["piano_duration"], sr=p["sr"], spread=p["spread"],
            n_jobs=n_jobs, progress=progress,
        )}

    def paired(out, seed, p, n_jobs, progress):
        from emolib.data.world.paired import build_paired
        return {"paired": build_paired(
            out, seed, _total(p, "paired"), duration=p["paired_duration"],
            sr=p["sr"], n_jobs=n_jobs, progress=progress,
        )}

    def performances(out, seed, p, n_jobs, progress):
        from emolib.data.world.performances import build_performances
        perf, desc = build_performances(out, seed, n_pieces=p["perf_n_pieces"],
                                        perf_per_piece=tuple(p["perf_per_piece"]),
                                        n_listeners=tuple(p["perf_n_listeners"]), sr=p["sr"],
                                        n_jobs=n_jobs, progress=progress)
        return {"performances": perf, "descriptions": desc}

    def midlevel(out, seed, p, n_jobs, progress):
        from emolib.data.world.midlevel import build_midlevel
        return {"midlevel": build_midlevel(
            out, seed, _total(p, "midlevel"), duration=p["midlevel_duration"],
            sr=p["sr"], n_jobs=n_jobs, progress=progress,
        )}

    def alm(out, seed, p, n_jobs, progress):
        from emolib.data.world.text import build_alm
        _, n_val, n_test = split_sizes(p, "alm")
        return {"alm": build_alm(seed, _total(p, "alm"), spread=p["spread"],
                                 label_noise=p["label_noise"], n_held_per_class=n_val + n_test)}

    def isear(out, seed, p, n_jobs, progress):
        from emolib.data.world.text import build_isear
        return {"isear": build_isear(seed, _total(p, "isear"), spread=p["spread"],
                                     label_noise=p["label_noise"])}

    def images(out, seed, p, n_jobs, progress):
        from emolib.data.world.images import build_images
        return {"images": build_images(out, seed, _total(p, "images"), size=p["image_size"],
                                       spread=p["spread"], label_noise=p["label_noise"],
                                       n_jobs=n_jobs, progress=progress)}

    return {"music": music, "piano": piano, "paired": paired, "performances": performances,
            "midlevel": midlevel, "alm": alm, "isear": isear, "images": images}


def _add_split(name: str, df: pd.DataFrame, seed: int, params: Mapping[str, Any]) -> pd.DataFrame:
    """The ``split`` column of table ``name``, sized by the world parameters
    (:data:`SPLIT_PARAMETERS`); deterministic given ``seed``."""
    if name not in SPLIT_PARAMETERS or len(df) == 0:
        return df
    _, n_val, n_test = split_sizes(params, name)
    _, val_key, test_key, unit = SPLIT_PARAMETERS[name]
    try:
        if name == "piano":
            split = group_split(df["song_id"], df["label"], seed=seed, counts=(n_val, n_test))
        elif name == "alm" and df["author"].nunique() > 1:  # Won et al.: by author
            split = author_split(df, test_author=sorted(df["author"].unique())[-1],
                                 val_fraction=n_val / (n_val + n_test), seed=seed)
        elif "label" in df.columns:
            split = stratified_count_split(df["label"], n_val, n_test, seed=seed)
        else:
            split = stratified_count_split(["all"] * len(df), n_val, n_test, seed=seed)
    except ValueError as err:
        raise ValueError(
            f"world parameters {val_key}={n_val} and {test_key}={n_test} ({unit}) cannot be "
            f"met by the {name} table: {err}; with label_noise={params['label_noise']} an "
            "observed class can be smaller than the generated one — lower them or raise "
            f"{SPLIT_PARAMETERS[name][0]}") from err
    return df.assign(split=split)


def _to_csv(df: pd.DataFrame) -> str:
    df = df.copy()
    if "tags" in df.columns:
        df["tags"] = [t if isinstance(t, str) else ";".join(t) for t in df["tags"]]
    return df.to_csv(index=False, lineterminator="\n")


def _manifest(root: Path, seed: int, params: Mapping[str, Any], key: str) -> dict[str, Any]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "manifest.json")
    entries = [{"path": p.relative_to(root).as_posix(), "bytes": p.stat().st_size,
                "sha256": file_sha256(p)} for p in files]
    return {"world_version": WORLD_VERSION, "code": code_fingerprint(), "key": key,
            "seed": int(seed), "params": dict(params),
            "n_files": len(entries), "total_bytes": int(sum(e["bytes"] for e in entries)),
            "files": entries}


def _build(root: Path, seed: int, params: dict[str, Any], n_jobs: int, progress: bool,
           key: str) -> None:
    builders = _builders()
    tag_vocab: list[str] = []
    for role in params["roles"]:
        t0 = time.perf_counter()
        log.info("world %s: building %s", key, role)
        for name, df in builders[role](root, seed, params, n_jobs, progress).items():
            df = _add_split(name, df.reset_index(drop=True), seed, params)
            atomic_write_text(root / "tables" / f"{name}.csv", _to_csv(df))
        if role == "music":
            from emolib.data.world.music import TAG_VOCAB
            tag_vocab = list(TAG_VOCAB)
        log.info("world %s: %s done in %.1f s", key, role, time.perf_counter() - t0)
    atomic_write_text(root / "tables" / "tag_vocab.txt", "".join(t + "\n" for t in tag_vocab))
    manifest = _manifest(root, seed, params, key)
    atomic_write_text(root / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------

def _read_table(root: Path, name: str) -> pd.DataFrame:
    path = root / "tables" / f"{name}.csv"
    if not path.exists():
        return _empty(_COLUMNS[name])
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for col in [c for c in df.columns if c.endswith("_path")]:
        df[col] = [str(root / p) for p in df[col]]
    if "tags" in df.columns:
        df["tags"] = [[] if not isinstance(t, str) or t == "" else t.split(";") for t in df["tags"]]
    for col in ("text", "caption"):
        if col in df.columns:
            df[col] = df[col].fillna("").astype(str)
    return df


def _load(root: Path, seed: int, profile: str, verify: bool) -> World:
    manifest = json.loads((root / "manifest.json").read_text())
    missing = [e["path"] for e in manifest["files"] if not (root / e["path"]).exists()]
    if missing:
        raise FileNotFoundError(f"world at {root} is incomplete: {len(missing)} file(s) of its "
                                f"manifest are missing, e.g. {missing[:3]}; "
                                "delete the folder to rebuild")
    if verify:
        bad = [e["path"] for e in manifest["files"] if file_sha256(root / e["path"]) != e["sha256"]]
        if bad:
            raise ValueError(f"world at {root}: {len(bad)} file(s) differ from manifest.json, "
                             f"e.g. {bad[:3]}; delete the folder to rebuild")
    vocab_path = root / "tables" / "tag_vocab.txt"
    tag_vocab = vocab_path.read_text().split() if vocab_path.exists() else []
    tables = {n: _read_table(root, n) for n in _TABLES}
    return World(seed=int(seed), profile=profile, tag_vocab=tag_vocab,
                 sr=int(manifest["params"]["sr"]),
                 root=root, params=manifest["params"], manifest=manifest, **tables)


#: what :func:`_load` needs of ``manifest.json``: each key and its JSON type
_MANIFEST_TYPES: Mapping[str, type] = MappingProxyType({
    "world_version": str, "code": str, "key": str, "seed": int, "params": dict,
    "n_files": int, "total_bytes": int, "files": list})

#: the small table files :func:`_load` reads, re-verified against the manifest on every load
_SMALL_TABLES: tuple[str, ...] = (*(f"tables/{n}.csv" for n in _TABLES), "tables/tag_vocab.txt")


def _manifest_problem(root: Path, seed: int, params: Mapping[str, Any]) -> str | None:
    """What makes the cached world at ``root`` untrustworthy, naming the file; or None.

    ``manifest.json`` must be valid UTF-8 JSON with every key of :data:`_MANIFEST_TYPES`
    (a truncated or hand-edited file fails here), be this folder's world (key, seed,
    parameters, version, code), and list well-formed entries that add up to its
    ``n_files`` / ``total_bytes``. The small table files (:data:`_SMALL_TABLES`) are
    re-verified on every load: size, then SHA-256 (milliseconds for the default world); a
    table on disk that the manifest does not list counts too. Audio, MIDI and image files
    are re-hashed only with ``make_world(..., verify=True)``. Notebooks: all (make_world).
    """
    path = root / "manifest.json"
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError, JSONDecodeError: ValueErrors
        return f"{path} is unreadable or not valid JSON ({type(err).__name__}: {err})"
    if not isinstance(manifest, dict):
        return f"{path} is not a JSON object"
    missing = [k for k in _MANIFEST_TYPES if k not in manifest]
    if missing:
        return f"{path} lacks the key(s) {missing}"
    for k, t in _MANIFEST_TYPES.items():
        if not isinstance(manifest[k], t) or isinstance(manifest[k], bool):
            return f"{path}: {k!r} must be a JSON {t.__name__}, got {manifest[k]!r:.60}"
    want = {"key": root.name, "seed": int(seed), "world_version": WORLD_VERSION,
            "code": code_fingerprint(), "params": json.loads(json.dumps(dict(params)))}
    for k, v in want.items():
        if manifest[k] != v:
            return f"{path}: {k!r} is {manifest[k]!r:.80}, expected {v!r:.80} for this folder"
    entries = manifest["files"]
    for e in entries:
        rel = e.get("path") if isinstance(e, dict) else None
        if not (isinstance(rel, str) and isinstance(e.get("sha256"), str)
                and isinstance(e.get("bytes"), int) and not rel.startswith("/")
                and ".." not in rel.split("/")):
            return f"{path} has a malformed 'files' entry {e!r:.80}"
    if len(entries) != manifest["n_files"] \
            or sum(e["bytes"] for e in entries) != manifest["total_bytes"]:
        return (f"{path} is inconsistent: {len(entries)} entries of "
                f"{sum(e['bytes'] for e in entries)} bytes, but n_files={manifest['n_files']} "
                f"and total_bytes={manifest['total_bytes']}")
    listed = {e["path"]: e for e in entries}
    for rel in _SMALL_TABLES:
        f, e = root / rel, listed.get(rel)
        if e is None:
            if f.exists():
                return f"table file {f} is not listed in {path}"
            continue
        try:
            size = f.stat().st_size
        except OSError:
            return f"table file {f} listed in {path} is missing"
        if size != e["bytes"]:
            return f"table file {f} has {size} bytes, {path} recorded {e['bytes']}"
        if file_sha256(f) != e["sha256"]:
            return f"table file {f} differs from the SHA-256 recorded in {path}"
    return None


def _distrust_damaged_cache(root: Path, seed: int, params: Mapping[str, Any]) -> None:
    """Make a damaged cached world rebuild, or refuse it naming the file.

    Called by :func:`make_world` before it looks for ``manifest.json``. A problem found by
    :func:`_manifest_problem` (an unreadable, truncated or foreign manifest, a changed or
    missing table file) is logged at WARNING naming the file, and ``manifest.json`` is
    removed: ``make_world`` then builds the world afresh in a temporary folder that replaces
    this one as a whole (:func:`emolib.io.atomic_dir`), byte-identical to a first build;
    other worlds in the cache are not touched. If the manifest cannot be removed (a
    read-only cache), no rebuild is possible: ``ValueError`` naming the file.
    Notebooks: all (make_world).
    """
    manifest = root / "manifest.json"
    if not manifest.exists():
        return
    problem = _manifest_problem(root, seed, params)
    if problem is None:
        return
    log.warning("emotion world cache %s is damaged: %s; rebuilding it", root, problem)
    try:
        manifest.unlink()
    except OSError as err:
        raise ValueError(f"emotion world cache {root} is damaged ({problem}) and cannot be "
                         f"rebuilt: removing {manifest} failed ({err}); delete {root} by "
                         "hand") from err


def make_world(seed: int = 0, profile: str = "default", cache_dir: str | os.PathLike | None = None,
               n_jobs: int | None = None, progress: bool = True, verify: bool = False,
               **overrides: Any) -> World:
    """Build (first call) or load (later calls) the emotion world for ``seed`` and ``profile``.

    ``overrides`` replace single parameters of the profile (see ``PROFILES["default"]``),
    e.g. ``make_world(0, "quick", roles=("alm", "isear"), isear_n_test_per_class=40)``.
    ``cache_dir`` defaults to ``emolib.paths.cache_dir("world")`` (env var ``EMOLIB_CACHE``);
    ``n_jobs`` (default ``os.cpu_count()``) parallelises rendering and does not change
    the result; ``verify=True`` re-hashes every cached file against the manifest.

    Notebooks: all (``world = make_world(seed, profile)``).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    params = resolve_params(profile, **overrides)
    if n_jobs is None:
        n_jobs = os.cpu_count() or 1
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    key = world_key(seed, params)
    root = (Path(cache_dir) if cache_dir is not None else _default_cache()) / key
    _distrust_damaged_cache(root, int(seed), params)
    if not (root / "manifest.json").exists():
        t0 = time.perf_counter()
        log.info("building emotion world %s (profile %s) in %s", key, profile, root)
        with atomic_dir(root) as tmp:
            _build(tmp, int(seed), params, int(n_jobs), progress, key)
        log.info("emotion world %s built in %.1f s", key, time.perf_counter() - t0)
    return _load(root, seed, profile, verify)


def _default_cache() -> Path:
    return cache_dir("world")
