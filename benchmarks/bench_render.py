"""Benchmark: SoundFont rendering speed of the emotion world's audio, per role.

Renders a fixed, seeded sample of each role's MIDI in this one process (composition
excluded; ``emolib.data.world.sound.synthesize``, i.e. ``emolib.soundfont.render_midi`` +
the world's length and gain rules) and reports seconds of audio per CPU second of this
process ("x real time per core"; budget of issue 15: >= 1000x). Run on demand (not part
of the test suite):

    python benchmarks/bench_render.py [--n 24] [--seed 0]
"""
from __future__ import annotations

import argparse
import time


def _pieces(n: int, seed: int) -> dict[str, list]:
    from emolib.data.world import midlevel as ML
    from emolib.data.world import performances as P
    from emolib.data.world import scores as S
    from emolib.data.world.latent import sample_latent
    from emolib.data.world.music import compose_clip, item_seed
    from emolib.data.world.paired import compose_paired_piece
    from emolib.data.world.piano import compose_piano_clip
    from emolib.seed import rng

    per = max(1, n // 7)
    lat = sample_latent("audioset", per, seed)
    music = [compose_clip(r.true_label, r.valence, r.arousal, item_seed(seed, "music", i),
                          10.0)[0] for i, r in enumerate(lat.itertuples())]
    pl = sample_latent("emopia", max(1, n // 4), seed, label_noise=0.0)
    piano = [compose_piano_clip(r.valence, r.arousal, item_seed(seed, "piano-song", i), 0,
                                10.0) for i, r in enumerate(pl.itertuples())]
    paired = [compose_paired_piece(item_seed(seed, "paired", i), 10.0) for i in range(n)]
    perf = []
    for job in P._plan(seed, 9, (4, 7), (5, 9))[:n]:
        score = S.compose(job["spec"], seed=int(rng(seed, "score", job["piece"]).integers(2**31)))
        r = S.render(score, S.style_for(job["style"], seed, job["performance_id"]), seed,
                     key=job["performance_id"])
        perf.append(S.to_pretty_midi(r))
    midlevel = [S.to_pretty_midi(ML._random_clip(seed, i, 5.0)) for i in range(n)]
    return {"music": music, "piano": piano, "paired": paired, "performances": perf,
            "midlevel": midlevel}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=24, help="pieces per role (music: per 7 labels)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from emolib.data.world.sound import synthesize

    sets = _pieces(args.n, args.seed)
    synthesize(sets["music"][0], 16000)  # parse the SoundFont once
    total_audio = total_cpu = 0.0
    print("| role | pieces | audio (s) | CPU (s) | x real time per core |")
    print("|---|---|---|---|---|")
    for role, pms in sets.items():
        t0 = time.process_time()
        audio = sum(len(synthesize(pm, 16000, gain=0.5)) for pm in pms) / 16000
        cpu = time.process_time() - t0
        total_audio, total_cpu = total_audio + audio, total_cpu + cpu
        print(f"| {role} | {len(pms)} | {audio:.0f} | {cpu:.2f} | {audio / cpu:.0f}x |")
    print(f"| all | | {total_audio:.0f} | {total_cpu:.2f} | {total_audio / total_cpu:.0f}x |")


if __name__ == "__main__":
    main()
