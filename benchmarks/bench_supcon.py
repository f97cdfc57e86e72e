"""Benchmark: emolib SupCon vs pytorch-metric-learning SupConLoss (forward + backward).

Run on demand (not a test)::

    OMP_NUM_THREADS=1 python benchmarks/bench_supcon.py [--batches 64 512 4096] [--repeat 5]

For each batch size B it times one forward+backward of (a) ``emolib.losses.supcon.supcon``
intra-modal, (b) PML ``SupConLoss`` on the same embeddings (intra-modal), (c) the full
Emo-CLIM objective (four terms, two modalities of B items each) and (d) the same four terms
computed with PML (``ref_emb`` for the cross-modal terms). Median of ``--repeat`` runs after
one warm-up; prints a table and the ratio emolib / PML (< 1: emolib faster).
Notebook: 02_emoclim2024 (the loss used there).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from emolib.losses.supcon import emoclim_loss, supcon


def _time(fn, repeat: int) -> float:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 512, 4096])
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from pytorch_metric_learning.losses import SupConLoss
    from pytorch_metric_learning.reducers import MeanReducer

    pml = SupConLoss(temperature=0.07, reducer=MeanReducer())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, dim {args.dim}, "
          f"{args.classes} classes, median of {args.repeat}")
    print(f"{'B':>6} {'emolib 1 term':>14} {'PML 1 term':>11} {'ratio':>6} "
          f"{'emolib Eq.4':>12} {'PML Eq.4':>9} {'ratio':>6}")
    g = torch.Generator().manual_seed(0)
    for b in args.batches:
        zi = F.normalize(torch.randn(b, args.dim, generator=g), dim=1).requires_grad_(True)
        za = F.normalize(torch.randn(b, args.dim, generator=g), dim=1).requires_grad_(True)
        yi = torch.randint(0, args.classes, (b,), generator=g)
        ya = torch.randint(0, args.classes, (b,), generator=g)

        # the closures are timed within this iteration: defaults bind this batch's tensors
        def ours_one(zi=zi, yi=yi):
            supcon(zi, yi, temperature=0.07).backward()

        def pml_one(zi=zi, yi=yi):
            pml(zi, yi).backward()

        def ours_all(zi=zi, yi=yi, za=za, ya=ya):
            emoclim_loss(zi, yi, za, ya)["total"].backward()

        def pml_all(zi=zi, yi=yi, za=za, ya=ya):
            loss = 0.25 * (pml(zi, yi, ref_emb=za, ref_labels=ya)
                           + pml(za, ya, ref_emb=zi, ref_labels=yi)
                           + pml(zi, yi) + pml(za, ya))
            loss.backward()

        t1, t2 = _time(ours_one, args.repeat), _time(pml_one, args.repeat)
        t3, t4 = _time(ours_all, args.repeat), _time(pml_all, args.repeat)
        print(f"{b:>6} {t1 * 1e3:>11.2f} ms {t2 * 1e3:>8.2f} ms {t1 / t2:>6.2f} "
              f"{t3 * 1e3:>9.2f} ms {t4 * 1e3:>6.2f} ms {t3 / t4:>6.2f}")


if __name__ == "__main__":
    main()
