"""Plotting defaults and figure writing shared by the notebooks.

``set_style()`` once per notebook; ``save_figure(fig, name)`` writes ``figures/<name>``
atomically, with PNG metadata stripped so the same figure gives the same bytes, and during
a run (:func:`emolib.provenance.start_run`) the run record beside it as
``figures/<stem>.json``.

Notebooks: all.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from emolib.io import atomic_path
from emolib.paths import figures_dir
from emolib.provenance import write_run_sidecar

__all__ = ["set_style", "save_figure", "va_plane", "label_palette", "clip_strip"]


def set_style(context: str = "notebook") -> None:
    """Seaborn whitegrid style, legible fonts, fixed DPI for stable figure files."""
    sns.set_theme(context=context, style="whitegrid", palette="tab10")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "tight",
                         "axes.titleweight": "bold", "svg.hashsalt": "emolib"})


def save_figure(fig: plt.Figure, name: str, directory: Path | None = None) -> Path:
    """Save ``fig`` as ``figures/<name>`` (PNG, SVG or PDF by extension) atomically; return
    its path. During a run the run record goes beside it (``<stem>.json``,
    :func:`emolib.provenance.write_run_sidecar`)."""
    if not name.endswith((".png", ".svg", ".pdf")):
        raise ValueError(f"figure name must end with .png, .svg or .pdf, got {name!r}")
    target = (directory or figures_dir()) / name
    metadata = {"Software": None} if name.endswith(".png") else {"Date": None}
    with atomic_path(target) as tmp:
        fig.savefig(tmp, metadata=metadata)
    write_run_sidecar(target, kind="figure")
    return target


def label_palette(labels: Sequence[str], palette: str = "tab10") -> dict[str, tuple]:
    """A fixed label → colour mapping (same colours for the same label order)."""
    colours = sns.color_palette(palette, n_colors=max(len(labels), 1))
    return {lab: colours[i % len(colours)] for i, lab in enumerate(labels)}


def va_plane(ax: plt.Axes, points: dict[str, tuple[float, float]], *, marker: str = "o",
             colour: str | tuple | None = None, annotate: bool = True, size: float = 60,
             label: str | None = None) -> plt.Axes:
    """Draw labelled points on the valence–arousal plane ([0, 1]², quadrant lines at 0.5)."""
    xs = np.array([p[0] for p in points.values()])
    ys = np.array([p[1] for p in points.values()])
    ax.scatter(xs, ys, marker=marker, s=size, color=colour, label=label, zorder=3,
               edgecolor="white", linewidth=0.5)
    if annotate:
        for (name, (x, y)) in points.items():
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=9)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--", zorder=1)
    ax.axvline(0.5, color="grey", lw=0.8, ls="--", zorder=1)
    ax.set(xlim=(-0.02, 1.05), ylim=(-0.02, 1.05), xlabel="valence", ylabel="arousal")
    return ax


def clip_strip(clips: Sequence[tuple[str, np.ndarray, np.ndarray]], *,
               roll_label: str = "MIDI pitch 24–96") -> plt.Figure:
    """One column per clip: its log-mel spectrogram on top, its piano roll below.

    ``clips``: ``(title, log_mel, roll)`` per clip, ``log_mel`` ``(n_mels, frames)`` and
    ``roll`` ``(pitches, frames)`` (anything > 0 is drawn as a note), both with the lowest
    row first. Notebook: 00_tour (one clip per mood / quadrant).
    """
    if not clips:
        raise ValueError("clip_strip needs at least one (title, log_mel, roll) clip")
    fig, axes = plt.subplots(2, len(clips), figsize=(1.8 * len(clips), 3.4), squeeze=False)
    for j, (title, mel, roll) in enumerate(clips):
        axes[0, j].imshow(mel, origin="lower", aspect="auto", cmap="magma")
        axes[0, j].set(title=title, xticks=[], yticks=[])
        axes[1, j].imshow(np.asarray(roll) > 0, origin="lower", aspect="auto", cmap="Greys",
                          interpolation="nearest")
        axes[1, j].set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("log-mel")
    axes[1, 0].set_ylabel(roll_label)
    fig.tight_layout()
    return fig
