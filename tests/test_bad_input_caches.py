"""Bad input is refused before any work is done: caches, the emotion world, losses, features.

Catalogue (one test or parametrized case each):

* feature / embedding caches key on each input file's identity (resolved path, size,
  mtime_ns; ``emolib.io.file_identity``): a replaced file is recomputed (``cached_features``,
  ``midlevel.spectrogram_cached``, ``transcription.cached_front_end``,
  ``audio.cached_chunk_embeddings``); a failed or bad ``compute`` writes nothing; an
  unreadable cache file is recomputed without touching other entries;
* ``atomic_dir`` removes the ``.partial`` folders of killed builds (dead pid, or idle for
  long) and keeps those of live builds and everything else;
* the emotion world: a killed build recovers byte-identically; a corrupt ``manifest.json``
  or a changed small table file is logged at WARNING naming the file and rebuilt, leaving
  other worlds alone, or refused naming the file when no rebuild is possible; the
  cache-handling code is not part of the world key;
* losses (triplet, focal, SupCon): empty batches, NaN/inf inputs, out-of-range targets,
  labels of the wrong length and bad scalars raise ``ValueError`` naming the argument;
* features: ``n_fft`` / ``hop_length`` / ``n_mels`` / ``n_mfcc`` / ``n_frames`` must be
  positive ints (not bool), ``n_mfcc <= n_mels``, ``sr`` a positive int (not bool), integer
  PCM refused with the scale to use.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from emolib import features as F
from emolib import io as eio
from emolib.data.world import core
from emolib.data.world.core import make_world
from emolib.losses import (
    distance_weights,
    emoclim_loss,
    focal_loss,
    sample_triplets,
    supcon,
    triplet_loss,
)

SR = 16000
CHEAP = dict(roles=("alm", "isear", "images"), alm_n_train_per_class=6,
             alm_n_val_per_class=2, alm_n_test_per_class=1, isear_n_train_per_class=8,
             isear_n_val_per_class=1, isear_n_test_per_class=1, images_n_train_per_class=3,
             images_n_val_per_class=1, images_n_test_per_class=1, image_size=16)
WORLD_KW = dict(profile="quick", n_jobs=1, progress=False, **CHEAP)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _tone(seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _write_wav(path: Path, y: np.ndarray) -> Path:
    sf.write(path, y, SR)
    return path


def _replace(path: Path, y: np.ndarray, how: str) -> None:
    """Overwrite ``path`` with ``y``: ``"size"`` (another length) or ``"mtime"`` (same size,
    mtime moved one second on with os.utime)."""
    before = path.stat()
    _write_wav(path, y)
    if how == "mtime":
        assert path.stat().st_size == before.st_size
        ns = before.st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(ns, ns))
    else:
        assert path.stat().st_size != before.st_size


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------
# file identity and feature caches
# ---------------------------------------------------------------------------------------

def test_file_identity_names_missing_files_and_folders(tmp_path):
    p = _write_wav(tmp_path / "a.wav", _tone())
    resolved, size, mtime = eio.file_identity(p)
    assert resolved == str(p.resolve()) and size == p.stat().st_size
    assert mtime == p.stat().st_mtime_ns
    os.utime(p, ns=(mtime + 10**9, mtime + 10**9))
    assert eio.file_identity(p)[2] == mtime + 10**9
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        eio.file_identity(tmp_path / "missing.wav")
    with pytest.raises(FileNotFoundError, match="not a regular file"):
        eio.file_identity(tmp_path)


@pytest.mark.parametrize("how", ["size", "mtime"])
def test_cached_features_recompute_a_replaced_file(cache, tmp_path, how):
    p = _write_wav(tmp_path / "a.wav", _tone(0.5, 440.0))
    calls = []

    def compute(path):
        calls.append(path)
        return sf.read(path, dtype="float32")[0][:64]

    first = F.cached_features([str(p)], "t", {"k": 1}, compute)
    assert F.cached_features([str(p)], "t", {"k": 1}, compute)[0].tobytes() == first[0].tobytes()
    assert len(calls) == 1                                    # unchanged file: a cache hit
    _replace(p, _tone(0.5 if how == "mtime" else 0.7, 880.0), how)
    again = F.cached_features([str(p)], "t", {"k": 1}, compute)
    assert len(calls) == 2                                    # replaced file: recomputed
    assert not np.array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[0], sf.read(p, dtype="float32")[0][:64])
    assert len(list((cache / "features").glob("t-*.npz"))) == 2


def test_cached_features_keys_non_file_entries_by_text(cache):
    out = F.cached_features(["all"], "label", {}, lambda e: np.arange(3.0))
    assert out[0].tolist() == [0.0, 1.0, 2.0]
    assert F.cached_features(["all"], "label", {}, lambda e: 1 / 0)[0].tolist() == [0.0, 1.0, 2.0]


def test_cached_features_failed_compute_writes_nothing(cache, tmp_path):
    paths = [str(_write_wav(tmp_path / f"{i}.wav", _tone())) for i in range(3)]

    def compute(path):
        if path == paths[1]:
            raise RuntimeError(f"cannot decode {path}")
        return np.zeros(2)

    with pytest.raises(RuntimeError, match="1.wav"):
        F.cached_features(paths, "fail", {}, compute)
    assert not (cache / "features").exists() or list((cache / "features").iterdir()) == []


@pytest.mark.parametrize("result, match", [
    (lambda p: [np.zeros(2), np.zeros(3)], r"compute\('.*0\.wav'\) did not return one numeric"),
    (lambda p: {"a": 1}, r"compute\('.*0\.wav'\) did not return one numeric array \(got dtype"),
])
def test_cached_features_refuse_uncacheable_results(cache, tmp_path, result, match):
    p = str(_write_wav(tmp_path / "0.wav", _tone()))
    with pytest.raises(ValueError, match=match):
        F.cached_features([p], "obj", {}, result)
    assert not list((cache / "features").glob("*")) if (cache / "features").exists() else True


@pytest.mark.parametrize("paths, name, match", [
    ("one.wav", "n", "paths must be a list or tuple"),
    (Path("one.wav"), "n", "paths must be a list or tuple"),
    (["one.wav"], "", "cache name must be a non-empty string"),
    (["one.wav"], "a/b", "cache name .* 'a/b'"),
])
def test_cached_features_refuse_bad_arguments(cache, paths, name, match):
    with pytest.raises(ValueError, match=match):
        F.cached_features(paths, name, {}, lambda p: np.zeros(1))
    assert not cache.exists() or not any(cache.rglob("*.npz"))


def test_unreadable_feature_cache_is_recomputed_and_others_kept(cache, tmp_path, caplog):
    p = str(_write_wav(tmp_path / "a.wav", _tone()))
    F.cached_features([p], "keep", {}, lambda q: np.ones(3))
    F.cached_features([p], "bad", {}, lambda q: np.ones(3))
    keep = next((cache / "features").glob("keep-*.npz"))
    bad = next((cache / "features").glob("bad-*.npz"))
    keep_bytes = keep.read_bytes()
    bad.write_bytes(bad.read_bytes()[:40])                    # truncated
    with caplog.at_level(logging.WARNING, logger="emolib.features"):
        out = F.cached_features([p], "bad", {}, lambda q: np.full(3, 2.0))
    assert out[0].tolist() == [2.0, 2.0, 2.0]
    assert bad.name in caplog.text and "recomputing" in caplog.text
    assert keep.read_bytes() == keep_bytes
    with np.load(bad) as z:
        assert z["a0"].tolist() == [2.0, 2.0, 2.0]


def test_cached_array_file_truncated_or_failed(cache, caplog):
    path = F.cached_array_file("arr", {"x": 1}, lambda: np.arange(100.0))
    path.write_bytes(path.read_bytes()[:200])                 # shorter than its header says
    with caplog.at_level(logging.WARNING, logger="emolib.features"):
        again = F.cached_array_file("arr", {"x": 1}, lambda: np.arange(100.0))
    assert again == path and path.name in caplog.text
    assert np.load(path).tolist() == list(np.arange(100.0))
    with pytest.raises(ZeroDivisionError):
        F.cached_array_file("arr", {"x": 2}, lambda: 1 / 0)
    assert sorted(p.name for p in (cache / "features").iterdir()) == [path.name]
    with pytest.raises(ValueError, match="cache name"):
        F.cached_array_file("../escape", {}, lambda: np.zeros(1))


@pytest.mark.parametrize("how", ["size", "mtime"])
def test_midlevel_spectrogram_cache_follows_the_file(cache, tmp_path, how):
    from emolib.encoders import midlevel as ml

    p = _write_wav(tmp_path / "a.wav", _tone(0.5, 440.0))
    a = ml.spectrogram_cached(p, SR)
    _replace(p, _tone(0.5 if how == "mtime" else 0.8, 1760.0), how)
    b = ml.spectrogram_cached(p, SR)
    y = sf.read(p, dtype="float32")[0]
    np.testing.assert_allclose(b, ml.log_filtered_spectrogram(y, SR), rtol=1e-5, atol=1e-6)
    assert not (a.shape == b.shape and np.allclose(a, b))
    assert len(list((cache / "features" / "midlevel_spec").glob("*.npy"))) == 2
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        ml.spectrogram_cached(tmp_path / "missing.wav", SR)


@pytest.mark.filterwarnings("ignore:n_fft=.*too large")  # CQT octaves of a 0.5-s clip
def test_transcriber_front_end_cache_follows_the_file(cache, tmp_path):
    from emolib.encoders import transcription as tr

    front = tr.FrontEnd()
    p = _write_wav(tmp_path / "a.wav", _tone(0.5, 440.0))
    first = tr.cached_front_end(str(p), front)
    resolved, size, mtime = eio.file_identity(p)
    assert tr._file_id(p, "audio") == f"file:{resolved}:{size}:{mtime}"
    _replace(p, _tone(0.5, 880.0), "mtime")
    second = tr.cached_front_end(str(p), front)
    assert second != first and first.exists()
    np.testing.assert_array_equal(np.load(second), front(sf.read(p, dtype="float32")[0], SR))
    with pytest.raises(FileNotFoundError, match=r"training MIDI .*missing\.mid"):
        tr._file_id(tmp_path / "missing.mid", "MIDI")


def test_chunk_embedding_cache_follows_the_file(cache, tmp_path):
    from emolib.encoders import audio as A

    torch.manual_seed(0)
    m = A.build_tagger("short_chunk_cnn", 2).eval()
    p = _write_wav(tmp_path / "a.wav", _tone(2.5, 440.0))
    kw = dict(win=32768, n_chunks=2)
    a = A.cached_chunk_embeddings(m, [str(p)], "m", **kw)
    _replace(p, _tone(2.5, 1760.0), "mtime")
    b = A.cached_chunk_embeddings(m, [str(p)], "m", **kw)
    ref = A.chunk_embeddings(m, A.load_audio(str(p)), 32768, None, 2).numpy()
    np.testing.assert_allclose(b[0], ref, rtol=1e-5, atol=1e-6)
    assert not np.allclose(a, b)
    n_files = len(list((cache / "features").glob("chunks-*.npy")))
    with pytest.raises(FileNotFoundError, match="missing.wav"):  # before the model runs
        A.cached_chunk_embeddings(m, [str(p), str(tmp_path / "missing.wav")], "m", **kw)
    assert len(list((cache / "features").glob("chunks-*.npy"))) == n_files == 2


# ---------------------------------------------------------------------------------------
# stale .partial folders
# ---------------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def _partial(parent: Path, name: str, tag: str | None, rand: str = "abcd_123") -> Path:
    mid = f"{tag}." if tag else ""
    d = parent / f".{name}.{mid}{rand}.partial"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "half.csv").write_text("half")
    return d


def _age(folder: Path, seconds: float) -> None:
    import time

    t = time.time() - seconds
    for p in [*folder.rglob("*"), folder]:
        os.utime(p, (t, t))


@pytest.mark.skipif(os.name != "posix", reason="pid liveness is checked on POSIX only")
def test_stale_partials_removed_live_and_unrelated_kept(tmp_path, caplog):
    host = eio._host()
    dead = _partial(tmp_path, "w", f"pid{_dead_pid()}@{host}", "dead0000")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = _partial(tmp_path, "w", f"pid{sleeper.pid}@{host}", "live0000")
        other_host = _partial(tmp_path, "w", f"pid{_dead_pid()}@elsewhere", "othr0000")
        legacy_recent = _partial(tmp_path, "w", None, "legacy01")
        legacy_idle = _partial(tmp_path, "w", None, "legacy02")
        _age(legacy_idle, eio.STALE_PARTIAL_SECONDS + 60)
        old = tmp_path / f".w.old.{_dead_pid()}"
        old.mkdir()
        sibling = _partial(tmp_path, "w.v2", f"pid{_dead_pid()}@{host}", "sibl0000")
        unrelated = tmp_path / ".w.notes"
        unrelated.mkdir()
        with caplog.at_level(logging.WARNING, logger="emolib.io"):
            removed = eio.remove_stale_partials(tmp_path / "w")
        assert sorted(removed) == sorted([dead, legacy_idle, old])
        assert dead.name in caplog.text and legacy_idle.name in caplog.text
        for kept in (live, other_host, legacy_recent, sibling, unrelated):
            assert kept.is_dir(), kept
        sleeper.kill()
        sleeper.wait()
        assert eio.remove_stale_partials(tmp_path / "w") == [live]
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()


def test_atomic_dir_names_its_partial_and_clears_stale_ones(tmp_path):
    stale = _partial(tmp_path, "world", f"pid{_dead_pid()}@{eio._host()}")
    with eio.atomic_dir(tmp_path / "world") as d:
        assert not stale.exists()
        assert d.name.startswith(f".world.pid{os.getpid()}@{eio._host()}.")
        assert d.name.endswith(".partial")
        (d / "a.txt").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["world"]


# ---------------------------------------------------------------------------------------
# the emotion world
# ---------------------------------------------------------------------------------------

@pytest.fixture()
def two_worlds(tmp_path):
    """A cheap world (seed 0) and a neighbour (seed 1) in the same cache folder, and the
    pristine bytes of both."""
    base = tmp_path / "wc"
    w = make_world(seed=0, cache_dir=base, **WORLD_KW)
    other = make_world(seed=1, cache_dir=base, **WORLD_KW)
    return base, w, _files(w.root), other, _files(other.root)


def _assert_rebuilt(base, w, pristine, other, other_files, caplog, needle):
    def boom():
        raise AssertionError("built")

    with caplog.at_level(logging.WARNING, logger="emolib.data.world.core"):
        again = make_world(seed=0, cache_dir=base, **WORLD_KW)
    assert "damaged" in caplog.text and needle in caplog.text, caplog.text
    assert again.root == w.root and _files(w.root) == pristine  # byte-identical rebuild
    assert again.alm.equals(w.alm) and again.images.equals(w.images)
    assert _files(other.root) == other_files                  # the neighbour is untouched
    assert sorted(p.name for p in base.iterdir()) == sorted([w.root.name, other.root.name])
    caplog.clear()
    with pytest.MonkeyPatch.context() as mp:                  # and now a plain cache hit
        mp.setattr(core, "_builders", boom)
        make_world(seed=0, cache_dir=base, **WORLD_KW)
    assert "damaged" not in caplog.text


def _edit_manifest(edit):
    def apply(path: Path) -> None:
        m = json.loads(path.read_text())
        edit(m)
        path.write_text(json.dumps(m))
    return apply


MANIFEST_DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "not JSON": lambda p: p.write_text("{not json"),
    "not UTF-8": lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
    "empty": lambda p: p.write_bytes(b""),
    "a list": lambda p: p.write_text("[]"),
    "no files key": _edit_manifest(lambda m: m.pop("files")),
    "no params key": _edit_manifest(lambda m: m.pop("params")),
    "files not a list": _edit_manifest(lambda m: m.update(files="x")),
    "malformed entry": _edit_manifest(lambda m: m["files"].__setitem__(0, {"path": 3})),
    "escaping entry": _edit_manifest(lambda m: m["files"][0].update(path="../x")),
    "n_files off": _edit_manifest(lambda m: m.update(n_files=m["n_files"] - 1)),
    "foreign key": _edit_manifest(lambda m: m.update(key="s0-0000000000000000")),
    "other seed": _edit_manifest(lambda m: m.update(seed=7)),
    "other params": _edit_manifest(lambda m: m["params"].update(sr=8000)),
}


@pytest.mark.parametrize("damage", list(MANIFEST_DAMAGE))
def test_corrupt_manifest_is_rebuilt_and_named(two_worlds, caplog, damage):
    base, w, pristine, other, other_files = two_worlds
    MANIFEST_DAMAGE[damage](w.root / "manifest.json")
    _assert_rebuilt(base, w, pristine, other, other_files, caplog, str(w.root / "manifest.json"))


def _flip_byte(path: Path) -> None:
    b = bytearray(path.read_bytes())
    b[len(b) // 2] ^= 0x01
    path.write_bytes(bytes(b))


TABLE_DAMAGE = {
    "same size, other bytes": ("tables/alm.csv", _flip_byte),
    "appended": ("tables/isear.csv", lambda p: p.write_bytes(p.read_bytes() + b"x,y\n")),
    "missing": ("tables/images.csv", lambda p: p.unlink()),
    "vocabulary edited": ("tables/tag_vocab.txt", lambda p: p.write_text("happy\n")),
    "unlisted table": ("tables/music.csv", lambda p: p.write_text("item_id\nx\n")),
}


@pytest.mark.parametrize("damage", list(TABLE_DAMAGE))
def test_changed_small_table_is_detected_and_rebuilt(two_worlds, caplog, damage):
    base, w, pristine, other, other_files = two_worlds
    rel, fn = TABLE_DAMAGE[damage]
    fn(w.root / rel)
    _assert_rebuilt(base, w, pristine, other, other_files, caplog, str(w.root / rel))


def test_damaged_world_that_cannot_be_rebuilt_is_refused(two_worlds, monkeypatch):
    base, w, pristine, other, other_files = two_worlds
    (w.root / "manifest.json").write_text("{truncated")
    damaged = _files(w.root)
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self.name == "manifest.json":
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(ValueError, match=r"manifest\.json.*cannot be rebuilt"):
        make_world(seed=0, cache_dir=base, **WORLD_KW)
    assert _files(w.root) == damaged and _files(other.root) == other_files
    assert sorted(p.name for p in base.iterdir()) == sorted([w.root.name, other.root.name])


def test_killed_build_recovers_byte_identically(tmp_path):
    """A build killed by os._exit leaves its .partial folder; the next build removes it and
    writes the same bytes as an uninterrupted build."""
    base = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import os, sys
        from emolib.data.world import core
        core._FINGERPRINT = {core.code_fingerprint()!r}  # the same key as this process
        real = core._builders
        def killing():
            b = dict(real())
            def isear(out, seed, p, n_jobs, progress):
                (out / "half.txt").write_text("half")
                os._exit(3)
            b["isear"] = isear
            return b
        core._builders = killing
        core.make_world(seed=0, cache_dir=sys.argv[1], **{WORLD_KW!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(base)], capture_output=True)
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]
    partials = [p for p in base.iterdir() if p.name.endswith(".partial")]
    assert len(partials) == 1 and (partials[0] / "half.txt").exists()
    w = make_world(seed=0, cache_dir=base, **WORLD_KW)
    assert [p.name for p in base.iterdir()] == [w.root.name]
    clean = make_world(seed=0, cache_dir=tmp_path / "clean", **WORLD_KW)
    assert _files(w.root) == _files(clean.root)


# ---------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------

def _z(n: int = 6, d: int = 4, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)


def _with(t: torch.Tensor, value: float) -> torch.Tensor:
    t = t.clone()
    t[1, 0] = value
    return t


Z, LAB = _z(), torch.tensor([0, 1, 0, 1, 2, 2])

LOSS_CASES = {
    # triplet
    "triplet empty": (lambda: triplet_loss(Z[:0], Z[:0], Z[:0]), ValueError, "anchor is empty"),
    "triplet NaN anchor": (lambda: triplet_loss(_with(Z, np.nan), Z, Z), ValueError,
                           "anchor contains 1 NaN or inf"),
    "triplet inf negative": (lambda: triplet_loss(Z, Z, _with(Z, np.inf)), ValueError,
                             "negative contains 1 NaN or inf"),
    "triplet NaN margin": (lambda: triplet_loss(Z, Z, Z, margin=float("nan")), ValueError,
                           "margin must be a finite number"),
    "triplet reduction": (lambda: triplet_loss(Z, Z, Z, reduction="avg"), ValueError,
                          "reduction must be"),
    "triplet list": (lambda: triplet_loss([1.0], Z, Z), TypeError, "anchor must be a torch"),
    "sampler empty batch": (lambda: sample_triplets(Z[:0], Z[:0], LAB[:0]), ValueError,
                            "anchor is empty"),
    "sampler NaN positives": (lambda: sample_triplets(Z, _with(Z, np.nan), LAB), ValueError,
                              "candidates contains 1 NaN"),
    "weights dim mismatch": (lambda: distance_weights(Z, _z(6, 5), LAB, LAB), ValueError,
                             "same dim"),
    "weights label length": (lambda: distance_weights(Z, Z, LAB[:5], LAB), ValueError,
                             "anchor_labels / candidate_labels"),
    # focal
    "focal empty": (lambda: focal_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)),
                    ValueError, "logits is empty"),
    "focal no classes": (lambda: focal_loss(torch.zeros(2, 0), torch.zeros(2, dtype=torch.long)),
                         ValueError, "logits is empty"),
    "focal NaN logits": (lambda: focal_loss(_with(torch.zeros(4, 3), np.nan), torch.zeros(4).long()
                                            ), ValueError, "logits contains 1 NaN or inf"),
    "focal inf logits": (lambda: focal_loss(_with(torch.zeros(4, 3), -np.inf), torch.zeros(4).long()
                                            ), ValueError, "logits contains 1 NaN or inf"),
    "focal target -1": (lambda: focal_loss(torch.zeros(4, 3), torch.tensor([0, -1, 2, 1])),
                        ValueError, r"class indices in \[0, 3\).*got -1 at position 1"),
    "focal target = C": (lambda: focal_loss(torch.zeros(4, 3), torch.tensor([0, 1, 3, 1])),
                         ValueError, r"in \[0, 3\) \(logits has 3 classes\), got 3 at position 2"),
    "focal fractional target": (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.5])),
                                ValueError, "target must hold integer class indices"),
    "focal NaN target": (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0.0, np.nan])),
                         ValueError, "target must hold integer class indices"),
    "focal bool target": (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([True, False])),
                          ValueError, "target must hold integer class indices"),
    "focal target length": (lambda: focal_loss(torch.zeros(4, 3), torch.zeros(3).long()),
                            ValueError, r"target \(N,\)"),
    "focal NaN gamma": (lambda: focal_loss(torch.zeros(2, 3), torch.zeros(2).long(),
                                           gamma=float("nan")), ValueError, "gamma must be"),
    "focal negative gamma": (lambda: focal_loss(torch.zeros(2, 3), torch.zeros(2).long(), gamma=-1),
                             ValueError, "gamma must be a finite number >= 0, got -1"),
    "focal NaN alpha": (lambda: focal_loss(torch.zeros(2, 3), torch.zeros(2).long(),
                                           alpha=[1.0, float("nan"), 1.0]), ValueError, "alpha"),
    "focal negative alpha": (lambda: focal_loss(torch.zeros(2, 3), torch.zeros(2).long(),
                                                alpha=[1.0, -1.0, 1.0]), ValueError, "alpha"),
    # supcon
    "supcon empty": (lambda: supcon(Z[:0], LAB[:0]), ValueError, "anchors is empty"),
    "supcon empty contrast": (lambda: supcon(Z, LAB, Z[:0], LAB[:0]), ValueError,
                              "contrast is empty"),
    "supcon NaN anchors": (lambda: supcon(_with(Z, np.nan), LAB), ValueError,
                           "anchors contains 1 NaN or inf"),
    "supcon inf contrast": (lambda: supcon(Z, LAB, _with(Z, np.inf), LAB), ValueError,
                            "contrast contains 1 NaN or inf"),
    "supcon NaN labels": (lambda: supcon(Z, torch.tensor([0.0, 1, np.nan, 1, 2, 2])), ValueError,
                          "anchor_labels contains 1 NaN"),
    "supcon anchor_labels length": (lambda: supcon(Z, LAB[:5]), ValueError,
                                    r"anchor_labels\) must be 1-D with 6 entries"),
    "supcon contrast_labels length": (lambda: supcon(Z, LAB, Z, LAB[:4]), ValueError,
                                      r"contrast_labels\) must be 1-D with 6 entries"),
    "supcon NaN temperature": (lambda: supcon(Z, LAB, temperature=float("nan")), ValueError,
                               "temperature must be a finite number > 0"),
    "supcon inf temperature": (lambda: supcon(Z, LAB, temperature=float("inf")), ValueError,
                               "temperature must be a finite number > 0"),
    "emoclim NaN weight": (lambda: emoclim_loss(Z, LAB, Z, LAB, weights=(1, 1, float("nan"), 1)),
                           ValueError, r"weights\[2\] must be a finite number"),
    "emoclim NaN audio": (lambda: emoclim_loss(Z, LAB, _with(Z, np.nan), LAB), ValueError,
                          "contrast contains 1 NaN"),
}


@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_losses_refuse_bad_input(case):
    fn, exc, match = LOSS_CASES[case]
    with pytest.raises(exc, match=match):
        fn()


def test_losses_unchanged_on_valid_input():
    """Spot values (the full comparisons with pytorch-metric-learning are in test_supcon.py
    and test_triplet.py): the checks do not alter valid results."""
    a, p, n = _z(5, 4, 1), _z(5, 4, 2), _z(5, 4, 3)
    cos = torch.nn.functional.cosine_similarity
    torch.testing.assert_close(triplet_loss(a, p, n),
                               torch.relu(0.2 - cos(a, p, dim=-1) + cos(a, n, dim=-1)).mean())
    logits, target = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), \
        torch.tensor([0, 2, 1, 1, 0])
    torch.testing.assert_close(focal_loss(logits, target, gamma=0.0),
                               torch.nn.functional.cross_entropy(logits, target))
    assert torch.isfinite(supcon(Z, LAB)) and torch.isfinite(emoclim_loss(Z, LAB, Z, LAB)["total"])


# ---------------------------------------------------------------------------------------
# feature parameters
# ---------------------------------------------------------------------------------------

Y = _tone(0.25)
BAD_INTS = [0, -1, 2.5, 512.0, True, "512", None]


FRONT_END_PARAMS = [
    (F.log_mel, "n_fft"), (F.log_mel, "hop_length"), (F.log_mel, "n_mels"),
    (F.mfcc, "n_mfcc"), (F.mfcc, "n_mels"), (F.mfcc, "n_fft"), (F.stft_db, "hop_length"),
    (F.spectral_centroid, "n_fft"), (F.rms, "hop_length"), (F.onset_strength, "hop_length"),
    (F.mixed_features, "n_mfcc"), (F.mixed_features, "n_mels"), (F.mixed_features, "n_fft"),
    (F.mixed_features, "n_frames"), (F.stft_features, "n_fft"), (F.stft_features, "n_frames"),
]


@pytest.mark.parametrize("fn, param, value", [
    (fn, param, v) for fn, param in FRONT_END_PARAMS for v in BAD_INTS
    if not (param == "n_frames" and v is None)  # n_frames=None: keep all frames
], ids=lambda x: getattr(x, "__name__", repr(x)))
def test_feature_parameters_must_be_positive_ints(fn, param, value):
    with pytest.raises(ValueError, match=rf"{param} must be a positive integer, got {value!r}"):
        fn(Y, SR, **{param: value})


@pytest.mark.parametrize("fn", [F.mfcc, F.mixed_features, F.mixed_feature_rows])
def test_n_mfcc_must_not_exceed_n_mels(fn):
    args = () if fn is F.mixed_feature_rows else (Y, SR)
    with pytest.raises(ValueError, match=r"n_mfcc=40 must be <= n_mels=32"):
        fn(*args, n_mfcc=40, n_mels=32)


@pytest.mark.parametrize("sr", [True, False, 16000.0, 0, -16000, "16000", None], ids=repr)
@pytest.mark.parametrize("fn", [F.log_mel, F.mfcc, F.onset_density, F.mixed_features])
def test_sample_rate_must_be_a_positive_int(fn, sr):
    with pytest.raises(ValueError, match=rf"sr must be a positive integer sample rate, got {sr!r}"):
        fn(Y, sr)


@pytest.mark.parametrize("dtype, scale", [(np.int16, r"y / 32768"), (np.int32, r"y / 2147483648"),
                                          (np.uint8, r"\(y - 128\) / 128")])
@pytest.mark.parametrize("fn", [F.log_mel, F.stft_features, F.onset_density])
def test_integer_pcm_is_refused_with_the_scale(fn, dtype, scale):
    pcm = (Y * 1000).astype(dtype)
    with pytest.raises(ValueError, match=rf"audio has integer dtype .*e\.g\. {scale}"):
        fn(pcm, SR)


def test_complex_and_list_audio():
    with pytest.raises(ValueError, match="real-valued float"):
        F.log_mel(Y.astype(np.complex64), SR)
    with pytest.raises(ValueError, match="integer dtype int64"):
        F.log_mel([0, 1, 0, -1] * 100, SR)                   # a list of ints is PCM too
    assert F.log_mel(list(map(float, Y)), SR).shape[0] == 128  # a list of floats is fine


def test_align_frames_n_frames():
    with pytest.raises(ValueError, match="n_frames must be a positive integer, got True"):
        F.align_frames([np.zeros((2, 3))], True)


@pytest.mark.parametrize("kwargs, match", [
    (dict(audio=(Y * 32768).astype(np.int16)), r"integer dtype int16.*y / 32768"),
    (dict(sr=True), "sr must be a positive integer sample rate, got True"),
    (dict(sr=22050.0), "sr must be a positive integer sample rate, got 22050.0"),
    (dict(n_fft=0), "n_fft must be a positive integer, got 0"),
    (dict(n_fft=True), "n_fft must be a positive integer, got True"),
    (dict(bands_per_octave=0.5), "bands_per_octave must be a positive integer, got 0.5"),
    (dict(fps=0), r"fps must be a frame rate in \(0, sr=16000\], got 0"),
    (dict(fps=float("nan")), "fps must be a frame rate"),
    (dict(fps=32000.0), "fps must be a frame rate"),
    (dict(audio=np.array([0.0, np.nan] * 100)), "NaN or inf"),
])
def test_midlevel_front_end_parameters(kwargs, match):
    from emolib.encoders import midlevel as ml

    args = {"audio": Y, "sr": SR, **kwargs}
    with pytest.raises(ValueError, match=match):
        ml.log_filtered_spectrogram(args.pop("audio"), args.pop("sr"), **args)
