"""emolib.listen: deterministic Ogg Vorbis players for the notebooks."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from emolib.listen import OGG_SERIAL, encode_ogg, fix_ogg_serial, ogg_crc, player


def _tone(seconds: float = 2.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-t)).astype(np.float32)


def _pages(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every Ogg page."""
    out, pos = [], 0
    while pos < len(data):
        n = data[pos + 26]
        end = pos + 27 + n + sum(data[pos + 27:pos + 27 + n])
        out.append((pos, end))
        pos = end
    return out


def _raw_ogg(y: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="OGG", subtype="VORBIS")
    return buf.getvalue()


def test_crc_matches_libogg_on_libsndfile_pages():
    # libogg wrote these checksums; ours must recompute each of them
    raw = _raw_ogg(_tone(), 16000)
    pages = _pages(raw)
    assert len(pages) >= 3
    for start, end in pages:
        page = bytearray(raw[start:end])
        stored = struct.unpack_from("<I", page, 22)[0]
        struct.pack_into("<I", page, 22, 0)
        assert ogg_crc(bytes(page)) == stored


def test_crc_hand_computed():
    assert ogg_crc(b"") == 0
    # one byte 0x01: the table entry for index 1 is the polynomial itself
    assert ogg_crc(b"\x01") == 0x04C11DB7


def test_same_samples_same_bytes_and_decodable():
    y = _tone()
    a, b = encode_ogg(y, 16000), encode_ogg(y, 16000)
    assert a == b
    for start, _ in _pages(a):
        assert struct.unpack_from("<I", a, start + 14)[0] == OGG_SERIAL
    z, sr = sf.read(io.BytesIO(a), dtype="float32")  # libogg checks every page's CRC
    assert sr == 16000 and len(z) == len(y)
    assert np.corrcoef(z, y)[0, 1] > 0.99
    assert len(a) < 0.2 * 2 * len(y)  # far smaller than 16-bit PCM


def test_fix_serial_keeps_the_audio():
    y = _tone(1.0)
    raw = _raw_ogg(y, 16000)
    fixed = fix_ogg_serial(raw, 7)
    assert len(fixed) == len(raw)
    z0, _ = sf.read(io.BytesIO(raw), dtype="float32")
    z1, _ = sf.read(io.BytesIO(fixed), dtype="float32")
    np.testing.assert_array_equal(z0, z1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="not an Ogg page"):
        fix_ogg_serial(b"RIFF" + bytes(40))
    raw = _raw_ogg(_tone(0.5), 16000)
    with pytest.raises(ValueError, match="runs past the end"):
        fix_ogg_serial(raw[:-10])
    with pytest.raises(ValueError, match="1-D"):
        encode_ogg(np.zeros((2, 100), np.float32), 16000)
    with pytest.raises(ValueError, match="non-finite"):
        encode_ogg(np.array([0.0, np.nan], np.float32), 16000)
    with pytest.raises(ValueError, match="sample rate"):
        encode_ogg(_tone(0.1), 0)
    with pytest.raises(ValueError, match="quality"):
        encode_ogg(_tone(0.1), 16000, quality=2.0)


def test_player_labels_ogg():
    html = player(_tone(0.5), 16000)._repr_html_()
    assert "data:audio/ogg;base64," in html
