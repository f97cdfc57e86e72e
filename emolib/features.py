"""Acoustic front ends (librosa) and fixed-length chunking of numpy audio.

* Spectral representations: :func:`log_mel`, :func:`mfcc`, :func:`stft_db`,
  :func:`spectral_centroid`, :func:`rms`.
* :func:`onset_density` — onset-strength curve -> peak picking -> onsets per second,
  averaged over windows (the "onset density" of the mid-level feature set).
* :func:`mixed_features` — Zhu et al. (2023)'s mixed acoustic input: 20 MFCC + log-mel +
  spectral centroid + RMS energy, aligned in time and stacked along the feature axis;
  :func:`stft_features` is the STFT-only input of their ablation.
* :func:`fixed_length`, :func:`chunk`, :func:`sliding_windows`, :func:`random_crop` —
  fixed-length views of a 1-D signal.

All functions take mono ``float`` audio as a 1-D numpy array and the sample rate ``sr``;
matrices are returned as ``(n_features, n_frames)`` float32 arrays. Bad input is refused
before any work is done (:func:`check_audio`, :func:`check_positive_ints`): integer PCM
samples, a non-integer or boolean ``sr``, ``n_fft`` / ``hop_length`` / ``n_mels`` /
``n_mfcc`` that are not positive integers, ``n_mfcc > n_mels``.

Notebooks: 03_chowdhury2023 (onset density), 04_zhu2023 (mixed features, STFT input).
"""
from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np

from emolib.numba_cache import prime_librosa

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

__all__ = [
    "log_mel", "mfcc", "stft_db", "spectral_centroid", "rms", "onset_strength",
    "onset_times", "onset_density", "onset_density_curve", "align_frames",
    "mixed_features", "mixed_feature_rows", "stft_features", "fixed_length", "chunk",
    "sliding_windows", "random_crop", "cached_features", "cached_array_file",
    "summary_statistics", "check_audio", "check_positive_ints",
]

log = logging.getLogger(__name__)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive_ints(**params: object) -> None:
    """Raise ``ValueError`` naming the first parameter that is not a positive integer.

    ``bool`` is refused (``True`` is an ``int`` in Python but never a frame count), and
    so are floats such as ``512.0``. Used by every front end of this module and by
    :func:`emolib.encoders.midlevel.log_filtered_spectrogram`.
    Notebooks: 03_chowdhury2023, 04_zhu2023.
    """
    for name, value in params.items():
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r} "
                             f"({type(value).__name__})")


def _check_n_mfcc(n_mfcc: int, n_mels: int) -> None:
    check_positive_ints(n_mfcc=n_mfcc, n_mels=n_mels)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc={n_mfcc!r} must be <= n_mels={n_mels!r} (the MFCCs are the "
                         "first DCT coefficients of the n_mels mel bands)")


def check_audio(audio: np.ndarray, sr: int, name: str = "audio") -> np.ndarray:
    """Return ``audio`` as a contiguous float32 1-D array or raise a clear ``ValueError``.

    Refused, naming ``name`` or ``sr`` and the offending value: not 1-D, empty, a
    non-numeric, complex or integer dtype (integer PCM samples must be scaled to float in
    [-1, 1] first, e.g. ``y / 32768`` for int16), NaN or inf samples, and an ``sr`` that is
    not a positive integer (``True`` and ``16000.0`` included).
    Notebooks: 03_chowdhury2023, 04_zhu2023 (every front end of this module).
    """
    arr = np.asarray(audio)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D mono signal, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real-valued float samples, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.integer):
        scale = 2 ** (8 * arr.dtype.itemsize - 1)
        how = f"(y - {scale}) / {scale}" if arr.dtype.kind == "u" else f"y / {scale}"
        raise ValueError(f"{name} has integer dtype {arr.dtype} (PCM samples?); scale it to "
                         f"float in [-1, 1] first, e.g. {how}")
    if not _is_int(sr) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r} "
                         f"({type(sr).__name__})")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf samples")
    return arr


# ---------------------------------------------------------------------------- spectra
def log_mel(audio: np.ndarray, sr: int, *, n_fft: int = 1024, hop_length: int = 512,
            n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
            power: float = 2.0, amin: float = 1e-10, top_db: float | None = 80.0
            ) -> np.ndarray:
    """Log-mel spectrogram in dB, ``(n_mels, n_frames)``.

    ``10 * log10(max(amin, M @ |STFT|**power))`` with the Slaney mel filterbank ``M``
    (librosa defaults: Hann window, centred frames), reference 1.0 (so loudness is kept),
    optionally clipped to ``top_db`` below the clip's maximum.
    """
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    spec = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                          n_mels=n_mels, fmin=fmin, fmax=fmax, power=power)
    db = librosa.power_to_db(spec, ref=1.0, amin=amin, top_db=top_db)
    return db.astype(np.float32)


def mfcc(audio: np.ndarray, sr: int, *, n_mfcc: int = 20, n_fft: int = 1024,
         hop_length: int = 512, n_mels: int = 128) -> np.ndarray:
    """MFCCs ``(n_mfcc, n_frames)`` (DCT-II of the log-mel spectrogram, librosa)."""
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length)
    _check_n_mfcc(n_mfcc, n_mels)
    out = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft,
                               hop_length=hop_length, n_mels=n_mels)
    return out.astype(np.float32)


def stft_db(audio: np.ndarray, sr: int, *, n_fft: int = 1024, hop_length: int = 512,
            amin: float = 1e-5, top_db: float | None = 80.0) -> np.ndarray:
    """STFT magnitude in dB, ``(1 + n_fft // 2, n_frames)`` (``20 log10 |X|``, ref 1.0)."""
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length)
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))
    return librosa.amplitude_to_db(mag, ref=1.0, amin=amin, top_db=top_db).astype(np.float32)


def spectral_centroid(audio: np.ndarray, sr: int, *, n_fft: int = 1024,
                      hop_length: int = 512) -> np.ndarray:
    """Spectral centroid in Hz, ``(1, n_frames)``."""
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length)
    return librosa.feature.spectral_centroid(y=y, sr=sr, n_fft=n_fft,
                                             hop_length=hop_length).astype(np.float32)


def rms(audio: np.ndarray, sr: int, *, n_fft: int = 1024, hop_length: int = 512) -> np.ndarray:
    """Root-mean-square energy per frame, ``(1, n_frames)`` (centred frames of ``n_fft``)."""
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length)
    return librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop_length).astype(np.float32)


# ---------------------------------------------------------------------------- onsets
def onset_strength(audio: np.ndarray, sr: int, *, hop_length: int = 256) -> np.ndarray:
    """Onset-strength envelope (spectral flux of the log-mel spectrogram), ``(n_frames,)``."""
    y = check_audio(audio, sr)
    check_positive_ints(hop_length=hop_length)
    return librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length).astype(np.float32)


def onset_times(audio: np.ndarray, sr: int, *, hop_length: int = 256,
                delta: float = 0.07, wait_s: float = 0.03) -> np.ndarray:
    """Onset times in seconds: peak picking on :func:`onset_strength`.

    Peaks must exceed the local mean (±100 ms) by ``delta`` (on the envelope normalised
    to [0, 1]) and be at least ``wait_s`` apart (librosa's ``onset_detect`` rules).
    """
    env = onset_strength(audio, sr, hop_length=hop_length)
    env = env - env.min()
    if env.max() <= 0:
        return np.zeros(0, dtype=np.float64)
    frames_per_s = sr / hop_length
    peaks = librosa.util.peak_pick(
        env / env.max(), pre_max=max(1, int(0.03 * frames_per_s)), post_max=1,
        pre_avg=max(1, int(0.10 * frames_per_s)), post_avg=max(1, int(0.10 * frames_per_s)) + 1,
        delta=delta, wait=max(1, int(wait_s * frames_per_s)))
    return librosa.frames_to_time(peaks, sr=sr, hop_length=hop_length)


def onset_density_curve(audio: np.ndarray, sr: int, *, win: float = 3.0, hop: float = 1.0,
                        hop_length: int = 256, delta: float = 0.07) -> np.ndarray:
    """Onsets per second in each analysis window (``win`` s long, every ``hop`` s).

    A signal shorter than ``win`` is one window of its own length.
    """
    if win <= 0 or hop <= 0:
        raise ValueError(f"win and hop must be > 0 seconds, got win={win!r}, hop={hop!r}")
    y = check_audio(audio, sr)
    times = onset_times(y, sr, hop_length=hop_length, delta=delta)
    duration = len(y) / sr
    if duration <= win:
        return np.array([len(times) / duration])
    starts = np.arange(0.0, duration - win + 1e-9, hop)
    counts = [np.count_nonzero((times >= s) & (times < s + win)) for s in starts]
    return np.asarray(counts, dtype=np.float64) / win


def onset_density(audio: np.ndarray, sr: int, *, win: float = 3.0, hop: float = 1.0,
                  hop_length: int = 256, delta: float = 0.07) -> float:
    """Mean onsets per second over sliding windows (see :func:`onset_density_curve`).

    Notebook: 03_chowdhury2023 (the 8th mid-level dimension, "onset density").
    """
    return float(np.mean(onset_density_curve(audio, sr, win=win, hop=hop,
                                             hop_length=hop_length, delta=delta)))


# ---------------------------------------------------------------------------- mixed input
def align_frames(mats: list[np.ndarray], n_frames: int | None = None) -> list[np.ndarray]:
    """Resize every ``(rows, T_i)`` matrix to a common number of frames.

    Without ``n_frames`` the common length is the shortest ``T_i`` (extra trailing frames
    are cut, as happens when front ends disagree by one frame); with ``n_frames`` each
    matrix is linearly interpolated in time to exactly that many frames.
    """
    if not mats:
        raise ValueError("align_frames needs at least one matrix")
    for i, m in enumerate(mats):
        if m.ndim != 2 or m.shape[1] == 0:
            raise ValueError(f"matrix {i} must be 2-D (rows, frames) with frames > 0, "
                             f"got shape {m.shape}")
    if n_frames is None:
        t = min(m.shape[1] for m in mats)
        return [np.ascontiguousarray(m[:, :t]) for m in mats]
    check_positive_ints(n_frames=n_frames)
    out = []
    for m in mats:
        src = np.linspace(0.0, 1.0, m.shape[1]) if m.shape[1] > 1 else np.zeros(1)
        dst = np.linspace(0.0, 1.0, n_frames)
        out.append(np.stack([np.interp(dst, src, row) for row in m]).astype(np.float32))
    return out


def mixed_feature_rows(n_mfcc: int = 20, n_mels: int = 128) -> dict[str, slice]:
    """Which rows of :func:`mixed_features` hold which feature (for plots and tests).

    Notebook: 04_zhu2023."""
    _check_n_mfcc(n_mfcc, n_mels)
    return {"mfcc": slice(0, n_mfcc), "mel": slice(n_mfcc, n_mfcc + n_mels),
            "centroid": slice(n_mfcc + n_mels, n_mfcc + n_mels + 1),
            "rms": slice(n_mfcc + n_mels + 1, n_mfcc + n_mels + 2)}


def mixed_features(audio: np.ndarray, sr: int, *, n_mfcc: int = 20, n_mels: int = 128,
                   n_fft: int = 1024, hop_length: int = 512, n_frames: int | None = None
                   ) -> np.ndarray:
    """Zhu et al. (2023) §3.1 mixed acoustic feature, ``(n_mfcc + n_mels + 2, T)``.

    Rows (see :func:`mixed_feature_rows`): ``n_mfcc`` MFCCs, the log-mel spectrogram (dB,
    no top-dB clipping so loudness is kept), the spectral centroid as ``log2(Hz)`` and
    the RMS energy in dB (20 log10, floor -100 dB) — "resized and aligned in the time
    dimension" (:func:`align_frames`) and "spliced" along the feature axis. The rows have
    different scales on purpose (absolute units); the acoustic encoder normalises each
    row with a learned BatchNorm over the training set.

    Notebook: 04_zhu2023.
    """
    y = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, hop_length=hop_length)
    _check_n_mfcc(n_mfcc, n_mels)
    if n_frames is not None:
        check_positive_ints(n_frames=n_frames)
    # one magnitude STFT shared by the mel, MFCC and centroid rows (the same values as
    # log_mel / mfcc / spectral_centroid, which each compute their own)
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))
    power_mel = librosa.feature.melspectrogram(S=mag**2, sr=sr, n_fft=n_fft, n_mels=n_mels)
    mel = librosa.power_to_db(power_mel, ref=1.0, amin=1e-10, top_db=None)
    mf = librosa.feature.mfcc(S=librosa.power_to_db(power_mel), n_mfcc=n_mfcc)
    sc = np.log2(np.maximum(librosa.feature.spectral_centroid(S=mag, sr=sr, n_fft=n_fft), 1.0))
    en = 20.0 * np.log10(np.maximum(rms(y, sr, n_fft=n_fft, hop_length=hop_length), 1e-5))
    parts = align_frames([mf, mel, sc, en], n_frames)
    return np.concatenate(parts, axis=0).astype(np.float32)


def stft_features(audio: np.ndarray, sr: int, *, n_fft: int = 512, hop_length: int = 512,
                  n_frames: int | None = None) -> np.ndarray:
    """STFT-only input of Zhu et al.'s ablation ("STFT-input"): dB magnitude, no clipping.

    Notebook: 04_zhu2023.
    """
    if n_frames is not None:
        check_positive_ints(n_frames=n_frames)
    spec = stft_db(audio, sr, n_fft=n_fft, hop_length=hop_length, top_db=None)
    return align_frames([spec], n_frames)[0]


# ---------------------------------------------------------------------------- chunking
def fixed_length(audio: np.ndarray, length: int, *, offset: int = 0) -> np.ndarray:
    """Exactly ``length`` samples from ``offset``: cropped, or zero-padded at the end."""
    if length < 1:
        raise ValueError(f"length must be >= 1 sample, got {length!r}")
    y = np.asarray(audio)
    if y.ndim != 1:
        raise ValueError(f"audio must be 1-D, got shape {y.shape}")
    seg = y[offset:offset + length]
    if len(seg) < length:
        seg = np.pad(seg, (0, length - len(seg)))
    return seg


def sliding_windows(audio: np.ndarray, win: int, hop: int, *, pad: bool = True) -> np.ndarray:
    """Windows ``(n_windows, win)`` every ``hop`` samples (a copy, not a view).

    With ``pad=True`` the tail is zero-padded so that every sample lies in some window
    (and a signal shorter than ``win`` gives one padded window); with ``pad=False``
    incomplete tail windows are dropped (a signal shorter than ``win`` is an error).
    """
    if win < 1 or hop < 1:
        raise ValueError(f"win and hop must be >= 1 sample, got win={win!r}, hop={hop!r}")
    y = np.asarray(audio)
    if y.ndim != 1:
        raise ValueError(f"audio must be 1-D, got shape {y.shape}")
    n = len(y)
    if n < win:
        if not pad:
            raise ValueError(f"audio has {n} samples, fewer than one window of {win}")
        return fixed_length(y, win)[None, :].copy()
    if pad:
        n_win = 1 + int(np.ceil(max(n - win, 0) / hop))
        y = np.pad(y, (0, (n_win - 1) * hop + win - n))
    else:
        n_win = 1 + (n - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n_win)[:, None]
    return y[idx]


def chunk(audio: np.ndarray, length: int, *, pad: bool = True) -> np.ndarray:
    """Non-overlapping chunks ``(n_chunks, length)`` (sliding windows with hop = length)."""
    return sliding_windows(audio, length, length, pad=pad)


def random_crop(audio: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample excerpt (zero-padded if the signal is shorter)."""
    y = np.asarray(audio)
    start = int(rng.integers(0, len(y) - length + 1)) if len(y) > length else 0
    return fixed_length(y, length, offset=start)


# ---------------------------------------------------------------------------- caching
def _check_cache_name(name: object) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"cache name must be a non-empty string without path separators, "
                         f"got {name!r}")


def _cache_input_id(entry: str | os.PathLike[str]) -> str | list[object]:
    """How :func:`cached_features` keys one entry: a file's identity, else its text."""
    from emolib.io import file_identity

    text = os.fspath(entry)
    return list(file_identity(text)) if os.path.isfile(text) else text


def _computed(result: object, what: str) -> np.ndarray:
    """``result`` as one numeric array, or ``ValueError`` naming ``what`` (nothing cached)."""
    try:
        arr = np.asarray(result)
    except ValueError as err:  # ragged sequences
        raise ValueError(f"{what} did not return one numeric array, which cannot be cached "
                         f"({err})") from err
    if arr.dtype == object:
        raise ValueError(f"{what} did not return one numeric array (got dtype object), which "
                         "cannot be cached")
    return arr


def cached_features(paths: list[str] | tuple[str, ...], name: str, params: dict,
                    compute: Callable[[str], np.ndarray], *, progress: bool = False
                    ) -> list[np.ndarray]:
    """``compute(path)`` for every path, stored once as one ``.npz`` under
    ``cache_dir("features")``.

    Keyed by ``name``, ``params`` (put every setting of ``compute`` there) and, per entry
    of ``paths``, the file's :func:`emolib.io.file_identity` (resolved path, size, mtime):
    a file replaced or rewritten since is recomputed, never served stale. Entries that are
    not files (a label such as ``"all"``) are keyed by their text. Nothing is written
    unless every ``compute`` call succeeded; an unreadable cache file is logged at WARNING
    and recomputed. Notebooks: 03_chowdhury2023, 04_zhu2023.
    """
    from emolib.io import atomic_path
    from emolib.paths import cache_dir
    from emolib.progress import tqdm
    from emolib.train import params_key

    _check_cache_name(name)
    if isinstance(paths, (str, bytes, os.PathLike)) or not hasattr(paths, "__iter__"):
        raise ValueError(f"paths must be a list or tuple of file paths, got {type(paths).__name__}"
                         f" {paths!r}")
    paths = list(paths)
    key = params_key(name, {"params": params, "inputs": [_cache_input_id(p) for p in paths]})
    target = cache_dir("features") / f"{name}-{key}.npz"
    if target.exists():
        try:
            with np.load(target) as z:
                return [z[f"a{i}"] for i in range(len(paths))]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
            log.warning("cached features %s are unreadable (%s); recomputing them", target, err)
    arrays = [_computed(compute(str(p)), f"compute({str(p)!r})")
              for p in tqdm(paths, desc=name, disable=not progress, leave=False)]
    with atomic_path(target) as tmp:
        np.savez(tmp, **{f"a{i}": a for i, a in enumerate(arrays)})
    log.info("cached %d %s arrays at %s", len(arrays), name, target)
    return arrays


def cached_array_file(name: str, params: dict, compute: Callable[[], np.ndarray]) -> Path:
    """Path of ``compute()`` stored once as one ``.npy`` under ``cache_dir("features")``.

    Keyed by ``name`` and ``params`` (put every setting of ``compute`` and the identity of
    its input there, e.g. :func:`emolib.io.file_identity` of a file). The array is not kept
    in memory: open the file with ``np.load(path, mmap_mode="r")`` to read only the slices
    you need, so many long feature matrices can be used without holding them all in RAM.
    A cache file whose header cannot be read, or that is shorter than its header says, is
    logged at WARNING and recomputed; a failed ``compute`` writes nothing.
    Notebooks: 02_emoclim2024, 04_zhu2023 (also through
    :func:`emolib.encoders.transcription.cached_front_end`).
    """
    from emolib.io import atomic_path
    from emolib.paths import cache_dir
    from emolib.train import params_key

    _check_cache_name(name)
    target = cache_dir("features") / f"{name}-{params_key(name, {'params': params})}.npy"
    if target.exists():
        try:
            np.load(target, mmap_mode="r", allow_pickle=False)  # header and length only
            return target
        except (OSError, ValueError) as err:
            log.warning("cached array %s is unreadable (%s); recomputing it", target, err)
    arr = _computed(compute(), f"compute() of {name!r}")
    with atomic_path(target) as tmp:
        np.save(tmp, arr, allow_pickle=False)
    log.debug("cached %s array %s at %s", name, arr.shape, target)
    return target


def summary_statistics(mat: np.ndarray) -> np.ndarray:
    """Mean and standard deviation over time of a ``(rows, frames)`` matrix -> ``(2 rows,)``
    (the clip-level hand-crafted vector of the "Audio-LR" baseline)."""
    mat = np.asarray(mat, dtype=np.float64)
    return np.concatenate([mat.mean(axis=1), mat.std(axis=1)])
