"""One small, readable fit loop, and a cache for models trained once ("pre-training").

* :func:`fit` — seeded mini-batch training with a tqdm bar, validation each epoch,
  early stopping on the validation loss (or a validation metric), and the best weights
  restored at the end.
* :func:`cached_model` — build + train a model once and keep its ``state_dict`` under
  ``cache_dir("checkpoints")``, keyed by a hash of (name, params, library code,
  threads). Used for the world's pre-training stages (tagging CNNs, mid-level model,
  transcriber, symbolic Transformer).

Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import logging
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from emolib.io import atomic_path
from emolib.paths import cache_dir
from emolib.progress import tqdm
from emolib.seed import seed_everything

__all__ = ["FitResult", "fit", "evaluate_loss", "params_key", "code_fingerprint", "cached_model",
           "weights_fingerprint"]

log = logging.getLogger(__name__)

LossFn = Callable[[nn.Module, Any], torch.Tensor]


@dataclass
class FitResult:
    """What :func:`fit` returns: the model (best weights loaded), per-epoch history, best epoch."""

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int


def _to_device(batch: Any, device: str | torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


@torch.no_grad()
def evaluate_loss(model: nn.Module, loss_fn: LossFn, loader: Iterable[Any],
                  device: str | torch.device = "cpu") -> float:
    """Mean of ``loss_fn(model, batch)`` over ``loader`` in eval mode (weighted by batches)."""
    model.eval()
    total, n = 0.0, 0
    for batch in loader:
        total += float(loss_fn(model, _to_device(batch, device)))
        n += 1
    return total / max(n, 1)


def fit(model: nn.Module, loss_fn: LossFn, train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None, *, epochs: int, lr: float,
        optimizer: str = "adam", weight_decay: float = 0.0, device: str = "cpu",
        seed: int = 0, patience: int | None = None, progress: bool = True,
        val_metric: Callable[[nn.Module], float] | None = None,
        higher_is_better: bool = True, grad_clip: float | None = None) -> FitResult:
    """Train ``model`` with ``loss_fn(model, batch) -> scalar`` and keep the best epoch.

    The best epoch is the one with the lowest validation loss, or — when ``val_metric``
    is given — the best ``val_metric(model)`` (e.g. validation P@5, as Won et al. do).
    Without a validation loader the last epoch is kept. ``patience`` stops training after
    that many epochs without improvement. Batches may be tensors, tuples or dicts; they
    are moved to ``device``. Seeds torch with ``seed`` first.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if optimizer not in opt_cls:
        raise ValueError(f"optimizer must be one of {sorted(opt_cls)}, got {optimizer!r}")
    seed_everything(seed)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = opt_cls[optimizer](params, lr=lr, weight_decay=weight_decay)
    best_score, best_state, best_epoch, stale = -math.inf, None, 0, 0
    rows = []
    bar = tqdm(range(1, epochs + 1), desc=type(model).__name__, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        total, n = 0.0, 0
        for batch in train_loader:
            loss = loss_fn(model, _to_device(batch, device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            total += float(loss.detach())
            n += 1
        row = {"epoch": epoch, "train_loss": total / max(n, 1)}
        if val_loader is not None:
            row["val_loss"] = evaluate_loss(model, loss_fn, val_loader, device)
        if val_metric is not None:
            model.eval()
            row["val_metric"] = float(val_metric(model))
        rows.append(row)
        if "val_metric" in row:
            score = row["val_metric"] if higher_is_better else -row["val_metric"]
        elif "val_loss" in row:
            score = -row["val_loss"]
        else:
            score = float(epoch)  # no validation: keep the last epoch
        if score > best_score:
            best_score, best_epoch, stale = score, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
        bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k != "epoch"})
        if patience is not None and stale >= patience:
            log.info("early stop at epoch %d (best %d)", epoch, best_epoch)
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return FitResult(model=model, history=pd.DataFrame(rows), best_epoch=best_epoch)


@contextlib.contextmanager
def _preserved_rng_state() -> Iterator[None]:
    """Restore Python's, NumPy's and torch's global RNG state on exit."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the source of every ``emolib`` module (computed once per process).

    Part of every cache key (:func:`params_key`), so a checkpoint or feature file made by
    an older version of the library is never served to a newer one.
    """
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def params_key(name: str, params: Mapping[str, Any]) -> str:
    """A short, stable hash of (name, params, library code, torch thread count).

    ``params`` must be JSON-serialisable. The thread count is part of the key because it
    changes the last bits of trained weights (see :func:`emolib.seed.set_num_threads`).
    """
    blob = json.dumps({"name": name, "params": params, "code": code_fingerprint(),
                       "threads": torch.get_num_threads()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_model(name: str, params: Mapping[str, Any], build: Callable[[], nn.Module],
                 train: Callable[[nn.Module], Any], *, refresh: bool = False) -> nn.Module:
    """Build a model and train it once; later calls load the cached weights.

    ``build()`` must create the architecture deterministically from ``params``;
    ``train(model)`` trains it in place. The ``state_dict`` is stored atomically as
    ``cache_dir("checkpoints")/<name>-<hash(name, params)>.pt`` (tensors only, loaded
    with ``weights_only=True``). Put everything that changes the trained weights (seed,
    data profile, epochs, widths) into ``params``. The global random state (Python,
    NumPy, torch) is the same after a cache hit as after a miss, so what a notebook does
    next does not depend on whether the cache was warm.
    """
    path = cache_dir("checkpoints") / f"{name}-{params_key(name, params)}.pt"
    with _preserved_rng_state():  # a cache hit and a miss leave the global RNGs alike
        model = build()
        if path.exists() and not refresh:
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            log.info("loaded cached %s from %s", name, path)
            model.eval()
            return model
        train(model)
    model.cpu()
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
    log.info("trained and cached %s at %s", name, path)
    model.eval()
    return model


def weights_fingerprint(model: nn.Module) -> str:
    """A short sha256 of a model's ``state_dict`` (names, shapes, dtypes and bytes).

    Keys per-file feature caches to the exact weights that produced them, whether the
    model was trained here, loaded from the cache or from a checkpoint.
    Notebook: 03_chowdhury2023; tests of every cached trainer's determinism.
    """
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()[:16]
