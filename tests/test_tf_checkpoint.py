"""Tests for emolib.encoders.tf_checkpoint: CRC-32C check values, the protobuf and SSTable
decoding on tensor bundles this file writes itself (prefix-compressed keys, restart points,
several data blocks, two shards), clear errors for corrupt or unsupported files, and the
four real musicnn checkpoints (every CRC verifies, shapes, the data shard is exactly the
tensors' bytes)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from emolib.encoders import tf_checkpoint as tc

MUSICNN_MODELS = ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg")


# --------------------------------------------------------------------------------------
# a minimal tensor-bundle writer (LevelDB table format), independent of the reader
# --------------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _f_varint(field: int, v: int) -> bytes:
    return _key(field, 0) + _varint(v)


def _f_bytes(field: int, b: bytes) -> bytes:
    return _key(field, 2) + _varint(len(b)) + b


def _f_fixed32(field: int, v: int) -> bytes:
    return _key(field, 5) + struct.pack("<I", v)


_DTYPE_CODES = {np.dtype("float32"): 1, np.dtype("int32"): 3, np.dtype("int64"): 9,
                np.dtype("bool"): 10, np.dtype("float16"): 19, np.dtype("uint8"): 4}


def _entry_proto(arr: np.ndarray, shard: int, offset: int, *, dtype_code: int | None = None,
                 crc: int | None = None) -> bytes:
    shape = b"".join(_f_bytes(2, _f_varint(1, d)) for d in arr.shape)
    raw = arr.tobytes()
    code = _DTYPE_CODES[arr.dtype] if dtype_code is None else dtype_code
    crc = tc.mask_crc(tc.crc32c(raw)) if crc is None else crc
    out = _f_varint(1, code) + _f_bytes(2, shape)
    if shard:
        out += _f_varint(3, shard)
    if offset:
        out += _f_varint(4, offset)
    return out + _f_varint(5, len(raw)) + _f_fixed32(6, crc)


def _block(entries: list[tuple[bytes, bytes]], restart_interval: int) -> bytes:
    out = bytearray()
    restarts = []
    prev = b""
    for i, (key, value) in enumerate(entries):
        if i % restart_interval == 0:
            restarts.append(len(out))
            shared = 0
        else:
            shared = len(os.path.commonprefix([prev, key]))
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        out += key[shared:] + value
        prev = key
    restarts = restarts or [0]
    out += struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _with_trailer(block: bytes, kind: int = 0) -> bytes:
    return block + bytes([kind]) + struct.pack("<I", tc.mask_crc(tc.crc32c(block + bytes([kind]))))


def write_table(path: Path, entries: list[tuple[bytes, bytes]], *, per_block: int = 2,
                restart_interval: int = 2, kind: int = 0) -> None:
    """An SSTable: data blocks of ``per_block`` entries, an empty metaindex, an index."""
    data = bytearray()
    index = []
    for i in range(0, len(entries), per_block):
        chunk = entries[i:i + per_block]
        handle = _varint(len(data)) + _varint(len(_block(chunk, restart_interval)))
        data += _with_trailer(_block(chunk, restart_interval), kind)
        index.append((chunk[-1][0], handle))  # the block's last key is a valid separator
    meta_handle = _varint(len(data)) + _varint(len(_block([], 1)))
    data += _with_trailer(_block([], 1))
    index_handle = _varint(len(data)) + _varint(len(_block(index, 1)))
    data += _with_trailer(_block(index, 1))
    footer = (meta_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", tc.TABLE_MAGIC)
    path.write_bytes(bytes(data) + footer)


def write_bundle(prefix: Path | str, tensors: dict[str, np.ndarray], *, num_shards: int = 1,
                 endianness: int = 0, **table_kw) -> None:
    """A TF tensor bundle: ``<prefix>.index`` + ``<prefix>.data-0000i-of-0000N``."""
    shards = [bytearray() for _ in range(num_shards)]
    entries = []
    for i, name in enumerate(sorted(tensors)):
        arr = np.array(tensors[name], order="C")  # keeps 0-d arrays 0-d
        shard = i % num_shards
        entries.append((name.encode(), _entry_proto(arr, shard, len(shards[shard]))))
        shards[shard] += arr.tobytes()
    header = _f_varint(1, num_shards) + (_f_varint(2, endianness) if endianness else b"")
    header += _f_bytes(3, _f_varint(1, 1))  # VersionDef producer 1
    write_table(Path(f"{prefix}.index"), [(b"", header)] + entries, **table_kw)
    for i, data in enumerate(shards):
        Path(f"{prefix}.data-{i:05d}-of-{num_shards:05d}").write_bytes(bytes(data))


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "conv2d/kernel": rng.standard_normal((7, 3, 1, 4)).astype(np.float32),
        "conv2d/bias": rng.standard_normal(4).astype(np.float32),
        "conv2d/kernel/Adam": np.zeros((7, 3, 1, 4), np.float32),
        "conv2d_1/kernel": rng.standard_normal((2, 2)).astype(np.float16),
        "global_step": np.array(1234, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "counts": np.arange(5, dtype=np.int32),
        "bytes": np.arange(256, dtype=np.uint8),
        "empty": np.zeros((0, 3), np.float32),
    }


# --------------------------------------------------------------------------------------
# CRC-32C and protobuf
# --------------------------------------------------------------------------------------
def test_crc32c_check_values():
    assert tc.crc32c(b"123456789") == 0xE3069283  # the CRC catalogue's check value
    assert tc.crc32c(b"") == 0
    # RFC 3720 (iSCSI) B.4 test vectors
    assert tc.crc32c(bytes(32)) == 0x8A9136AA
    assert tc.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert tc.crc32c(bytes(range(32))) == 0x46DD794E
    assert tc.crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C


@pytest.mark.parametrize("n", [65537, 200_003])
@pytest.mark.parametrize("lanes", [4096, 61])
def test_crc32c_lanes_equal_the_byte_loop(n, lanes):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert tc.crc32c(data, lanes=lanes) == tc.crc32c(data, lanes=1)
    assert tc.crc32c(data[:-1], lanes=lanes) != tc.crc32c(data, lanes=lanes)


def test_mask_is_leveldb_and_invertible():
    crc = tc.crc32c(b"123456789")
    assert tc.mask_crc(crc) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) % 2**32
    for v in (0, 1, 0xFFFFFFFF, 0xE3069283, 0x12345678):
        assert tc.unmask_crc(tc.mask_crc(v)) == v


def test_decode_message_fields():
    msg = _f_varint(1, 300) + _f_bytes(2, b"abc") + _f_fixed32(6, 0xDEADBEEF) + _f_varint(4, 2**40)
    assert tc.decode_message(msg) == [(1, 0, 300), (2, 2, b"abc"), (6, 5, 0xDEADBEEF),
                                      (4, 0, 2**40)]
    assert tc.decode_varint(_varint(-1), 0) == (2**64 - 1, 10)
    with pytest.raises(ValueError, match="truncated"):
        tc.decode_message(_f_bytes(2, b"abc")[:-1])
    with pytest.raises(ValueError, match="wire type 3"):
        tc.decode_message(_key(1, 3))


# --------------------------------------------------------------------------------------
# hand-built bundles
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_shards", [1, 2])
def test_reads_a_hand_built_bundle(tmp_path, num_shards):
    tensors = _tensors()
    write_bundle(tmp_path / "ckpt", tensors, num_shards=num_shards, per_block=3,
                 restart_interval=2)
    index = tc.read_index(tmp_path / "ckpt")
    assert index.num_shards == num_shards and index.version == (1, 0)
    assert list(index.entries) == sorted(tensors)  # key order, prefix-decompressed
    listed = tc.list_tensors(tmp_path / "ckpt")
    assert listed == {k: (v.dtype, v.shape) for k, v in tensors.items()}
    got = tc.read_checkpoint(tmp_path / "ckpt")
    assert set(got) == set(tensors)
    for name, arr in tensors.items():
        assert got[name].dtype == arr.dtype and got[name].shape == arr.shape
        assert np.array_equal(got[name], arr), name
    sizes = sum(os.path.getsize(index.shard_path(i)) for i in range(num_shards))
    assert sizes == sum(e.size for e in index.entries.values())


def test_directory_prefix_means_empty_stem(tmp_path):
    folder = tmp_path / "MTT_like"
    folder.mkdir()
    write_bundle(f"{folder}/", {"a": np.ones(3, np.float32)})  # folder/.index as musicnn
    assert (folder / ".index").exists()
    assert np.array_equal(tc.read_checkpoint(folder)["a"], np.ones(3, np.float32))


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_corrupt_tensor_bytes_fail_the_crc_naming_the_tensor(tmp_path):
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32),
                                  "b": np.arange(6, dtype=np.float32)})
    _flip(tmp_path / "c.data-00000-of-00001", 20)  # inside "b" (a is 16 bytes)
    message = r"c\.data-00000-of-00001: CRC-32C mismatch for tensor 'b'"
    with pytest.raises(ValueError, match=message):
        tc.read_checkpoint(tmp_path / "c")
    assert tc.read_checkpoint(tmp_path / "c", verify=False)["b"].shape == (6,)


def test_corrupt_index_block_fails_its_crc(tmp_path):
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32)})
    _flip(tmp_path / "c.index", 3)
    with pytest.raises(ValueError, match=r"c\.index: CRC mismatch in data block"):
        tc.read_index(tmp_path / "c")


def test_bad_magic_and_truncation(tmp_path):
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32)})
    index = tmp_path / "c.index"
    data = index.read_bytes()
    index.write_bytes(data[:-1] + b"\0")
    with pytest.raises(ValueError, match="bad table magic"):
        tc.read_index(tmp_path / "c")
    index.write_bytes(data[:20])
    with pytest.raises(ValueError, match="too short for an SSTable"):
        tc.read_index(tmp_path / "c")
    index.write_bytes(data[10:])
    with pytest.raises(ValueError, match="c.index"):
        tc.read_index(tmp_path / "c")


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.index.*expected the \.index file"):
        tc.read_index(tmp_path / "nothing")
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32)}, num_shards=2)
    os.remove(tmp_path / "c.data-00000-of-00002")
    with pytest.raises(FileNotFoundError, match=r"c\.data-00000-of-00002: data shard 0 of 2"):
        tc.read_checkpoint(tmp_path / "c")


def test_truncated_data_shard(tmp_path):
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32)})
    shard = tmp_path / "c.data-00000-of-00001"
    shard.write_bytes(shard.read_bytes()[:10])
    with pytest.raises(ValueError, match="truncated data file"):
        tc.read_checkpoint(tmp_path / "c")


def test_compressed_blocks_are_refused(tmp_path):
    write_bundle(tmp_path / "c", {"a": np.arange(4, dtype=np.float32)}, kind=1)
    with pytest.raises(ValueError, match=r"compressed \(snappy\); only uncompressed"):
        tc.read_index(tmp_path / "c")


def test_big_endian_and_unsupported_dtypes_are_refused(tmp_path):
    write_bundle(tmp_path / "big", {"a": np.arange(4, dtype=np.float32)}, endianness=1)
    with pytest.raises(ValueError, match="big-endian"):
        tc.read_index(tmp_path / "big")
    arr = np.arange(4, dtype=np.float32)
    header = _f_varint(1, 1)
    entry = _entry_proto(arr, 0, 0, dtype_code=7)
    write_table(tmp_path / "s.index", [(b"", header), (b"names", entry)])
    (tmp_path / "s.data-00000-of-00001").write_bytes(arr.tobytes())
    with pytest.raises(ValueError, match="'names' has dtype DT_STRING"):
        tc.read_index(tmp_path / "s")


def test_wrong_size_in_entry_is_refused(tmp_path):
    arr = np.arange(4, dtype=np.float32)
    entry = _f_varint(1, 1) + _f_bytes(2, _f_bytes(2, _f_varint(1, 4))) + _f_varint(5, 12)
    write_table(tmp_path / "w.index", [(b"", _f_varint(1, 1)), (b"x", entry)])
    (tmp_path / "w.data-00000-of-00001").write_bytes(arr.tobytes())
    with pytest.raises(ValueError, match="'x' has 12 bytes, expected 16"):
        tc.read_index(tmp_path / "w")


# --------------------------------------------------------------------------------------
# the real musicnn checkpoints
# --------------------------------------------------------------------------------------
def _musicnn_dir() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("musicnn is not installed (requirements-nodeps.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.mark.parametrize("model", MUSICNN_MODELS)
def test_real_checkpoint_crcs_shapes_and_sizes(model):
    prefix = tc.resolve_prefix(_musicnn_dir() / model)
    index = tc.read_index(prefix)
    assert index.num_shards == 1
    shard = Path(index.shard_path(0)).read_bytes()
    entries = sorted(index.entries.values(), key=lambda e: e.offset)
    # the shard is exactly the tensors, back to back, and its size is their total size
    assert sum(e.size for e in entries) == len(shard)
    assert [e.offset for e in entries] == list(np.cumsum([0] + [e.size for e in entries[:-1]]))
    for e in entries:  # TF stores the masked CRC (never the plain one)
        crc = tc.crc32c(shard[e.offset:e.offset + e.size])
        assert e.crc32c == tc.mask_crc(crc) and e.crc32c != crc, e.name
    tensors = tc.read_checkpoint(prefix)  # verifies every CRC again
    listed = tc.list_tensors(prefix)
    assert set(tensors) == set(listed) == set(index.entries)
    assert all(tensors[n].shape == s and tensors[n].dtype == d for n, (d, s) in listed.items())
    if model.endswith("musicnn"):
        assert len(listed) == 150
        assert listed["conv2d/kernel"][1] == (7, 38, 1, 204)
        assert listed["conv2d_1/kernel"][1] == (7, 67, 1, 204)
        assert listed["conv2d_2/kernel"][1] == (128, 1, 1, 51)
        assert listed["conv2d_5/kernel"][1] == (7, 561, 1, 64)
        assert listed["batch_normalization_9/gamma"][1] == (1506,)
        assert listed["dense/kernel"][1] == (1506, 200)
        assert listed["dense_1/kernel"][1] == (200, 50)
    else:
        assert len(listed) == 86
        assert listed["1CNN/kernel"][1] == (3, 3, 1, 128)
        assert listed["5CNN/kernel"][1] == (3, 3, 128, 128)
        assert listed["dense/kernel"][1] == (256, 50)
    assert listed["beta1_power"] == (np.dtype("float32"), ())
    assert all(d == np.dtype("float32") for d, _ in listed.values())


def test_corrupted_copy_of_a_real_checkpoint(tmp_path):
    src = _musicnn_dir() / "MTT_vgg"
    dst = tmp_path / "MTT_vgg"
    dst.mkdir()
    for name in (".index", ".data-00000-of-00001"):
        shutil.copy(src / name, dst / name)
    index = tc.read_index(dst)
    target = index.entries["dense/kernel"]
    _flip(dst / ".data-00000-of-00001", target.offset + 100)
    with pytest.raises(ValueError, match="CRC-32C mismatch for tensor 'dense/kernel'"):
        tc.read_checkpoint(dst)
