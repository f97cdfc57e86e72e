"""The fit loop and the checkpoint cache."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from emolib.train import cached_model, fit, params_key


def _data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 3, generator=g)
    w = torch.tensor([[1.5], [-2.0], [0.5]])
    return x, x @ w + 0.3


def _loaders():
    x, y = _data()
    train = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 192, 32)]
    val = [(x[192:], y[192:])]
    return train, val


def _linear(seed: int) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(3, 1)


def mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def test_fit_recovers_a_linear_map_and_is_deterministic():
    train, val = _loaders()
    # the model's initialisation is the caller's random choice: seed before building it
    r1 = fit(_linear(7), mse, train, val, epochs=60, lr=0.05, seed=1, progress=False)
    r2 = fit(_linear(7), mse, train, val, epochs=60, lr=0.05, seed=1, progress=False)
    assert torch.allclose(r1.model.weight, torch.tensor([[1.5, -2.0, 0.5]]), atol=0.05)
    assert torch.equal(r1.model.weight, r2.model.weight)
    assert list(r1.history.columns) == ["epoch", "train_loss", "val_loss"]
    assert r1.history.val_loss.iloc[r1.best_epoch - 1] == r1.history.val_loss.min()


def test_best_epoch_weights_are_restored():
    train, val = _loaders()
    # lr far too large: the loss diverges after the first epochs, the best epoch is early
    res = fit(nn.Linear(3, 1), mse, train, val, epochs=8, lr=1.5, optimizer="sgd", seed=0,
              progress=False)
    best = res.history.val_loss.min()
    x, y = val[0]
    assert float(mse(res.model, (x, y))) == pytest.approx(best, rel=1e-5)


def test_patience_stops_early_and_val_metric_selects():
    train, val = _loaders()
    calls = []

    def metric(model):  # pretend the metric peaks at epoch 2
        calls.append(1)
        return -abs(len(calls) - 2)

    res = fit(nn.Linear(3, 1), mse, train, val, epochs=20, lr=0.01, seed=0, patience=3,
              val_metric=metric, progress=False)
    assert res.best_epoch == 2 and len(res.history) == 5


def test_bad_arguments_are_named():
    train, _ = _loaders()
    with pytest.raises(ValueError, match="epochs"):
        fit(nn.Linear(3, 1), mse, train, epochs=0, lr=0.1)
    with pytest.raises(ValueError, match="optimizer"):
        fit(nn.Linear(3, 1), mse, train, epochs=1, lr=0.1, optimizer="lbfgs")


def test_cached_model_trains_once(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    trained = []

    def train(model):
        trained.append(1)
        with torch.no_grad():
            model.weight.fill_(3.0)

    m1 = cached_model("lin", {"seed": 0}, lambda: nn.Linear(2, 1), train)
    m2 = cached_model("lin", {"seed": 0}, lambda: nn.Linear(2, 1), train)
    assert trained == [1] and torch.equal(m1.weight, m2.weight)
    assert torch.all(m2.weight == 3.0)
    cached_model("lin", {"seed": 1}, lambda: nn.Linear(2, 1), train)
    assert trained == [1, 1]
    assert len(list((tmp_path / "checkpoints").glob("lin-*.pt"))) == 2
    assert params_key("a", {"x": 1, "y": 2}) == params_key("a", {"y": 2, "x": 1})


def test_cache_hit_and_miss_leave_the_same_global_rng_state(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))

    def train(model):
        torch.rand(100)  # training consumes random numbers ...
        np.random.rand(10)

    draws = []
    for _ in range(2):  # ... on the first (cold) call only
        torch.manual_seed(0)
        np.random.seed(0)
        cached_model("rng", {}, lambda: nn.Linear(2, 1), train)
        draws.append((torch.rand(3), np.random.rand(3)))
    assert torch.equal(draws[0][0], draws[1][0])
    assert np.array_equal(draws[0][1], draws[1][1])


def test_params_key_depends_on_thread_count_and_code():
    import torch

    from emolib.train import code_fingerprint

    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        k1 = params_key("a", {"x": 1})
        torch.set_num_threads(2)
        k2 = params_key("a", {"x": 1})
    finally:
        torch.set_num_threads(n)
    assert k1 != k2  # trained weights differ with the thread count: so must the cache key
    assert len(code_fingerprint()) == 16 and code_fingerprint() == code_fingerprint()


def test_fit_same_seed_is_bit_identical_and_the_seed_matters():
    # everything random *during* training comes from fit's seed: dropout masks and a
    # DataLoader shuffle that draws from torch's global generator. The initial weights are
    # the caller's (one copy shared by all runs); the global RNGs are disturbed between runs.
    from torch.utils.data import DataLoader, TensorDataset

    x, y = _data(1)
    torch.manual_seed(0)
    init = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
    init_state = {k: v.clone() for k, v in init.state_dict().items()}
    n = torch.get_num_threads()

    def run(seed: int, global_seed: int):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        model = copy.deepcopy(init)
        train = DataLoader(TensorDataset(x[:192], y[:192]), batch_size=32, shuffle=True)
        res = fit(model, mse, train, [(x[192:], y[192:])], epochs=4, lr=0.01, seed=seed,
                  patience=2, progress=False)
        return res.model.state_dict(), res.history, res.best_epoch

    try:
        torch.set_num_threads(1)
        (sa, ha, ea), (sb, hb, eb), (sc, hc, _) = run(0, 0), run(0, 123), run(1, 0)
    finally:
        torch.set_num_threads(n)
    assert list(sa) == list(sb) == list(sc)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # bit-identical, not allclose
    pd.testing.assert_frame_equal(ha, hb, check_exact=True)
    assert ea == eb
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)  # other seed: other weights ...
    assert not ha["train_loss"].equals(hc["train_loss"])  # ... and another history
    assert not all(torch.equal(sa[k], init_state[k]) for k in sa)  # and training did something
