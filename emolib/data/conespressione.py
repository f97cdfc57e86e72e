"""Reader for the Con Espressione dataset (Cancino-Chacón et al., ISMIR 2020).

The *Con Espressione Game* collected free-text characterisations of 45 performances of 9
classical piano pieces (1462 answers). The answers file
(``con_espressione_game_answers.csv``) has one row per answer with at least the columns
``music_id`` (the performance), ``answer`` (free text), ``piece_name`` (e.g. ``bach``,
``schumann_arabeske_excerpt1``) and ``performer`` (e.g. ``Gould``, ``MIDI``); usually
also ``participant_id``. The recordings are distributed separately; two folder layouts
are in use and both are supported (``.wav``, ``.mp3`` or ``.flac``):

* files prefixed by the zero-padded music id, ``05_<anything>.wav`` (the authors' repo,
  ``scripts/utils.get_file_from_id``);
* ``<piece>_<performer>.wav`` with the piece name's ``_`` → ``-`` and ``excerpt`` removed
  and the performer lower-cased (e.g. ``schumann-arabeske-1_gould.wav``).

:func:`load_con_espressione` returns the same two tables the emotion world provides
(``performances``, ``descriptions``), so notebook 03 runs unchanged on the real data;
the real data have no ground-truth mid-level values (the mid-level model predicts them).

Notebook: 03_chowdhury2023.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from emolib.data.files import is_missing, read_csv

__all__ = ["ANSWER_COLUMNS", "ANSWERS_FILE", "read_answers", "find_audio",
           "performances_table", "load_con_espressione", "aggregate_descriptions"]

#: Required columns of the answers CSV.
ANSWER_COLUMNS: tuple[str, ...] = ("music_id", "answer", "piece_name", "performer")
ANSWERS_FILE = "con_espressione_game_answers.csv"
_AUDIO_EXT = (".wav", ".mp3", ".flac")


def read_answers(csv_path: str | Path) -> pd.DataFrame:
    """Read the answers CSV into the world's ``descriptions`` layout.

    Columns: ``description_id`` (row number), ``performance_id`` (music id as a string),
    ``piece_id`` (piece_name), ``performer``, ``listener_id`` (participant_id or ""),
    ``text`` (the answer, stripped). Rows with an empty answer (``''``, ``'n/a'``, …) are
    dropped. A missing file → ``FileNotFoundError``; an empty or header-only file, bytes
    that are not UTF-8, missing columns, a missing ``music_id``/``piece_name``/``performer``
    or a non-integer ``music_id`` → :class:`~emolib.data.files.DataError` naming the file
    (and column and line).

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    df = read_csv(csv_path, what="Con Espressione answers file", required_columns=ANSWER_COLUMNS,
                  int_columns=("music_id",), allow_missing=("answer", "participant_id"))
    df = df[~is_missing(df["answer"])]
    out = pd.DataFrame({
        "description_id": [f"ce{i:05d}" for i in range(len(df))],
        "performance_id": df["music_id"].astype(str).to_numpy(),
        "piece_id": df["piece_name"].astype(str).to_numpy(),
        "performer": df["performer"].astype(str).to_numpy(),
        "listener_id": (df["participant_id"].where(~is_missing(df["participant_id"]), "")
                        .astype(str).to_numpy() if "participant_id" in df.columns else ""),
        "text": df["answer"].astype(str).str.strip().to_numpy(),
    })
    return out.reset_index(drop=True)


def _layout_name(piece: str, performer: str) -> str:
    return f"{piece.replace('_', '-').replace('excerpt', '')}_{performer.lower()}"


def find_audio(audio_dir: str | Path, music_id: int | str, piece: str, performer: str) -> Path:
    """The recording of one performance; ``FileNotFoundError`` naming it when absent.

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise FileNotFoundError(f"Con Espressione audio folder not found: {audio_dir}")
    prefix = f"{int(music_id):02d}_"
    stem = _layout_name(piece, performer)
    files = sorted(p for p in audio_dir.rglob("*") if p.suffix.lower() in _AUDIO_EXT)
    hits = [p for p in files if p.name.startswith(prefix)] or \
           [p for p in files if p.stem.lower() == stem.lower()]
    if not hits:
        raise FileNotFoundError(
            f"no audio for Con Espressione performance music_id={music_id} ({piece}, {performer}) "
            f"in {audio_dir}: expected '{prefix}*' or '{stem}' "
            f"with extension {'/'.join(_AUDIO_EXT)}")
    return hits[0]


def performances_table(descriptions: pd.DataFrame, audio_dir: str | Path | None) -> pd.DataFrame:
    """One row per performance: ``performance_id, piece_id, performer, audio_path``.

    With ``audio_dir=None`` the ``audio_path`` column is empty (text-only use).

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    perf = (descriptions.groupby("performance_id", sort=False)
            .agg(piece_id=("piece_id", "first"), performer=("performer", "first"))
            .reset_index())
    perf = (perf.sort_values(["piece_id", "performance_id"], key=lambda s: s.map(str))
            .reset_index(drop=True))
    perf["audio_path"] = ([str(find_audio(audio_dir, r.performance_id, r.piece_id, r.performer))
                           for r in perf.itertuples()] if audio_dir is not None else "")
    return perf


def load_con_espressione(root: str | Path, audio_subdir: str | None = None
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(performances, descriptions)`` from a Con Espressione folder.

    ``root`` holds ``con_espressione_game_answers.csv`` and an audio folder (``audio_subdir``,
    else the first of ``audio_all``, ``audio``).

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    root = Path(root)
    descriptions = read_answers(root / ANSWERS_FILE)
    if audio_subdir is None:
        audio_subdir = next((d for d in ("audio_all", "audio") if (root / d).is_dir()), "audio_all")
    return performances_table(descriptions, root / audio_subdir), descriptions


def aggregate_descriptions(descriptions: pd.DataFrame, sep: str = ", ") -> pd.DataFrame:
    """All answers of a performance joined into one text (the paper's "aggregated answers").

    Returns ``performance_id, piece_id, text, n_answers`` in first-appearance order.

    Notebook: 03_chowdhury2023.
    """
    return (descriptions.groupby("performance_id", sort=False)
            .agg(piece_id=("piece_id", "first"), text=("text", sep.join),
                 n_answers=("text", "size"))
            .reset_index())
