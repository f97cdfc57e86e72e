"""Atomic file writing: nothing already written is lost or left half-written.

Every file the compendium writes (tables, figures, cached data, checkpoints) goes through
these helpers: the content is written to a temporary file in the same directory and then
renamed over the target, which is atomic on POSIX file systems. :func:`atomic_dir` removes
the folders that killed builds left behind (:func:`remove_stale_partials`), and
:func:`file_identity` is how every feature and embedding cache names an input file.
:func:`load_image` decodes an image file (the readers and the image encoders use it).

Notebooks: all (tables, figures and caches are written through these helpers).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_path", "atomic_dir",
           "remove_stale_partials", "file_identity", "STALE_PARTIAL_SECONDS",
           "IMAGE_EXTENSIONS", "load_image"]

log = logging.getLogger(__name__)

#: A ``.partial`` folder in which nothing was written for this long is a killed build's.
STALE_PARTIAL_SECONDS = 30 * 60


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    Use it with writers that want a file name (``plt.savefig``, ``soundfile.write``,
    ``torch.save``). On an exception the temporary file is removed and ``target`` is
    left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # keep the target's extension last: writers such as soundfile/savefig infer the format
    suffix = (target.suffix if suffix is None else suffix) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically (``\\n`` newlines) and return the target path."""
    return atomic_write_bytes(target, text.encode(encoding))


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces ``target`` as a whole.

    A run killed half-way leaves only a hidden ``.<name>.pid<pid>@<host>.*.partial``
    directory behind, never a half-filled ``target``; the next ``atomic_dir(target)`` removes
    it (:func:`remove_stale_partials`). An existing ``target`` is replaced only after the
    new one is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_owner_tag()}.", suffix=".partial",
                                dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------- left-overs
_RAND = r"[A-Za-z0-9_]{8}"  # the random part of a tempfile.mkdtemp name


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _owner_tag() -> str:
    """``pid<pid>@<host>``: which process builds a ``.partial`` folder (part of its name)."""
    return f"pid{os.getpid()}@{_host()}"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when that cannot be told)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def _idle_seconds(folder: Path) -> float:
    """Seconds since anything in ``folder`` (the folder included) was last written."""
    newest = 0.0
    for dirpath, _dirs, files in os.walk(folder):
        for p in (dirpath, *(os.path.join(dirpath, f) for f in files)):
            with contextlib.suppress(OSError):
                newest = max(newest, os.lstat(p).st_mtime)
    return time.time() - newest


def remove_stale_partials(target: str | os.PathLike[str], *,
                          max_idle: float = STALE_PARTIAL_SECONDS) -> list[Path]:
    """Remove what killed :func:`atomic_dir` builds of ``target`` left next to it.

    Candidates are the hidden ``.<name>.[pid<pid>@<host>.]<8 random>.partial`` build folders
    and the ``.<name>.old.<pid>`` folders of an interrupted replacement. One is removed only
    when its build is certainly over: its process (named in the folder's name, on this
    host) no longer exists, or nothing in it was written for ``max_idle`` seconds (folders
    of other hosts, and ones made before folder names carried a pid). Folders of live builds
    and everything else next to ``target`` are left alone. Each removal is logged at WARNING.
    Returns the removed folders. Notebooks: all (through ``make_world`` → :func:`atomic_dir`).
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    name = re.escape(target.name)
    partial = re.compile(rf"\.{name}\.(?:pid(\d+)@([A-Za-z0-9-]+)\.)?{_RAND}\.partial")
    old = re.compile(rf"\.{name}\.old\.(\d+)")
    host, removed = _host(), []
    for p in sorted(target.parent.iterdir()):
        m = partial.fullmatch(p.name)
        o = old.fullmatch(p.name) if m is None else None
        if (m is None and o is None) or not p.is_dir() or p.is_symlink():
            continue
        pid = int(m.group(1)) if m is not None and m.group(1) else (
            int(o.group(1)) if o is not None else None)
        same_host = o is not None or (m is not None and m.group(2) == host)
        if pid is not None and same_host and not _pid_alive(pid):
            why = f"its process {pid} is gone"
        elif (pid is None or not same_host) and _idle_seconds(p) > max_idle:
            why = f"nothing written in it for over {max_idle:.0f} s"
        else:
            continue
        shutil.rmtree(p, ignore_errors=True)
        if p.exists():
            log.warning("could not remove the stale build folder %s (%s)", p, why)
            continue
        log.warning("removed the stale build folder %s left by a killed build of %s (%s)",
                    p, target.name, why)
        removed.append(p)
    return removed


# ---------------------------------------------------------------------------- identity
def file_identity(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """``(resolved path, size in bytes, mtime in ns)`` of an existing file.

    The identity of an input file in cache keys: a file replaced or rewritten in place gets
    a new size or mtime, so caches keyed on it are recomputed instead of serving stale
    arrays. A missing path or a folder raises ``FileNotFoundError`` naming it.
    Notebooks: 01_won2021, 03_chowdhury2023, 04_zhu2023 (``features.cached_features``,
    ``audio.cached_chunk_embeddings``, ``midlevel.spectrogram_cached``, the transcriber's
    feature cache and checkpoint key).
    """
    resolved = Path(path).resolve()
    try:
        st = resolved.stat()
    except OSError as err:
        raise FileNotFoundError(f"file {str(path)!r} not found ({err.strerror})") from err
    if not stat.S_ISREG(st.st_mode):
        raise FileNotFoundError(f"{str(path)!r} is not a regular file")
    return str(resolved), int(st.st_size), int(st.st_mtime_ns)


# ---------------------------------------------------------------------------- images
#: File extensions counted as images (case-insensitive).
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


def load_image(path: str | os.PathLike[str], size: int | None = None) -> torch.Tensor:
    """Decode an image file as an RGB float tensor (3, H, W) in [0, 1] (optionally resized²).

    An absent file → ``FileNotFoundError``; an empty or undecodable file →
    :class:`~emolib.data.files.DataError`, both naming the file.

    Notebook: 02_emoclim2024 (real-data path; also through
    :func:`emolib.encoders.image.load_images`).
    """
    import numpy as np
    import torch
    from PIL import Image

    from emolib.data.files import DataError

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"image file not found: {p.absolute()}")
    if p.stat().st_size == 0:
        raise DataError(f"{p.absolute()}: image file is empty (0 bytes)")
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if size is not None:
                im = im.resize((size, size), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except (OSError, ValueError) as exc:
        raise DataError(f"{p.absolute()}: cannot decode image ({exc}); expected a "
                        f"{'/'.join(IMAGE_EXTENSIONS)} image") from exc
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()
