"""Read TensorFlow (TF1/TF2 ``tf.train.Saver``) checkpoints without TensorFlow.

A checkpoint ``<prefix>`` is a *tensor bundle*: ``<prefix>.index`` names every tensor and
says where its bytes are; ``<prefix>.data-<i>-of-<N>`` (5-digit, zero-padded shard numbers)
hold the raw tensor bytes, one tensor after the other. (musicnn's checkpoints have an empty
file stem: the prefix ``MTT_musicnn/`` gives ``MTT_musicnn/.index``.)

The ``.index`` file is an SSTable in the LevelDB table format:

* a 48-byte *footer* at the end: the block handles (``offset``, ``size`` as varints) of the
  metaindex block and of the index block, zero padding to 40 bytes, and the 8-byte magic
  ``0xdb4775248b80fb57`` (little-endian);
* *blocks* of key/value entries: each entry is ``shared``, ``non_shared``, ``value_length``
  (varints), then the ``non_shared`` key suffix (the first ``shared`` key bytes are those of
  the previous key: prefix compression) and the value; the block ends with the restart
  points (``uint32`` offsets of the entries that store their whole key) and their count;
* each block is followed by a 5-byte *trailer*: the compression type (``0`` none, ``1``
  snappy; only ``0`` is supported, TF writes bundles uncompressed) and the masked CRC-32C
  of the block and the type byte;
* the *index block* maps a separator key per data block to that block's handle; the data
  blocks hold the bundle entries in key order.

Values are protobufs, decoded by hand here (:func:`decode_message`: varints, fixed32/64,
length-delimited fields): the entry with the empty key is ``BundleHeaderProto``
(``num_shards`` = 1, ``endianness`` = 2, ``version`` = 3), every other entry is a
``BundleEntryProto`` (``dtype`` = 1, ``shape`` = 2 a ``TensorShapeProto`` with repeated
``dim`` = 2 of ``size`` = 1, ``shard_id`` = 3, ``offset`` = 4, ``size`` = 5, ``crc32c`` = 6
fixed32, ``slices`` = 7). The stored ``crc32c`` is the *masked* CRC-32C of the tensor's
bytes, ``((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32)``, as in LevelDB (the musicnn
checkpoints confirm it: every tensor's stored value equals the masked CRC of its bytes,
none equals the plain one; tests/test_tf_checkpoint.py).

CRC-32C (Castagnoli, reflected polynomial ``0x82F63B78``) is implemented here with a
256-entry table (:func:`crc32c`); long buffers run the same table over many lanes at once
with NumPy and join the lanes' CRCs with the linear "advance over zero bytes" map, which
gives the same value (tested against the plain loop and the check value
``crc32c(b"123456789") == 0xE3069283``).

We wrote our own reader instead of the PyPI package ``tensorflow-checkpoint-reader`` 0.2.2
because that package is early-stage and pins ``protobuf==3.18.3``, which clashes with the
protobuf version this environment pins; the format needs only the few hundred lines below.

API: :func:`read_checkpoint` (name -> array, CRCs verified), :func:`list_tensors`
(name -> (dtype, shape), from the index only), :func:`read_index` (the header and every
entry, with shard paths). Errors name the file and what was expected:
:class:`FileNotFoundError` for a missing ``.index`` or data shard, :class:`ValueError` for
a corrupt or unsupported file.

Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024 (through
:mod:`emolib.encoders.musicnn`, which converts musicnn's checkpoints with this reader).
"""
from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["crc32c", "mask_crc", "unmask_crc", "decode_varint", "decode_message",
           "TensorEntry", "BundleIndex", "read_index", "list_tensors", "read_checkpoint",
           "resolve_prefix", "TF_DTYPES", "TABLE_MAGIC"]

log = logging.getLogger(__name__)

#: The LevelDB table magic number ending every ``.index`` file.
TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_TRAILER_SIZE = 5
_MASK_DELTA = 0xA282EAD8
_CRC_POLY = 0x82F63B78  # Castagnoli, reflected
_U32 = 0xFFFFFFFF

#: TensorFlow ``DataType`` enum values -> NumPy dtypes (little-endian) that a bundle can hold
#: as raw bytes. DT_STRING (7) and DT_BFLOAT16 (14) are not supported.
TF_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("u1"),
    5: np.dtype("<i2"), 6: np.dtype("i1"), 8: np.dtype("<c8"), 9: np.dtype("<i8"),
    10: np.dtype("?"), 17: np.dtype("<u2"), 18: np.dtype("<c16"), 19: np.dtype("<f2"),
    22: np.dtype("<u4"), 23: np.dtype("<u8"),
}
_UNSUPPORTED_DTYPES = {7: "DT_STRING", 14: "DT_BFLOAT16", 20: "DT_RESOURCE", 21: "DT_VARIANT"}


# --------------------------------------------------------------------------------------
# CRC-32C
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _CRC_POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


@lru_cache(maxsize=1)
def _crc_table_np() -> np.ndarray:
    return np.array(_crc_table(), dtype=np.uint32)


def _crc_update_py(state: int, data: bytes | memoryview) -> int:
    """Advance the (un-inverted) CRC register over ``data``, one table look-up per byte."""
    table = _crc_table()
    for b in bytes(data):
        state = table[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


@lru_cache(maxsize=16)
def _zeros_operator(n: int) -> np.ndarray:
    """The linear map "advance the register over ``n`` zero bytes" as 4 byte tables.

    ``advance(v) = T[0][v & 255] ^ T[1][(v >> 8) & 255] ^ T[2][...] ^ T[3][v >> 24]``.
    """
    table = _crc_table_np()
    basis = (np.uint32(1) << np.arange(32, dtype=np.uint32)).astype(np.uint32)
    for _ in range(n):  # every basis vector through n zero bytes at once
        basis = table[basis & 0xFF] ^ (basis >> np.uint32(8))
    out = np.zeros((4, 256), dtype=np.uint32)
    values = np.arange(256, dtype=np.uint32)
    for k in range(4):
        for bit in range(8):
            hit = ((values >> np.uint32(bit)) & 1).astype(bool)
            out[k, hit] ^= basis[8 * k + bit]
    return out


def _crc_update_lanes(state: int, data: np.ndarray, lanes: int) -> tuple[int, int]:
    """Advance the register over the first ``lanes * (len // lanes)`` bytes of ``data`` by
    running ``lanes`` contiguous stretches side by side; return (state, bytes consumed)."""
    length = data.size // lanes
    if length == 0:
        return state, 0
    block = np.ascontiguousarray(data[: lanes * length].reshape(lanes, length).T)
    table = _crc_table_np()
    regs = np.zeros(lanes, dtype=np.uint32)
    for row in block:  # lane registers start at 0; the true start state is folded in below
        regs = table[(regs ^ row) & 0xFF] ^ (regs >> np.uint32(8))
    op = _zeros_operator(length)
    for reg in regs.tolist():  # state(A || B) = advance_|B|(state(A)) ^ raw(B)
        state = int(op[0, state & 0xFF] ^ op[1, (state >> 8) & 0xFF]
                    ^ op[2, (state >> 16) & 0xFF] ^ op[3, state >> 24]) ^ reg
    return state, lanes * length


def crc32c(data: bytes | bytearray | memoryview | np.ndarray, *, lanes: int = 4096) -> int:
    """CRC-32C (Castagnoli) of ``data``: init and final XOR ``0xFFFFFFFF``, reflected.

    Buffers of more than 64 KiB run the table over ``lanes`` stretches at once (NumPy);
    ``lanes=1`` forces the plain byte loop. Both give the same value.
    """
    buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8) if not isinstance(
        data, np.ndarray) else np.ascontiguousarray(data).view(np.uint8).reshape(-1)
    state = _U32
    done = 0
    if lanes > 1 and buf.size > (1 << 16):
        state, done = _crc_update_lanes(state, buf, lanes)
    state = _crc_update_py(state, buf[done:].tobytes())
    return state ^ _U32


def mask_crc(crc: int) -> int:
    """LevelDB/TF's masked CRC: rotate right by 15 bits and add ``0xa282ead8``."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask_crc(masked: int) -> int:
    """Inverse of :func:`mask_crc`."""
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


# --------------------------------------------------------------------------------------
# protobuf wire format
# --------------------------------------------------------------------------------------
def decode_varint(buf: bytes | memoryview, pos: int, what: str = "varint") -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return (value, next position)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError(f"truncated {what}: ran past the end of a {len(buf)}-byte buffer")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError(f"malformed {what}: more than 10 bytes")


def decode_message(buf: bytes | memoryview) -> list[tuple[int, int, int | bytes]]:
    """Decode one protobuf message into ``(field number, wire type, value)`` triples.

    Varints (wire type 0) and fixed64/fixed32 (1/5) are returned as unsigned ints,
    length-delimited fields (2) as bytes; groups (3/4) are refused.
    """
    out: list[tuple[int, int, int | bytes]] = []
    pos = 0
    buf = bytes(buf)
    while pos < len(buf):
        tag, pos = decode_varint(buf, pos, "protobuf tag")
        field, wire = tag >> 3, tag & 7
        if field == 0:
            raise ValueError("malformed protobuf: field number 0")
        if wire == 0:
            value, pos = decode_varint(buf, pos, f"protobuf field {field}")
        elif wire == 1 or wire == 5:
            n = 8 if wire == 1 else 4
            if pos + n > len(buf):
                raise ValueError(f"truncated protobuf: fixed{8 * n} field {field}")
            value = int.from_bytes(buf[pos:pos + n], "little")
            pos += n
        elif wire == 2:
            n, pos = decode_varint(buf, pos, f"protobuf length of field {field}")
            if pos + n > len(buf):
                raise ValueError(f"truncated protobuf: field {field} wants {n} bytes, "
                                 f"{len(buf) - pos} left")
            value = buf[pos:pos + n]
            pos += n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} (field {field})")
        out.append((field, wire, value))
    return out


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


# --------------------------------------------------------------------------------------
# SSTable
# --------------------------------------------------------------------------------------
def _block_handle(buf: bytes, pos: int, what: str) -> tuple[int, int, int]:
    offset, pos = decode_varint(buf, pos, f"{what} offset")
    size, pos = decode_varint(buf, pos, f"{what} size")
    return offset, size, pos


def _read_block(table: bytes, offset: int, size: int, path: str, what: str) -> bytes:
    end = offset + size + _TRAILER_SIZE
    if end > len(table) - _FOOTER_SIZE:
        raise ValueError(f"{path}: {what} block at {offset} (+{size} bytes and trailer) runs "
                         f"past the table data ({len(table) - _FOOTER_SIZE} bytes)")
    block = table[offset:offset + size]
    kind = table[offset + size]
    if kind != 0:
        name = {1: "snappy", 2: "zstd"}.get(kind, f"unknown type {kind}")
        raise ValueError(f"{path}: {what} block is compressed ({name}); only uncompressed "
                         "blocks (type 0) are supported")
    stored = int.from_bytes(table[offset + size + 1:end], "little")
    actual = crc32c(table[offset:offset + size + 1])
    if unmask_crc(stored) != actual:
        raise ValueError(f"{path}: CRC mismatch in {what} block at offset {offset}: stored "
                         f"{unmask_crc(stored):#010x}, computed {actual:#010x} (corrupt file)")
    return block


def _block_entries(block: bytes, path: str, what: str) -> list[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise ValueError(f"{path}: {what} block of {len(block)} bytes has no restart count")
    n_restarts = int.from_bytes(block[-4:], "little")
    limit = len(block) - 4 - 4 * n_restarts
    if n_restarts == 0 or limit < 0:
        raise ValueError(f"{path}: {what} block has an invalid restart count {n_restarts}")
    restarts = struct.unpack_from(f"<{n_restarts}I", block, limit)
    if limit > 0 and any(r >= limit for r in restarts):
        raise ValueError(f"{path}: {what} block has a restart point past its entries")
    entries: list[tuple[bytes, bytes]] = []
    pos = 0
    key = b""
    starts = set(restarts)
    while pos < limit:
        start = pos
        shared, pos = decode_varint(block, pos, f"{what} entry")
        non_shared, pos = decode_varint(block, pos, f"{what} entry")
        value_len, pos = decode_varint(block, pos, f"{what} entry")
        if start in starts and shared != 0:
            raise ValueError(f"{path}: {what} entry at restart point {start} shares a prefix")
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise ValueError(f"{path}: corrupt {what} entry at offset {pos}")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        entries.append((key, block[pos:pos + value_len]))
        pos += value_len
    return entries


def _table_entries(path: str) -> list[tuple[bytes, bytes]]:
    """All key/value entries of the SSTable at ``path``, in order."""
    data = Path(path).read_bytes()
    if len(data) < _FOOTER_SIZE:
        raise ValueError(f"{path}: {len(data)} bytes is too short for an SSTable (expected a "
                         f"{_FOOTER_SIZE}-byte footer)")
    footer = data[-_FOOTER_SIZE:]
    magic = int.from_bytes(footer[-8:], "little")
    if magic != TABLE_MAGIC:
        raise ValueError(f"{path}: bad table magic {magic:#018x}, expected {TABLE_MAGIC:#018x} "
                         "(not a TensorFlow checkpoint index)")
    meta_off, meta_size, pos = _block_handle(footer, 0, "metaindex handle")
    index_off, index_size, _ = _block_handle(footer, pos, "index handle")
    _block_entries(_read_block(data, meta_off, meta_size, path, "metaindex"), path, "metaindex")
    index = _block_entries(_read_block(data, index_off, index_size, path, "index"), path, "index")
    entries: list[tuple[bytes, bytes]] = []
    for _sep, handle in index:
        off, size, _ = _block_handle(handle, 0, "data block handle")
        entries += _block_entries(_read_block(data, off, size, path, "data"), path, "data")
    keys = [k for k, _ in entries]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        raise ValueError(f"{path}: table keys are not strictly increasing (corrupt index)")
    return entries


# --------------------------------------------------------------------------------------
# bundle
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a bundle: where its bytes are and what they hold."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int  # as stored: masked

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass(frozen=True)
class BundleIndex:
    """A parsed ``.index``: the header fields and the tensor entries (in key order)."""

    prefix: str
    num_shards: int
    endianness: int
    version: tuple[int, int]  # producer, min_consumer
    entries: dict[str, TensorEntry]

    def shard_path(self, shard_id: int) -> str:
        return f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}"


def resolve_prefix(prefix: str | os.PathLike[str]) -> str:
    """The checkpoint prefix as a string; a directory stands for ``<dir>/`` (musicnn)."""
    text = os.fspath(prefix)
    if os.path.isdir(text):
        text = os.path.join(text, "")
    return text


def _header(value: bytes, path: str) -> tuple[int, int, tuple[int, int]]:
    num_shards, endianness, producer, min_consumer = 1, 0, 0, 0
    for field, _wire, v in decode_message(value):
        if field == 1:
            num_shards = int(v)
        elif field == 2:
            endianness = int(v)
        elif field == 3:
            for f2, _w2, v2 in decode_message(v):  # VersionDef
                if f2 == 1:
                    producer = int(v2)
                elif f2 == 2:
                    min_consumer = int(v2)
    if num_shards < 1:
        raise ValueError(f"{path}: header says {num_shards} shards, expected at least 1")
    if endianness != 0:
        raise ValueError(f"{path}: big-endian bundle (endianness {endianness}); only "
                         "little-endian (0) is supported")
    return num_shards, endianness, (producer, min_consumer)


def _shape(value: bytes) -> tuple[int, ...]:
    dims = []
    for field, _wire, v in decode_message(value):
        if field == 2:
            size = 0
            for f2, _w2, v2 in decode_message(v):
                if f2 == 1:
                    size = _signed64(int(v2))
            dims.append(size)
        elif field == 3 and v:
            raise ValueError("tensor shape of unknown rank")
    return tuple(dims)


def _entry(name: str, value: bytes, path: str, num_shards: int) -> TensorEntry:
    fields = {"dtype": 0, "shard_id": 0, "offset": 0, "size": 0, "crc32c": 0}
    shape: tuple[int, ...] = ()
    for field, _wire, v in decode_message(value):
        if field == 2:
            shape = _shape(v)
        elif field == 7:
            raise ValueError(f"{path}: tensor {name!r} is stored as slices (a partitioned "
                             "variable); slices are not supported")
        elif field in (1, 3, 4, 5, 6):
            key = {1: "dtype", 3: "shard_id", 4: "offset", 5: "size", 6: "crc32c"}[field]
            fields[key] = int(v)
    code = fields["dtype"]
    if code not in TF_DTYPES:
        label = _UNSUPPORTED_DTYPES.get(code, f"DataType {code}")
        raise ValueError(f"{path}: tensor {name!r} has dtype {label}; supported: numeric "
                         "dtypes with a NumPy equivalent")
    if any(d < 0 for d in shape):
        raise ValueError(f"{path}: tensor {name!r} has an unknown dimension in {shape}")
    entry = TensorEntry(name=name, dtype=TF_DTYPES[code], shape=shape,
                        shard_id=fields["shard_id"], offset=_signed64(fields["offset"]),
                        size=_signed64(fields["size"]), crc32c=fields["crc32c"])
    if entry.size != entry.nbytes:
        raise ValueError(f"{path}: tensor {name!r} has {entry.size} bytes, expected "
                         f"{entry.nbytes} for {entry.dtype} {shape}")
    if not 0 <= entry.shard_id < num_shards or entry.offset < 0:
        raise ValueError(f"{path}: tensor {name!r} points to shard {entry.shard_id} offset "
                         f"{entry.offset}; the bundle has {num_shards} shard(s)")
    return entry


def read_index(prefix: str | os.PathLike[str]) -> BundleIndex:
    """Parse ``<prefix>.index``: the bundle header and every tensor entry."""
    prefix = resolve_prefix(prefix)
    path = prefix + ".index"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no checkpoint index here (expected the .index file "
                                f"of the TensorFlow checkpoint {prefix!r})")
    entries = _table_entries(path)
    if not entries or entries[0][0] != b"":
        raise ValueError(f"{path}: the first entry is not the bundle header (empty key)")
    num_shards, endianness, version = _header(entries[0][1], path)
    tensors: dict[str, TensorEntry] = {}
    for key, value in entries[1:]:
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: tensor name {key!r} is not UTF-8") from exc
        tensors[name] = _entry(name, value, path, num_shards)
    return BundleIndex(prefix=prefix, num_shards=num_shards, endianness=endianness,
                       version=version, entries=tensors)


def list_tensors(prefix: str | os.PathLike[str]) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """Every tensor of the checkpoint: name -> (NumPy dtype, shape), from the index alone."""
    return {name: (e.dtype, e.shape) for name, e in read_index(prefix).entries.items()}


def _read_shard(index: BundleIndex, shard_id: int) -> bytes:
    path = index.shard_path(shard_id)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: data shard {shard_id} of {index.num_shards} is "
                                f"missing (expected beside {index.prefix}.index)")
    return Path(path).read_bytes()


def read_checkpoint(prefix: str | os.PathLike[str], *, verify: bool = True
                    ) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint as a NumPy array (native byte order, own memory).

    ``verify``: check each tensor's bytes against the masked CRC-32C stored in the index;
    a mismatch raises :class:`ValueError` naming the tensor and the shard.
    """
    index = read_index(prefix)
    shards: dict[int, bytes] = {}
    out: dict[str, np.ndarray] = {}
    for name, e in index.entries.items():
        if e.shard_id not in shards:
            shards[e.shard_id] = _read_shard(index, e.shard_id)
        shard = shards[e.shard_id]
        if e.offset + e.size > len(shard):
            raise ValueError(f"{index.shard_path(e.shard_id)}: tensor {name!r} wants bytes "
                             f"{e.offset}..{e.offset + e.size}, the shard has {len(shard)} "
                             "(truncated data file)")
        raw = memoryview(shard)[e.offset:e.offset + e.size]
        if verify:
            actual = crc32c(raw)
            if mask_crc(actual) != e.crc32c:
                raise ValueError(f"{index.shard_path(e.shard_id)}: CRC-32C mismatch for tensor "
                                 f"{name!r}: index stores {e.crc32c:#010x} (masked), data gives "
                                 f"{mask_crc(actual):#010x} (corrupt checkpoint)")
        arr = np.frombuffer(raw, dtype=e.dtype).reshape(e.shape)
        out[name] = arr.astype(e.dtype.newbyteorder("="), copy=True)
    log.debug("read %d tensors from %s", len(out), index.prefix)
    return out
