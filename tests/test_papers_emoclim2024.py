"""emolib.papers.emoclim2024: the budget, the window and view helpers, the training step and
the evaluation functions, on tiny hand-built experiments (no world, no encoders trained)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from emolib import metrics
from emolib.losses.supcon import emoclim_loss
from emolib.papers import emoclim2024 as emo


# ---------------------------------------------------------------------- budget
def test_budget_decodes_each_profile():
    q, d, p = (emo.budget(x) for x in emo.PROFILES)
    assert (q.epochs, d.epochs, p.epochs) == (4, 10, 15)
    assert (q.batches_per_epoch, d.batches_per_epoch, p.batches_per_epoch) == (8, 10, 100)
    assert (q.lr, d.lr, p.lr) == (1e-3, 1e-3, 1e-4)
    assert (d.n_views, p.n_views) == (2, 8)
    assert (d.unfrozen_epochs, d.unfrozen_batches, d.unfrozen_batch_size) == (1, 4, 16)
    assert (p.unfrozen_epochs, p.unfrozen_batches, p.unfrozen_batch_size) == (15, 100, 64)
    assert (q.tag_epochs, d.tag_epochs, p.tag_epochs) == (10, 20, 100)
    assert d.pretrain_epochs == (4, 3, 2) and p.pretrain_epochs == (20, 100, 100)
    assert d.weight_decay == 0.01
    assert d.summary() == ("epochs=10x10 batch=64 lr=0.001 wd=0.01 views=2 unfrozen=1x4x16 "
                           "tag_epochs=20")


def test_budget_overrides_and_refuses_an_unknown_profile():
    b = emo.budget("default", epochs=3, lr=5e-4, pretrain_epochs=[1, 1, 1], batch_size=32)
    assert (b.epochs, b.lr, b.pretrain_epochs, b.batch_size) == (3, 5e-4, (1, 1, 1), 32)
    assert b.batches_per_epoch == 10  # the rest from the profile
    with pytest.raises(ValueError, match="profile='fast'"):
        emo.budget("fast")


def test_label_mapping_drops_awe_disgust_and_tender():
    assert "awe" not in emo.MAP and "disgust" not in emo.MAP
    assert "tender" not in emo.CLASSES and len(emo.CLASSES) == len(set(emo.CLASSES)) == 6


# ---------------------------------------------------------------------- windows
def test_windows_overlap_by_use():
    wave = np.arange(16, dtype=np.float32)
    ret = emo.windows_of(wave, 8, "retrieval")  # hop 2 (75 % overlap)
    tag = emo.windows_of(wave, 8, "tagging")  # hop 8
    np.testing.assert_array_equal(ret[:, 0], [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(tag[:, 0], [0, 8])
    assert emo.windows_of(wave, None).shape == (1, 16)


def test_embed_groups_equals_one_call_per_group():
    w = torch.arange(12.0).reshape(3, 4)

    def fn(x):
        return np.asarray(x, dtype=np.float32) @ w.numpy()

    rng = np.random.default_rng(0)
    groups = [rng.standard_normal((k, 3)).astype(np.float32) for k in (2, 2, 1, 3, 2)]
    got = emo.embed_groups(fn, iter([g for g in groups if len(g) == 2]), rows=3)
    want = np.stack([fn(g) for g in groups if len(g) == 2])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.shape == (3, 2, 4)


def test_pick_views_distinct_in_training_fixed_otherwise():
    views = torch.arange(5 * 3 * 1, dtype=torch.float32).view(5, 3, 1)  # item i view v = 3i+v
    torch.manual_seed(0)
    two = emo.pick_views(views, [0, 2, 4], train=True)
    assert two.shape == (3, 2, 1)
    assert all(two[k, 0, 0] != two[k, 1, 0] for k in range(3))
    assert all(int(two[k, j, 0]) // 3 == i for k, i in enumerate([0, 2, 4]) for j in (0, 1))
    fixed = emo.pick_views(views, [1, 3], train=False)
    np.testing.assert_array_equal(fixed[:, :, 0].numpy(), [[3, 4], [9, 10]])


def test_tag_targets_multi_hot():
    clips = pd.DataFrame({"tags": [["a", "c"], [], ["b"]]})
    np.testing.assert_array_equal(emo.tag_targets(clips, ["a", "b", "c"]),
                                  [[1, 0, 1], [0, 0, 0], [0, 1, 0]])


# ---------------------------------------------------------------------- a tiny experiment
def _tiny_experiment(n_per_class: int = 6, d_img: int = 5, d_aud: int = 7) -> emo.Experiment:
    """Every class in every split, random cached features, no encoders needed by frozen runs."""
    rows = []
    for c in emo.CLASSES:
        rows += [(c, s) for s in ["train"] * (n_per_class - 2) + ["val", "test"]]
    images = pd.DataFrame(rows, columns=["label", "split"]).assign(
        item_id=lambda d: [f"i{k}" for k in range(len(d))])
    music = pd.DataFrame(rows, columns=["label", "split"]).assign(
        audio_path=lambda d: [f"m{k}.wav" for k in range(len(d))],
        item_id=lambda d: [f"m{k}" for k in range(len(d))])
    data = emo.Data(images, music, music.assign(tags=[[]] * len(music)), [], "tiny")
    g = torch.Generator().manual_seed(0)
    test = list(music.loc[music["split"] == "test", "audio_path"])
    key = ("retrieval", "Harmonic CNN")
    feats = emo.Features(
        img_clean=torch.randn(len(images), d_img, generator=g),
        img_views=torch.randn(len(images), 2, d_img, generator=g), img_size=8,
        views={"Harmonic CNN": torch.randn(len(music), 2, d_aud, generator=g)},
        windows={key: torch.randn(len(test), 3, d_aud, generator=g)}, win_paths={key: test},
        win_row={key: {p: i for i, p in enumerate(test)}}, bank=[])
    enc = emo.Encoders(None, "stand-in", {}, None, "CLAP")
    return emo.Experiment(data, enc, feats, reader=None, bud=emo.budget(
        "quick", epochs=2, batches_per_epoch=2, batch_size=8), seed=0, emb_dim=4)


def test_total_loss_is_emoclim_loss_of_the_flattened_views():
    exp = _tiny_experiment()
    zi = F.normalize(torch.randn(3, 2, 4), dim=-1)
    za = F.normalize(torch.randn(4, 2, 4), dim=-1)
    ii, ai = [0, 7, 13], [1, 2, 8, 30]
    got = emo.total_loss(exp, zi, ii, za, ai)
    yi = exp.y_img[torch.as_tensor(ii)].repeat_interleave(2)
    ya = exp.y_aud[torch.as_tensor(ai)].repeat_interleave(2)
    want = emoclim_loss(zi.flatten(0, 1), yi, za.flatten(0, 1), ya, temperature=0.07)["total"]
    assert float(got) == pytest.approx(float(want), rel=1e-6)


def test_train_and_evaluate_a_frozen_variant():
    exp = _tiny_experiment()
    run = emo.train_variant(exp, "Harmonic CNN (frozen)", 0)
    again = emo.train_variant(exp, "Harmonic CNN (frozen)", 0)
    assert len(run.history["epoch"]) == 2
    for a, b in zip(run.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)  # same seed, same weights
    runs = {("Harmonic CNN (frozen)", 0): run}
    results, emb, items = emo.table1_results(exp, runs)
    assert set(results["metric"]) == {"P@5", "MRR"} and len(results) == 8
    zi, za = emb["Harmonic CNN (frozen)", 0]
    assert zi.shape == (len(emo.CLASSES), 4) and za.shape == (len(emo.CLASSES), 4)
    # music→image of the table equals the metric computed directly
    li = np.array(emo.CLASSES)
    direct = metrics.retrieval_scores(za.numpy(), zi.numpy(), li, li, k=5)
    row = results[(results["setting"] == "encoder=Harmonic CNN (frozen); direction=music→image")
                  & (results["metric"] == "P@5")]
    assert float(row["value"].iloc[0]) == pytest.approx(100 * direct.macro_p_at_k)
    torch.testing.assert_close(za.norm(dim=1), torch.ones(len(za)))
    # the per-query rows average (per class, then over classes) to the table's values
    from emolib import claims

    claims.check_item_results(items)
    for (setting, metric), grp in items.groupby(["setting", "metric"]):
        macro = grp.groupby("stratum")["value"].mean().mean()
        want = results[(results["setting"] == setting) & (results["metric"] == metric)]
        assert macro == pytest.approx(float(want["value"].iloc[0]))
    assert set(items.loc[items["setting"].str.endswith("image→music"), "item"]) == set(
        exp.data.images.loc[exp.data.images["split"] == "test", "item_id"])


def test_table2_takes_the_image_to_music_rows():
    enc = emo.Encoders(None, "x", {}, None, "CLAP-style")
    settings = {"encoder=Harmonic CNN (frozen); direction=image→music": (40.0, 50.0),
                "encoder=CLAP-style (frozen); direction=image→music": (30.0, 45.0)}
    rows = [("Table 1", st, m, s, v + s) for st, (p5, mrr) in settings.items()
            for s in (0, 1) for m, v in (("P@5", p5), ("MRR", mrr))]
    t2 = emo.table2_results(pd.DataFrame(rows, columns=emo.RESULT_COLUMNS), enc, [0, 1])
    got = t2.set_index(["setting", "metric", "seed"])["value"]
    assert got["method=Emo-CLIM (HCNN); input=Image; dataset=DeepEmotion", "MRR", 1] == 51.0
    assert got["method=Emo-CLIM (CLAP-style); input=Image; dataset=DeepEmotion", "P@5", 0] == 30.0


def test_adamw_weight_decay_reaches_the_optimisers(monkeypatch):
    """The heads (train_variant) and the tagging probe (tag_head_scores) train with AdamW and
    the budget's weight decay (official code: PyTorch's default 0.01), not plain Adam."""
    made = []

    class Recording(torch.optim.AdamW):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            made.append([g["weight_decay"] for g in self.param_groups])

    monkeypatch.setattr(torch.optim, "AdamW", Recording)
    exp = _tiny_experiment()
    assert exp.bud.weight_decay == emo.WEIGHT_DECAY == 0.01
    emo.train_variant(exp, "Harmonic CNN (frozen)", 0)
    assert made == [[0.01]]
    feats = torch.randn(len(exp.data.music), 2, 4)
    cls = np.array([emo.CLASSES.index(c) for c in exp.data.music["label"]])
    y = np.stack([cls % 2 == 0, cls % 3 == 0], axis=1).astype(np.float32)  # both in test
    emo.tag_head_scores(feats, y, exp.data.music["split"].to_numpy(), 0, epochs=1,
                        weight_decay=0.05)
    assert made[-1] == [0.05]
    exp.bud = emo.budget("quick", epochs=1, batches_per_epoch=1, batch_size=8, weight_decay=0.0)
    emo.train_variant(exp, "Harmonic CNN (frozen)", 0)
    assert made[-1] == [0.0]


def test_claims_for_run_names_the_clap_role_and_notes_why_not_run():
    enc = emo.Encoders(None, "x", {}, None, "CLAP-style (world)")
    rows = pd.DataFrame({"id": ["a", "b"], "metric": ["P@5", "ROC-AUC"],
                         "setting_a": ["encoder=CLAP (frozen); direction=image→music",
                                       "method=Emo-CLIM (CLAP); pretraining=SSL → SupCon"],
                         "setting_b": ["encoder=Harmonic CNN (frozen); direction=image→music",
                                       "method=Harmonic CNN [17]; pretraining=MT"]})
    got = emo.claims_for_run(rows, enc)
    assert got["setting_a"].tolist() == [
        "encoder=CLAP-style (world) (frozen); direction=image→music",
        "method=Emo-CLIM (CLAP); pretraining=SSL → SupCon"]  # only encoder= settings renamed
    assert rows["setting_a"].iloc[0].startswith("encoder=CLAP (frozen)")  # input untouched
    table = got.assign(verdict=["holds", "not run"], note=["", "no rows"])
    noted = emo.not_run_notes(table)
    assert noted["note"].iloc[0] == ""
    assert "over tags" in noted["note"].iloc[1]
    table.loc[1, ["metric", "setting_b"]] = ["P@5", "method=[7] V-A Regression; input=Text"]
    assert "different query sets" in emo.not_run_notes(table)["note"].iloc[1]
