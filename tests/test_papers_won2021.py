"""emolib.papers.won2021: the budget, the six models on a tiny synthetic experiment, and
per-query results that reproduce the tables' macro averages through emolib.claims."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from emolib import claims
from emolib.data import taxonomies as tx
from emolib.papers import won2021 as won


def test_budget_profiles_and_overrides():
    d = won.budget("default")  # musicnn (real, frozen) + the world-pretrained ResNet row
    assert (d.audio_arch, d.compare_audio_arch, d.cnn_arch) == ("MTT_musicnn", "won2021_resnet",
                                                                "won2021_resnet")
    assert d.musicnn and (d.n_chunks, d.compare_n_chunks) == (3, 4)
    assert (d.epochs, d.lr, d.tagger_epochs, d.audio_width) == (15, 1e-3, 3, 16)
    assert not d.finetune_audio and not d.finetune_text and d.hidden == 128
    assert set(d.widths.values()) == {128}
    q = won.budget("quick")
    assert (q.epochs, q.tagger_epochs, q.audio_width, q.hidden) == (10, 2, 8, 64)
    p = won.budget("paper")
    assert (p.n_chunks, p.epochs, p.lr, p.tagger_epochs, p.tagger_lr) == (16, 100, 1e-4, 100, 1e-4)
    assert not p.finetune_audio and p.finetune_text and p.paper  # musicnn stays frozen
    assert p.widths["text_cls"] == 512 and p.widths["va"] == 64
    r = won.budget("paper", audio_arch="won2021_resnet")  # the paper's set-up: a CNN, fine-tuned
    assert (r.n_chunks, r.finetune_audio, r.compare_audio_arch, r.cnn_arch) == (
        16, True, None, "won2021_resnet")
    o = won.budget("default", audio_arch="won2021_resnet", epochs=2, n_chunks=1,
                   finetune_audio=True)
    assert (o.epochs, o.n_chunks, o.finetune_audio, o.musicnn) == (2, 1, True, False)
    n = won.budget("default", compare_audio_arch=None)
    assert n.cnn_arch is None and n.audio_width is None
    with pytest.raises(ValueError, match="profile='fast'"):
        won.budget("fast")
    with pytest.raises(ValueError, match="finetune_audio=True: MTT_musicnn is used frozen"):
        won.budget("default", finetune_audio=True)
    with pytest.raises(ValueError, match="audio_arch='vggish'"):
        won.budget("default", audio_arch="vggish")
    with pytest.raises(ValueError, match="compare_audio_arch='MSD_musicnn'"):
        won.budget("default", compare_audio_arch="MSD_musicnn")


def _experiment(seed: int = 0, per_class: int = 6, chunks: int = 2, dim: int = 8):
    """Random features with a little label signal: 7 music moods, Alm and ISEAR texts."""
    g = np.random.default_rng(seed)
    rows = []
    for split, n in (("train", per_class), ("val", 2), ("test", 3)):
        for lab in won.MUSIC:
            rows += [{"item_id": f"m-{split}-{lab}-{i}", "label": lab, "audio_path": "",
                      "split": split} for i in range(n)]
    music = pd.DataFrame(rows)
    trows = []
    for d, labs in (("Alm", won.ALM), ("ISEAR", won.ISEAR)):
        for split, n in (("train", per_class), ("val", 2), ("test", 3)):
            trows += [{"item_id": f"{d}-{split}-{lab}-{i}", "dataset": d, "label": lab,
                       "text": "", "split": split} for lab in labs for i in range(n)]
    texts = pd.DataFrame(trows)
    centre = {lab: g.normal(size=dim) for lab in dict.fromkeys(won.MUSIC + won.ALM + won.ISEAR)}
    audio = np.stack([[centre[lab] + g.normal(size=dim) for _ in range(chunks)]
                      for lab in music["label"]]).astype(np.float32)
    text = np.stack([centre[lab] + g.normal(size=dim) for lab in texts["label"]]).astype(np.float32)
    labels = list(dict.fromkeys(won.MUSIC + won.ALM + won.ISEAR))
    word = {lab: (v / np.linalg.norm(v)).astype(np.float32)
            for lab, v in zip(labels, g.normal(size=(len(labels), 6)))}
    b = won.budget("quick", epochs=2)
    return won.make_experiment(music, texts, audio, text, word, b, batch_size=16, emb_dim=8)


@pytest.fixture(scope="module")
def exp():
    return _experiment()


@pytest.mark.parametrize("name", won.MODELS)
@pytest.mark.parametrize("dataset", ["Alm", "ISEAR"])
def test_every_model_runs_and_its_items_give_the_macro_values(exp, name, dataset):
    run = won.run_model(exp, name, dataset, 0)
    n_test = int(((exp.texts["dataset"] == dataset) & (exp.texts["split"] == "test")).sum())
    assert set(run.scores) == set(won.MAPPING_NAMES)
    items = won.item_rows(exp, name, dataset, 0, run)
    checked = claims.check_item_results(items)
    assert len(checked) == 3 * 2 * n_test  # mappings x (P@5, MRR) x queries
    for m in won.MAPPING_NAMES:
        setting = won.setting_name(name, dataset, m)
        for metric in ("P@5", "MRR"):
            # an independent path: the claims machinery's macro average of the items
            assert claims.macro_average(items, setting, metric) == pytest.approx(
                run.scores[m][metric], abs=1e-12)
        per = run.per_query[m]
        assert run.scores[m]["micro P@5"] == pytest.approx(per["P@5"].mean(), abs=1e-12)
        assert ((per["P@5"] >= 0) & (per["P@5"] <= 1) & (per["RR"] >= 0) & (per["RR"] <= 1)).all()
    rows = won.table3_rows(name, dataset, 0, run)
    assert len(rows) == 9 and {r["metric"] for r in rows} == {"P@5", "MRR", "micro P@5"}


def test_classification_fails_on_isear_as_in_the_paper(exp):
    # no ISEAR label is an AudioSet mood: every query retrieves nothing
    run = won.run_model(exp, "Classification", "ISEAR", 0)
    for m in won.MAPPING_NAMES:
        assert run.scores[m]["P@5"] == 0 and run.scores[m]["MRR"] == 0


def test_score_classification_hand_case(exp):
    # two queries: "happy" predicted happy (a music label), "fear" predicted fear (none)
    probs = np.zeros((3, len(won.MUSIC)))
    probs[:, won.MUSIC.index("happy")] = [0.9, 0.1, 0.5]
    g_lab = ["happy", "sad", "happy"]
    scores, per = won.score_classification(exp, ["happy", "fear"], probs, ["happy", "fear"],
                                           g_lab)
    manual = per["manual"]
    assert manual["RR"].tolist()[1] == 0 and manual["P@5"].tolist()[1] == 0
    assert manual["RR"].tolist()[0] == 1.0  # the first-ranked clip is happy
    assert manual["P@5"].tolist()[0] == pytest.approx(2 / 5)
    assert scores["manual"]["P@5"] == pytest.approx((2 / 5 + 0) / 2)


def test_models_and_mappings_match_the_paper():
    assert won.MODELS[0] == "Classification" and len(won.MODELS) == 6
    assert set(won.PAPER_TABLE4) == set(won.MODELS)
    assert set(tx.MAPPINGS["won2021"]) >= set(won.MAPPING_NAMES)


def test_bad_arguments():
    e = _experiment(per_class=2)
    with pytest.raises(ValueError, match="model 'kNN'"):
        won.run_model(e, "kNN", "Alm", 0)
    with pytest.raises(ValueError, match="dataset 'Potter'"):
        won.run_model(e, "Classification", "Potter", 0)
    with pytest.raises(ValueError, match="space='pca'"):
        won.run_regression(e, "Alm", 0, "pca")
    with pytest.raises(ValueError, match="positives='ours'"):
        won.make_experiment(e.music, e.texts, e.audio, e.text, e.word, e.budget, positives="ours")


def test_silhouette_items_mean_is_sklearns_score(exp):
    from sklearn.metrics import silhouette_score

    run = won.run_model(exp, "V-A regression", "Alm", 0)
    items = won.silhouette_items(exp, "V-A regression", "Alm", 0, run)
    text = items[items.metric == "silhouette (text, test)"]
    assert len(text) == len(run.emb["tl"])
    assert text["value"].mean() == pytest.approx(
        silhouette_score(run.emb["text"], run.emb["tl"], metric="euclidean"), rel=1e-6)
    music = items[items.metric == "silhouette (music, test)"]
    assert set(music["stratum"]) == set(won.MUSIC)
    claims.check_item_results(items)
    # no joint space: nothing to measure
    cls = won.run_model(exp, "Classification", "Alm", 0)
    assert won.silhouette_items(exp, "Classification", "Alm", 0, cls).empty


def test_negative_sampling_option():
    e = _experiment(per_class=3)
    e_wu = won.make_experiment(e.music, e.texts, e.audio, e.text, e.word, e.budget,
                               batch_size=16, emb_dim=8, negative_sampling="distance_weighted")
    run = won.run_model(e_wu, "Metric learning (3-branch)", "Alm", 0)
    assert set(run.scores) == set(won.MAPPING_NAMES)
    with pytest.raises(ValueError, match="negative_sampling='wu'"):
        won.make_experiment(e.music, e.texts, e.audio, e.text, e.word, e.budget,
                            negative_sampling="wu")


def test_w2v_output_option():
    e = _experiment(per_class=3)
    e_sig = won.make_experiment(e.music, e.texts, e.audio, e.text, e.word, e.budget,
                                batch_size=16, emb_dim=8, w2v_output="sigmoid")
    run = won.run_model(e_sig, "W2V regression", "Alm", 0)
    assert (run.emb["text"] > 0).all() and (run.emb["text"] < 1).all()  # sigmoid outputs
    lin = won.run_model(e, "W2V regression", "Alm", 0)
    assert (lin.emb["text"] < 0).any()  # the linear default reaches negative coordinates
    with pytest.raises(ValueError, match="w2v_output='tanh'"):
        won.make_experiment(e.music, e.texts, e.audio, e.text, e.word, e.budget,
                            w2v_output="tanh")


def test_fig3_va_panels(exp):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = won.run_model(exp, "V-A regression", "Alm", 0)
    fig = won.fig3(run.emb, "Valence–arousal regression", "world (test)", seed=0, va=exp.va,
                   use_umap=False)
    left, right = fig.axes
    assert left.get_title() == "Alm test texts" and right.get_title() == "music test clips"
    assert left.get_xlabel() == "valence" and right.get_ylabel() == "arousal"
    # one scatter per label present plus one star per label of the taxonomy
    assert len(left.collections) == len(set(run.emb["tl"])) + len(won.ALM)
    assert "world (test)" in fig._suptitle.get_text()
    plt.close(fig)


def test_multihead_checkpoint_selection_scores_as_the_test_does(monkeypatch):
    # the validation metric the training loop maximises is the test protocol on the val split:
    # each val text -> AudioSet head -> a music mood that re-ranks the val songs
    e = _experiment(seed=2)
    seen = []
    real_train = won.train

    def spy(exp, model, loss_fn, train_loader, val_loader=None, val_metric=None, s=0):
        out = real_train(exp, model, loss_fn, train_loader, val_loader, val_metric, s)
        seen.append((out, val_metric(out)))
        return out

    monkeypatch.setattr(won, "train", spy)
    won.run_model(e, "Multi-head classification", "Alm", 0)
    (m, value), = seen
    mg, ml = won.music_split(e, "val")
    with torch.no_grad():
        probs = won.music_apply(e, lambda c: torch.softmax(
            m["head_audioset"](m["shared"](m["in_music"](c))), -1), mg).numpy()
        by_hand = []
        for d in won.TEXT_TAX:
            tq, tl = won.text_split(e, d, "val")
            pred = [won.MUSIC[i] for i in
                    m["head_audioset"](m["shared"](m["in_text"](tq))).argmax(1).tolist()]
            scores, _ = won.score_classification(e, pred, probs, tl, ml)
            by_hand.append(scores["w2v"]["P@5"])
    assert value == pytest.approx(np.mean(by_hand), abs=1e-12)


def test_with_audio_swaps_the_features_only(exp):
    other = won.with_audio(exp, np.zeros((len(exp.music), 3, 5), np.float32))
    assert other.d_audio == 5 and other.audio.shape == (len(exp.music), 3, 5)
    assert other.text is exp.text and other.positive == exp.positive
    assert other.music_heads == {} and other.music_heads is not exp.music_heads
    assert not other.budget.finetune_audio and other.cnn is None


def test_table1_rows_and_layout():
    from emolib.encoders.wordvec import WordVectors

    wv = WordVectors(["chill", "cold", "relax", "ambient"],
                     np.array([[1, 0], [0.9, 0.1], [0.2, 1], [0.7, 0.7]], np.float32), name="toy")
    rows = won.table1_rows({"toy": wv}, ["chill"], ["cold", "relax", "ambient", "chill"], k=2)
    assert rows["setting"].tolist() == [
        "query=chill; space=toy; rank=1; word=cold; music tag=no",
        "query=chill; space=toy; rank=2; word=ambient; music tag=yes"]  # ambient: an MTT tag
    assert rows["value"].tolist() == pytest.approx([0.9 / np.hypot(0.9, 0.1), np.sqrt(0.5)])
    wide = won.table1_wide(rows)
    assert wide.loc["chill", "toy"] == "cold, **ambient**"
    assert {"chillout", "ambient", "piano"} <= set(won.music_tag_words())
    vocab = won.table1_vocabulary()
    assert len(vocab) > 2000 and "abandon" in vocab and "chillout" in vocab


def test_audio_comparison_rows_pair_the_two_features(exp):
    res3 = pd.DataFrame(won.table3_rows("V-A regression", "Alm", 0,
                                        won.run_model(exp, "V-A regression", "Alm", 0)))
    other = won.with_audio(exp, np.asarray(exp.audio) * 2)
    rows = won.audio_comparison_rows(res3, "main", other, "cmp", [0], models=["V-A regression"])
    assert set(rows["table"]) == {"Audio features"}
    main = rows[rows.setting.str.startswith("audio=main; ")]
    cmp_ = rows[rows.setting.str.startswith("audio=cmp; ")]
    assert len(main) == len(res3) and len(cmp_) == 2 * len(res3)  # cmp: both text datasets
    assert main["value"].tolist() == res3["value"].tolist()


def test_probe_rows_match_sklearn_by_hand():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    g = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 20)
    x = g.normal(size=(60, 2, 4)) + (y == "a")[:, None, None] * 2.0
    split = np.tile(["train", "train", "test"], 20)
    rows = won.probe_rows({"toy": (x, y, split)}).set_index("metric")["value"]
    xm = x.mean(axis=1)
    sc = StandardScaler().fit(xm[split == "train"])
    clf = LogisticRegression(max_iter=5000).fit(sc.transform(xm[split == "train"]),
                                                y[split == "train"])
    pred = clf.predict(sc.transform(xm[split == "test"]))
    assert rows["accuracy"] == pytest.approx((pred == y[split == "test"]).mean())
    assert rows["chance accuracy"] == pytest.approx(7 / 20)  # test items: a 7, b 6, c 7
    assert rows["accuracy"] > rows["chance accuracy"]


def test_run_models_collects_rows_items_and_spaces(exp):
    runs = won.run_models(exp, [0, 1], models=["V-A regression"], world_seed=4)
    assert len(runs.rows) == 2 * 2 * 9  # datasets x seeds x (3 mappings x 3 metrics)
    assert set(runs.items["world_seed"]) == {4}
    assert set(runs.spaces) == {("V-A regression", "Alm"), ("V-A regression", "ISEAR")}
    checked = claims.check_item_results(runs.items)
    assert set(checked["seed"]) == {0, 1} and set(runs.timing) == {"V-A regression"}


def test_other_world_refuses_fine_tuned_runs(exp):
    import dataclasses

    tuned = dataclasses.replace(exp, budget=dataclasses.replace(exp.budget, finetune_text=True))
    with pytest.raises(ValueError, match="world_seeds pools runs on frozen features"):
        won.other_world(tuned, 1)
