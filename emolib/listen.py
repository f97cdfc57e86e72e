"""Audio players for the notebooks: clips embedded as Ogg Vorbis, byte-identical per clip.

A notebook that lets its reader *hear* the emotion world embeds every clip in the
``.ipynb`` (and, through it, in the rendered book). IPython's ``Audio`` embeds 16-bit WAV:
about 43 kB per second at 16 kHz, base64-encoded. :func:`player` embeds Ogg Vorbis
instead (libsndfile's encoder, through ``soundfile``; quality 0.5 by default, roughly a
tenth of the size), which every current browser decodes.

libsndfile gives each Ogg stream a random serial number, so the same samples would encode
to different bytes on every run and the committed notebooks would change for nothing.
:func:`encode_ogg` rewrites the serial number of every page to a fixed value and
recomputes the page checksums (Ogg's CRC-32, RFC 3533 §6), so the same samples at the same
rate give the same bytes.

Notebook: 00_tour (listening to the world).
"""
from __future__ import annotations

import io
import struct

import numpy as np

__all__ = ["OGG_SERIAL", "ogg_crc", "fix_ogg_serial", "encode_ogg", "player"]

#: The stream serial number every page gets (any fixed value would do).
OGG_SERIAL = 0x454D4F4C  # "EMOL"

_CRC_TABLE: list[int] = []
for _i in range(256):
    _r = _i << 24
    for _ in range(8):
        _r = ((_r << 1) ^ 0x04C11DB7) if _r & 0x80000000 else (_r << 1)
    _CRC_TABLE.append(_r & 0xFFFFFFFF)


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32 with polynomial 0x04C11DB7, not reflected, initial value
    and final XOR 0 (RFC 3533 §6), over the page with its checksum field zeroed."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) ^ b) & 0xFF]
    return crc


def fix_ogg_serial(data: bytes, serial: int = OGG_SERIAL) -> bytes:
    """``data`` (one logical Ogg stream) with every page's serial number set to ``serial``
    and its checksum recomputed. Raises ``ValueError`` if ``data`` is not a sequence of
    whole Ogg pages."""
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos:pos + 4] != b"OggS" or pos + 27 > len(out):
            raise ValueError(f"not an Ogg page at byte {pos} of {len(out)}")
        n_segments = out[pos + 26]
        body = sum(out[pos + 27:pos + 27 + n_segments])
        end = pos + 27 + n_segments + body
        if end > len(out):
            raise ValueError(f"the Ogg page at byte {pos} runs past the end of the data")
        struct.pack_into("<I", out, pos + 14, serial)
        struct.pack_into("<I", out, pos + 22, 0)
        struct.pack_into("<I", out, pos + 22, ogg_crc(bytes(out[pos:end])))
        pos = end
    return bytes(out)


def encode_ogg(audio: np.ndarray, sr: int, *, quality: float = 0.5) -> bytes:
    """Mono ``audio`` (float, in [-1, 1]) at ``sr`` Hz as Ogg Vorbis bytes, deterministic:
    the same samples give the same bytes (:func:`fix_ogg_serial`). ``quality`` in [0, 1]
    (libsndfile's VBR quality; 0.5 ≈ 64 kbit/s for music at 16 kHz)."""
    import soundfile as sf

    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or not len(y):
        raise ValueError(f"audio must be a non-empty 1-D array, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("audio has non-finite samples")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    if not 0.0 <= quality <= 1.0:
        raise ValueError(f"quality must be in [0, 1], got {quality!r}")
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=int(sr), channels=1, format="OGG", subtype="VORBIS",
                      compression_level=1.0 - quality) as f:  # libsndfile: 0 = best quality
        f.write(np.clip(y, -1.0, 1.0))
    return fix_ogg_serial(buf.getvalue())


def player(audio: np.ndarray, sr: int, *, quality: float = 0.5):
    """An ``IPython.display.Audio`` player of ``audio`` embedded as Ogg Vorbis
    (:func:`encode_ogg`), for ``display(...)`` in a notebook."""
    from IPython.display import Audio

    widget = Audio(data=encode_ogg(audio, sr, quality=quality))
    widget.mimetype = "audio/ogg"  # IPython labels raw bytes audio/wav
    return widget
