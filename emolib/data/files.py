"""Reading data files: the one audio loader and the one table reader every reader uses.

Bad input is refused before any work is done, with an error that says what is wrong and
where:

* :class:`DataError` (a ``ValueError``) for a malformed data file. Its message always
  names the file (full path); for tables also the line (1-based, the header is line 1),
  the column, the offending value and what was expected.
* ``FileNotFoundError`` naming the file (and, for tables, what the file is) when it is
  absent.

:func:`load_audio` decodes audio like ``librosa.load`` (soundfile first, audioread for
formats soundfile cannot decode; same mono down-mix and ``soxr_hq`` resampling, so the
numbers are identical) and refuses empty, truncated, non-finite or undecodable files.
:func:`read_csv` parses delimited text tables (UTF-8) with the checks the dataset
readers need; :func:`check_split_ids` checks IDs across several split files.

This module is the data layer: it imports neither :mod:`emolib.encoders` nor
:mod:`emolib.features`.

Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (every audio file the
encoders read; every table of the real-data paths).
"""
from __future__ import annotations

import csv
import io
import logging
import math
import os
import struct
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DataError", "MISSING_VALUES", "load_audio", "read_csv", "is_missing",
           "check_split_ids"]

log = logging.getLogger(__name__)

#: Cell values read as "missing" (compared stripped and lower-cased): pandas' default
#: NA strings, e.g. ``''``, ``'n/a'``, ``'NA'``, ``'NaN'``, ``'null'``, ``'None'``.
MISSING_VALUES: frozenset[str] = frozenset(
    s.lower() for s in ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                        "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                        "nan", "null"))

ColumnSpec = Collection[str] | Callable[[str], bool]


class DataError(ValueError):
    """A data file is malformed: empty, truncated, undecodable, or its content is invalid.

    The message names the file (full path) and, for tables, the line, the column, the
    offending value and what was expected. A ``ValueError``, so code that catches
    ``ValueError`` keeps working.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (real-data paths).
    """


def _py(v: object) -> object:
    """A numpy scalar as the Python value (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _name(path: str | os.PathLike[str]) -> str:
    """The full path of a file as shown in messages (absolute, symlinks not resolved)."""
    return os.path.abspath(os.fspath(path))


# ---------------------------------------------------------------------------------- audio
def _check_sr(sr: object) -> None:
    if sr is None:
        return
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer)):
        raise TypeError(f"sr must be a positive int (samples per second) or None, "
                        f"got {sr!r} ({type(sr).__name__})")
    if sr <= 0:
        raise ValueError(f"sr must be a positive int (samples per second) or None, got {sr}")


def _check_span(offset: float, duration: float | None) -> None:
    if isinstance(offset, bool) or not isinstance(offset, (int, float, np.number)) \
            or not math.isfinite(offset) or offset < 0:
        raise ValueError(f"offset must be a finite number of seconds >= 0, got {offset!r}")
    if duration is not None and (isinstance(duration, bool)
                                 or not isinstance(duration, (int, float, np.number))
                                 or not math.isfinite(duration) or duration <= 0):
        raise ValueError(f"duration must be None or a finite number of seconds > 0, "
                         f"got {duration!r}")


def _check_riff(path: Path, size: int) -> None:
    """Refuse a RIFF/WAVE file whose ``data`` chunk is shorter than its header says.

    libsndfile silently reads such files short, so the chunk sizes are checked here.
    Files that are not RIFF/WAVE are left to the decoder.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return
        order = "<" if head[:4] == b"RIFF" else ">"
        pos = 12
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                raise DataError(f"{_name(path)}: truncated WAV file: no 'data' chunk in its "
                                f"{size} bytes (the header ends at byte {pos}); expected "
                                "a RIFF/WAVE header followed by the audio data")
            cid = chunk[:4]
            csize = struct.unpack(order + "I", chunk[4:])[0]
            if cid == b"data":
                present = size - (pos + 8)
                if csize != 0xFFFFFFFF and present < csize:
                    raise DataError(f"{_name(path)}: truncated WAV file: its header announces "
                                    f"{csize} bytes of audio data, but only {present} are "
                                    f"present ({size} bytes in the file)")
                return
            pos += 8 + csize + (csize & 1)
            if pos > size:
                raise DataError(f"{_name(path)}: truncated WAV file: chunk {cid!r} runs past "
                                f"the end of the file ({size} bytes) before a 'data' chunk")
            fh.seek(pos)


def _soundfile_read(path: Path, offset: float, duration: float | None
                    ) -> tuple[np.ndarray, int]:
    """librosa's soundfile path: seek, read float32, channels first; checks the length."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        sr_native, total, fmt = f.samplerate, f.frames, f.format
        start = int(offset * sr_native) if offset else 0
        want = int(duration * sr_native) if duration is not None else -1
        if start > total:
            raise DataError(f"{_name(path)}: offset={offset} s is past the end of the file "
                            f"({total} frames = {total / sr_native:.3f} s)")
        if offset:
            f.seek(start)
        y = f.read(frames=want, dtype=np.float32, always_2d=False).T
    expected = total - start if want < 0 else min(want, total - start)
    got = y.shape[-1]
    # MP3 lengths may be estimated from the bit rate when the file has no Xing/LAME header
    slack = max(2304, expected // 100) if fmt == "MP3" else 0
    if got + slack < expected:
        raise DataError(f"{_name(path)}: truncated audio file: its header announces {total} "
                        f"frames, but only {start + got} could be decoded")
    return y, sr_native


def _audioread_read(path: Path, offset: float, duration: float | None
                    ) -> tuple[np.ndarray, int]:
    """librosa's audioread path (formats soundfile cannot decode, e.g. some MP3s)."""
    import audioread

    from emolib.numba_cache import prime_librosa

    prime_librosa()  # before librosa.util is imported
    from librosa.util import buf_to_float

    buf = []
    with audioread.audio_open(str(path)) as f:
        sr_native, n_channels = f.samplerate, f.channels
        s_start = int(sr_native * offset) * n_channels
        s_end = np.inf if duration is None else s_start + int(sr_native * duration) * n_channels
        n = 0
        for block in f:
            frame = buf_to_float(block, dtype=np.float32)
            n_prev, n = n, n + len(frame)
            if n < s_start:
                continue
            if s_end < n_prev:
                break
            if s_end < n:
                frame = frame[:int(s_end - n_prev)]
            if n_prev <= s_start <= n:
                frame = frame[s_start - n_prev:]
            buf.append(frame)
    if not buf:
        return np.empty(0, dtype=np.float32), sr_native
    y = np.concatenate(buf)
    if n_channels > 1:
        y = y.reshape((-1, n_channels)).T
    return y, sr_native


def load_audio(path: str | os.PathLike[str], sr: int | None, *, mono: bool = True,
               offset: float = 0.0, duration: float | None = None
               ) -> tuple[np.ndarray, int]:
    """Decode an audio file → ``(float32 samples, sample rate)``, like ``librosa.load``.

    soundfile first, audioread for formats soundfile cannot decode; ``mono`` averages the
    channels (else the result is ``(channels, samples)``); ``sr`` resamples with librosa's
    default ``soxr_hq`` (``None`` keeps the file's rate); ``offset`` / ``duration`` in
    seconds select a span. For good files the samples equal ``librosa.load``'s.

    Raises, before decoding anything where possible: ``TypeError`` / ``ValueError`` for a
    bad ``sr`` (a positive int or None; not a bool), ``offset`` or ``duration``;
    ``FileNotFoundError`` naming the file when it is absent; :class:`DataError` naming the
    file when it is empty (0 bytes or 0 frames), truncated (fewer frames or bytes than its
    header announces — for WAV the RIFF ``data`` chunk size is checked), holds NaN/inf
    samples, or cannot be decoded by any backend.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (through
    :func:`emolib.encoders.audio.load_audio`, :mod:`emolib.encoders.midlevel` and
    :mod:`emolib.encoders.transcription`).
    """
    _check_sr(sr)
    _check_span(offset, duration)
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"audio file not found: {_name(p)}" if not p.exists() else
                                f"audio path is not a file: {_name(p)}")
    size = p.stat().st_size
    if size == 0:
        raise DataError(f"{_name(p)}: audio file is empty (0 bytes)")
    _check_riff(p, size)
    import soundfile as sf

    try:
        y, sr_native = _soundfile_read(p, offset, duration)
    except sf.SoundFileRuntimeError as sf_err:
        log.debug("soundfile cannot decode %s (%s); trying audioread", p, sf_err)
        try:
            y, sr_native = _audioread_read(p, offset, duration)
        except Exception as ar_err:  # audioread raises NoBackendError, EOFError, ... (empty)
            import audioread

            backends = [b.__name__ for b in audioread.available_backends()]
            raise DataError(
                f"{_name(p)}: cannot decode audio file ({size} bytes): not a recognised audio "
                "format, or corrupt; expected WAV/FLAC/OGG/MP3 (other formats need ffmpeg for "
                f"audioread). soundfile: {str(sf_err).strip() or type(sf_err).__name__}; "
                f"audioread (backends {backends}): "
                f"{str(ar_err).strip() or type(ar_err).__name__}") from ar_err
    if y.size == 0:
        what = "holds 0 frames (no audio)" if not offset and duration is None else \
            f"holds no audio in the span offset={offset} s, duration={duration} s"
        raise DataError(f"{_name(p)}: audio file {what}")
    finite = np.isfinite(y)
    if not finite.all():
        bad = np.flatnonzero(~finite.reshape(-1, y.shape[-1]).all(axis=0))
        raise DataError(f"{_name(p)}: audio holds {int((~finite).sum())} non-finite (NaN/inf) "
                        f"sample(s), first at frame {int(bad[0])} "
                        f"({bad[0] / sr_native:.4f} s); expected finite samples")
    if mono and y.ndim > 1:
        y = np.mean(y, axis=tuple(range(y.ndim - 1)))
    if sr is not None and sr != sr_native:
        import librosa

        y = librosa.resample(y, orig_sr=sr_native, target_sr=sr, res_type="soxr_hq")
    return y, int(sr if sr is not None else sr_native)


# --------------------------------------------------------------------------------- tables
_MAX_MISSING_LEN = max(map(len, MISSING_VALUES))


def _missing(v: object) -> bool:
    if not isinstance(v, str):
        return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
    if len(v) > _MAX_MISSING_LEN:
        v = v.strip()
        if len(v) > _MAX_MISSING_LEN:
            return False
    return v.strip().lower() in MISSING_VALUES


def _missing_mask(values: Sequence[object]) -> np.ndarray:
    try:
        bad = {v for v in set(values) if _missing(v)}
    except TypeError:  # unhashable cells
        return np.fromiter(map(_missing, values), dtype=bool, count=len(values))
    if not bad:
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(bad.__contains__, values), dtype=bool, count=len(values))


def is_missing(values: pd.Series) -> pd.Series:
    """Boolean mask of the cells that hold a missing value (:data:`MISSING_VALUES`,
    compared stripped and lower-cased; also None / NaN).

    Notebooks: 03_chowdhury2023 (Con Espressione answers; real-data path).
    """
    return pd.Series(_missing_mask(values.tolist()), index=values.index)


def _selected(spec: ColumnSpec, columns: Sequence[str]) -> list[str]:
    if callable(spec):
        return [c for c in columns if spec(c)]
    return [c for c in columns if c in set(spec)]


def _lines(text: str, comment: str | None) -> Iterator[str]:
    for line in io.StringIO(text, newline=""):
        yield "\n" if comment is not None and line.startswith(comment) else line


def _decode(raw: bytes, name: str, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line = raw[:start].count(b"\n") + 1
        col = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        raise DataError(f"{name}: line {line}: byte(s) {raw[start:start + 4]!r} at character "
                        f"{col} are not UTF-8; the {what} must be UTF-8 text") from None


def read_csv(path: str | os.PathLike[str], *, what: str, sep: str = ",",
             header: bool | str = True, names: Sequence[str] | None = None,
             comment: str | None = None, skipinitialspace: bool = False,
             rename: Callable[[str], str] | None = None,
             required_columns: Sequence[str] = (), numeric_columns: ColumnSpec = (),
             int_columns: ColumnSpec = (), id_column: str | int | None = None,
             allow_missing: bool | Collection[str] = False, min_rows: int = 1,
             line_column: str | None = None) -> pd.DataFrame:
    """Read a delimited UTF-8 table, refusing malformed content with a precise message.

    * ``what`` says what the file is (e.g. ``"EMOPIA split file"``); it appears in the
      messages. A missing file → ``FileNotFoundError`` naming the file and ``what``.
    * ``header=True``: the first row holds the column names (stripped; ``rename`` maps
      each name, e.g. to resolve aliases); ``header=False``: ``names`` gives them;
      ``header="optional"``: the first row is a header when it equals ``names``.
      ``comment`` is a line prefix (e.g. ``"#"``) of lines to skip; blank lines are skipped.
    * Values are strings, except ``numeric_columns`` (float) and ``int_columns`` (int,
      e.g. codes); either may be a collection of names (absent ones are ignored unless
      required) or a predicate on the column name.

    :class:`DataError` naming the file: 0 bytes, or fewer than ``min_rows`` data rows
    (e.g. header only); bytes that are not UTF-8 (with the line); a malformed row or a
    row with the wrong number of fields (with the line); duplicated column names; missing
    ``required_columns`` (listing expected and found); a missing value (:data:`
    MISSING_VALUES`, e.g. ``''``, ``'n/a'``, ``'NaN'``) in a required, numeric, integer or
    ID column unless ``allow_missing`` (True, or a collection of column names) allows it;
    a value that is not a finite number / an integer in a numeric / integer column (column,
    line and value); a duplicated ID in ``id_column`` (a name, or an int: the column at
    that position), naming the lines. ``line_column`` adds each row's line number.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (real-data paths).
    """
    p = Path(path)
    name = _name(p)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {name}")
    if header not in (True, False, "optional"):
        raise ValueError(f"header must be True, False or 'optional', got {header!r}")
    if header is not True and not names:
        raise ValueError("header=False/'optional' needs names")
    raw = p.read_bytes()
    sep_name = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(sep, repr(sep))
    if not raw:
        if min_rows > 0:
            raise DataError(f"{name}: the {what} is empty (0 bytes); expected a "
                            f"{sep_name}-separated table"
                            + (f" with columns {list(required_columns)}"
                               if required_columns else ""))
    text = _decode(raw, name, what)

    columns: list[str] | None = list(names) if header is False else None
    in_file: dict[str, str] = {}  # column → its name in the file, when ``rename`` changed it
    cells: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(_lines(text, comment), delimiter=sep, skipinitialspace=skipinitialspace,
                        strict=True)
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{name}: line {prev + 1}: malformed {sep_name}-separated row "
                            f"({exc})") from None
        start, prev = prev + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if columns is None:
            fields = [c.strip() for c in row]
            if header == "optional":
                columns = list(names)
                if [f.lower() for f in fields] == [str(n).lower() for n in names]:
                    continue  # the optional header line
            else:
                columns = [f or f"Unnamed: {i}" for i, f in enumerate(fields)]
                if rename is not None:
                    renamed = [rename(c) for c in columns]
                    in_file = {r: c for r, c in zip(renamed, columns) if r != c}
                    columns = renamed
                dup = sorted({c for c in columns if columns.count(c) > 1})
                if dup:
                    raise DataError(f"{name}: line {start}: duplicated column name(s) {dup} in "
                                    f"the header of the {what} (columns {fields})")
                continue
        if len(row) != len(columns):
            raise DataError(f"{name}: line {start}: expected {len(columns)} {sep_name}-separated "
                            f"fields ({columns}), got {len(row)}: "
                            f"{sep.join(row)[:80]!r}")
        cells.append(row)
        lines.append(start)
    if columns is None:  # nothing but blank or comment lines
        if min_rows > 0:
            raise DataError(f"{name}: the {what} has no header and no data rows; expected a "
                            f"{sep_name}-separated table"
                            + (f" with columns {list(required_columns)}"
                               if required_columns else ""))
        columns = list(names or required_columns)
    if len(cells) < min_rows:
        raise DataError(f"{name}: the {what} has {'a header but ' if header else ''}"
                        f"{len(cells)} data row(s); expected at least {min_rows}")
    missing_cols = [c for c in required_columns if c not in columns]
    if missing_cols:
        raise DataError(f"{name}: missing column(s) {missing_cols} in the {what}; expected at "
                        f"least {list(required_columns)}, found {columns}")
    df = pd.DataFrame({c: [r[j] for r in cells] for j, c in enumerate(columns)},
                      columns=columns, dtype=object)
    line_no = np.asarray(lines, dtype=np.int64)

    def col(c: str) -> str:  # a column as named in messages
        return f"{in_file[c]!r} (read as {c!r})" if c in in_file else repr(c)

    if isinstance(id_column, int) and not isinstance(id_column, bool):
        id_column = columns[id_column] if -len(columns) <= id_column < len(columns) else None
    nums, ints = _selected(numeric_columns, columns), _selected(int_columns, columns)
    allowed = set(columns) if allow_missing is True else set(allow_missing or ())
    checked = [c for c in dict.fromkeys([*required_columns, *nums, *ints,
                                         *([id_column] if id_column else [])])
               if c not in allowed]
    for c in checked:
        miss = _missing_mask(df[c].tolist())
        if miss.any():
            i = int(np.flatnonzero(miss)[0])
            kind = "a number" if c in nums else "an integer" if c in ints else "a value"
            raise DataError(f"{name}: line {line_no[i]}, column {col(c)}: missing value "
                            f"{df[c].iloc[i]!r} ({int(miss.sum())} missing in this column of "
                            f"the {what}); expected {kind}")
    for c in dict.fromkeys([*nums, *ints]):
        raw_values = df[c].tolist()
        miss = _missing_mask(raw_values)
        stripped = ["nan" if m else x.strip() for m, x in zip(miss, raw_values)]
        v = pd.to_numeric(pd.Series(stripped, dtype=object), errors="coerce"
                          ).to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v) & ~miss
        is_int = c in ints
        if is_int:
            bad |= np.isfinite(v) & (v != np.round(v))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            kind = "an integer (code)" if is_int else "a finite number"
            raise DataError(f"{name}: line {line_no[i]}, column {col(c)}: {df[c].iloc[i]!r} is "
                            f"not {kind} ({int(bad.sum())} such value(s) in this column of "
                            f"the {what})")
        if not is_int:
            df[c] = v
        elif miss.any():  # allowed missing values: a nullable integer column
            df[c] = pd.array([pd.NA if m else int(x) for m, x in zip(miss, v)], dtype="Int64")
        else:
            df[c] = v.astype(np.int64)
    if id_column is not None and id_column in df.columns:
        dup = df[id_column].duplicated(keep=False).to_numpy()
        if dup.any():
            first = _py(df[id_column].iloc[int(np.flatnonzero(dup)[0])])
            at = line_no[(df[id_column] == first).to_numpy()].tolist()
            n_dup = int(df[id_column][dup].nunique())
            raise DataError(f"{name}: ID {first!r} (column {col(id_column)}) appears on lines "
                            f"{', '.join(map(str, at))} of the {what}; IDs must be unique "
                            f"({n_dup} duplicated ID(s))")
    if line_column is not None:
        df[line_column] = line_no
    return df


def check_split_ids(tables: Sequence[tuple[str | os.PathLike[str], pd.DataFrame]],
                    id_column: str, *, label_column: str | None = None,
                    line_column: str | None = None, allow_repeats: bool = False,
                    what: str = "split files") -> None:
    """Check IDs across several (split) files: no conflicting labels, no repeats.

    ``tables`` are ``(file, table)`` pairs. With ``label_column``, an ID that carries two
    different labels (in two files, or twice in one) → :class:`DataError` naming the ID,
    both labels, both files (and lines, with ``line_column``). Unless ``allow_repeats``,
    an ID listed in more than one file → :class:`DataError` naming the ID and both files
    (split files must be disjoint). Labels are compared as values (lists as tuples).

    Notebooks: 02_emoclim2024, 04_zhu2023 (real-data paths: EMOPIA, MagnaTagATune,
    AudioSet).
    """
    parts = []
    for k, (f, t) in enumerate(tables):
        if id_column not in t.columns:
            raise ValueError(f"{_name(f)}: no column {id_column!r} to check")
        d = pd.DataFrame({"id": t[id_column].to_numpy(), "file": k,
                          "line": (t[line_column].to_numpy() if line_column else -1)})
        if label_column is not None:
            d["label"] = [tuple(v) if isinstance(v, (list, np.ndarray)) else v
                          for v in t[label_column]]
        parts.append(d)
    if not parts:
        return
    df = pd.concat(parts, ignore_index=True)
    rep = df[df["id"].duplicated(keep=False)]
    if rep.empty:
        return
    files = [_name(f) for f, _ in tables]

    def at(r: pd.Series) -> str:
        return files[int(r["file"])] + (f" (line {int(r['line'])})" if r["line"] >= 0 else "")

    if label_column is not None:
        n_labels = rep.groupby("id", sort=False)["label"].nunique()
        conflicts = n_labels[n_labels > 1]
        if len(conflicts):
            rows = rep[rep["id"] == conflicts.index[0]]
            a = rows.iloc[0]
            b = rows[rows["label"] != a["label"]].iloc[0]
            raise DataError(f"{what}: ID {_py(a['id'])!r} has conflicting {label_column!r} "
                            f"labels: {_py(a['label'])!r} in {at(a)} and {_py(b['label'])!r} in "
                            f"{at(b)} "
                            f"({len(conflicts)} ID(s) with conflicting labels)")
    if not allow_repeats:
        n_files = rep.groupby("id", sort=False)["file"].nunique()
        across = n_files[n_files > 1]
        if len(across):
            rows = rep[rep["id"] == across.index[0]]
            a = rows.iloc[0]
            b = rows[rows["file"] != a["file"]].iloc[0]
            raise DataError(f"{what}: ID {_py(a['id'])!r} is listed in both {at(a)} and {at(b)}; "
                            f"split files must be disjoint ({len(across)} ID(s) in more "
                            "than one file)")
