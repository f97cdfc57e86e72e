"""Time and peak memory of ``emolib.metrics.retrieval_scores`` at scale.

Default: 10^4 queries x 10^5 gallery items, dimension 64, 7 classes, k = 5, cosine, the
default (automatic) chunk size. The full score matrix would take 8 GB in float64; the
chunked evaluation must stay far below that.

    OMP_NUM_THREADS=1 python benchmarks/bench_metrics.py
    python benchmarks/bench_metrics.py --n-query 2000 --n-gallery 20000 --chunk-size 256

Peak memory is reported two ways: ``tracemalloc`` (Python + NumPy allocations made during
the call, excluding the inputs) and the process's maximum resident set size (``ru_maxrss``,
includes the interpreter, libraries and inputs).
"""
from __future__ import annotations

import argparse
import platform
import resource
import time
import tracemalloc

import numpy as np

from emolib import metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-query", type=int, default=10_000)
    ap.add_argument("--n-gallery", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--classes", type=int, default=7)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--chunk-size", type=int, default=None, help="default: automatic")
    ap.add_argument("--similarity", default="cosine", choices=["cosine", "euclidean"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    q = rng.normal(size=(args.n_query, args.dim)).astype(np.float32)
    g = rng.normal(size=(args.n_gallery, args.dim)).astype(np.float32)
    ql = rng.integers(0, args.classes, args.n_query)
    gl = rng.integers(0, args.classes, args.n_gallery)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tracemalloc.start()
    t0 = time.perf_counter()
    res = metrics.retrieval_scores(q, g, ql, gl, k=args.k, similarity=args.similarity,
                                   chunk_size=args.chunk_size)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    chunk = args.chunk_size or max(1, metrics.DEFAULT_CHUNK_ELEMENTS // args.n_gallery)
    full_gb = args.n_query * args.n_gallery * 8 / 1e9
    print(f"retrieval_scores: {args.n_query} queries x {args.n_gallery} gallery, dim {args.dim}, "
          f"k={args.k}, {args.similarity}, chunk_size={chunk} "
          f"({platform.processor() or platform.machine()})")
    print(f"  time                    {seconds:8.1f} s  "
          f"({seconds / args.n_query * 1e3:.2f} ms/query)")
    print(f"  peak traced allocation  {peak / 2**20:8.1f} MiB  "
          f"(full float64 matrix would be {full_gb:.1f} GB)")
    print(f"  max RSS before / after  {rss_before:8.1f} / {rss_after:.1f} MiB")
    print(f"  macro P@{args.k} {res.macro_p_at_k:.4f}  macro MRR {res.macro_mrr:.4f}  "
          f"(random labels: P@k ~ 1/{args.classes} = {1 / args.classes:.4f})")


if __name__ == "__main__":
    main()
