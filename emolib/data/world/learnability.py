"""Is the emotion world learnable? Simple baselines per modality on the held-out split.

A world that is pure noise teaches nothing; a world a linear model solves perfectly tests
nothing. :func:`learnability_table` fits one deliberately simple baseline per dataset role
on the ``train`` split and scores it on the ``test`` split, with the chance level beside it:

* music (7 moods) and piano (4 quadrants, split by song): logistic regression on librosa
  summary features (mean/std of 20 MFCCs, chroma, onset strength, RMS, and the tempo);
* music tags: one-vs-rest logistic regression on the same features (macro ROC-AUC);
* images (8 labels): logistic regression on colour statistics (HSV histograms, HSV
  mean/std) and edge density;
* Alm (5) and ISEAR (7) texts: bag of words (uni+bigram tf-idf) + logistic regression;
  Alm also with a held-out author (train on two authors, test on the third);
* mid-level clips: ridge regression on the audio features, Pearson r averaged over the 7
  mid-level dimensions.

Notebook: 00_tour (world section; writes paper_tables/world_learnability.{csv,md}).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from emolib.data.splits import stratified_split
from emolib.data.taxonomies import MIDLEVEL_NAMES

__all__ = ["audio_summary_features", "image_colour_features", "learnability_table",
           "MIDLEVEL_COLUMNS"]

log = logging.getLogger(__name__)

#: the seven mid-level perceptual features (Aljanaki & Soleymani 2018)
MIDLEVEL_COLUMNS = MIDLEVEL_NAMES  # the old name of taxonomies.MIDLEVEL_NAMES


def audio_summary_features(path: str, sr: int = 16000) -> np.ndarray:
    """Mean/std of 20 MFCCs, 12 chroma bins, onset strength and RMS, plus tempo (85 values)."""
    import librosa

    from emolib.numba_cache import prime_librosa

    prime_librosa()

    y, _ = librosa.load(path, sr=sr, mono=True)
    hop = 512
    mf = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, n_fft=1024, hop_length=hop)
    ch = librosa.feature.chroma_stft(y=y, sr=sr, n_fft=2048, hop_length=hop)
    on = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    rm = librosa.feature.rms(y=y, frame_length=1024, hop_length=hop)[0]
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=on, sr=sr, hop_length=hop))[0])
    parts = [mf.mean(1), mf.std(1), ch.mean(1), ch.std(1),
             [on.mean(), on.std(), rm.mean(), rm.std(), tempo]]
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])


def _audio_matrix(paths: Sequence[str], sr: int, n_jobs: int, desc: str,
                  progress: bool) -> np.ndarray:
    from joblib import Parallel, delayed

    from emolib.progress import tqdm

    it = tqdm(list(paths), desc=desc, disable=not progress, leave=False)
    rows = Parallel(n_jobs=n_jobs)(delayed(audio_summary_features)(p, sr) for p in it)
    return np.vstack(rows) if rows else np.zeros((0, 85))


def image_colour_features(path: str) -> np.ndarray:
    """HSV histograms (12 hue, 4 saturation, 4 value bins), HSV mean/std, edge density (27)."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    hsv = np.asarray(img.convert("HSV"), dtype=np.float64) / 255.0
    h, s, v = hsv[..., 0].ravel(), hsv[..., 1].ravel(), hsv[..., 2].ravel()
    hh = np.histogram(h, bins=12, range=(0, 1))[0] / h.size
    hs = np.histogram(s, bins=4, range=(0, 1))[0] / s.size
    hv = np.histogram(v, bins=4, range=(0, 1))[0] / v.size
    grey = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    gx, gy = np.diff(grey, axis=1)[:-1, :], np.diff(grey, axis=0)[:, :-1]
    edges = float((np.hypot(gx, gy) > 0.15).mean())
    return np.concatenate([hh, hs, hv,
                           [h.mean(), h.std(), s.mean(), s.std(), v.mean(), v.std(), edges]])


def _split_idx(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices; a tiny world without test items is scored on ``val``."""
    s = df["split"].to_numpy()
    te = np.flatnonzero(s == "test")
    if len(te) == 0:
        log.warning("no test items in a table of %d rows: scoring on the val split", len(s))
        te = np.flatnonzero(s == "val")
    return np.flatnonzero(s == "train"), te


def _chance(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent training label."""
    vals, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(y_test == vals[np.argmax(counts)]))


def _logreg(X: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray, seed: int,
            C: float = 1.0) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(te) == 0 or len(np.unique(y[tr])) < 2:
        return float("nan")
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000, random_state=seed))
    clf.fit(X[tr], y[tr])
    return float(np.mean(clf.predict(X[te]) == y[te]))


def _bow_accuracy(texts: Sequence[str], y: np.ndarray, tr: np.ndarray, te: np.ndarray,
                  seed: int) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(te) == 0 or len(np.unique(y[tr])) < 2:
        return float("nan")
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X_tr = vec.fit_transform([texts[i] for i in tr])
    X_te = vec.transform([texts[i] for i in te])
    clf = LogisticRegression(C=5.0, max_iter=3000, random_state=seed).fit(X_tr, y[tr])
    return float(np.mean(clf.predict(X_te) == y[te]))


def _row(role: str, task: str, baseline: str, metric: str, value: float, chance: float,
         n_train: int, n_test: int) -> dict:
    return {"dataset": role, "task": task, "baseline": baseline, "metric": metric,
            "value": round(float(value), 4), "chance": round(float(chance), 4),
            "n_train": int(n_train), "n_test": int(n_test)}


def learnability_table(world, seed: int = 0, n_jobs: int | None = None,
                       progress: bool = True) -> pd.DataFrame:
    """One row per (dataset role, task): a simple baseline's held-out score and chance.

    Columns: dataset, task, baseline, metric, value, chance, n_train, n_test. Roles the
    world does not contain are skipped. Deterministic for a given world and ``seed``.
    """
    import os

    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

    n_jobs = n_jobs or os.cpu_count() or 1
    rows: list[dict] = []
    audio_base = "logreg on librosa summary (MFCC, chroma, onset, RMS, tempo)"

    m = world.music
    if len(m):
        X = _audio_matrix(m["audio_path"], world.sr, n_jobs, "learnability: music", progress)
        y = m["label"].to_numpy()
        tr, te = _split_idx(m)
        rows.append(_row("music", "7 moods", audio_base, "accuracy", _logreg(X, y, tr, te, seed),
                         _chance(y[tr], y[te]), len(tr), len(te)))
        mlb = MultiLabelBinarizer(classes=list(world.tag_vocab) or None)
        Y = mlb.fit_transform(m["tags"])
        keep = [j for j in range(Y.shape[1])
                if 0 < Y[tr, j].sum() < len(tr) and 0 < Y[te, j].sum() < len(te)]
        if keep:
            sc = StandardScaler().fit(X[tr])
            aucs = []
            for j in keep:
                clf = LogisticRegression(max_iter=3000, random_state=seed).fit(
                    sc.transform(X[tr]), Y[tr, j])
                aucs.append(roc_auc_score(Y[te, j], clf.decision_function(sc.transform(X[te]))))
            rows.append(_row("music", f"tags ({len(keep)} of {Y.shape[1]} testable)",
                             "one-vs-rest " + audio_base, "macro ROC-AUC", float(np.mean(aucs)),
                             0.5, len(tr), len(te)))
    p = world.piano
    if len(p):
        X = _audio_matrix(p["audio_path"], world.sr, n_jobs, "learnability: piano", progress)
        y = p["label"].to_numpy()
        tr, te = _split_idx(p)
        rows.append(_row("piano", "4 quadrants (split by song)", audio_base, "accuracy",
                         _logreg(X, y, tr, te, seed), _chance(y[tr], y[te]), len(tr), len(te)))
    ml = world.midlevel
    cols = [c for c in MIDLEVEL_COLUMNS if c in ml.columns]
    if len(ml) and cols:
        X = _audio_matrix(ml["audio_path"], world.sr, n_jobs, "learnability: mid-level", progress)
        tr, te = _split_idx(ml)
        sc = StandardScaler().fit(X[tr])
        rs = []
        for c in cols:
            yv = ml[c].to_numpy(dtype=float)
            pred = Ridge(alpha=10.0).fit(sc.transform(X[tr]), yv[tr]).predict(sc.transform(X[te]))
            rs.append(np.corrcoef(pred, yv[te])[0, 1] if np.std(pred) > 0 and np.std(yv[te]) > 0
                      else 0.0)
        rows.append(_row("midlevel", f"{len(cols)} mid-level values", "ridge on librosa summary",
                         "mean Pearson r", float(np.mean(rs)), 0.0, len(tr), len(te)))
    im = world.images
    if len(im):
        X = np.vstack([image_colour_features(pth) for pth in im["image_path"]])
        y = im["label"].to_numpy()
        tr, te = _split_idx(im)
        rows.append(_row("images", "8 emotions", "logreg on HSV histograms + edge density",
                         "accuracy", _logreg(X, y, tr, te, seed), _chance(y[tr], y[te]),
                         len(tr), len(te)))
    for role, task in (("alm", "5 emotions"), ("isear", "7 emotions")):
        df = getattr(world, role)
        if not len(df):
            continue
        y = df["label"].to_numpy()
        texts = df["text"].tolist()
        if role == "alm":  # the world's own split holds an author out: also a stratified one
            strat = stratified_split(y, (0.8, 0.2), seed)
            tr, te = np.flatnonzero(strat == "train"), np.flatnonzero(strat == "test")
            task_row = f"{task}, stratified 80/20"
        else:
            (tr, te), task_row = _split_idx(df), task
        rows.append(_row(role, task_row, "bag of words (tf-idf 1-2 grams) + logreg", "accuracy",
                         _bow_accuracy(texts, y, tr, te, seed), _chance(y[tr], y[te]),
                         len(tr), len(te)))
        if role == "alm" and "author" in df.columns and df["author"].nunique() > 1:
            held = sorted(df["author"].unique())[-1]
            a = df["author"].to_numpy()
            tr2, te2 = np.flatnonzero(a != held), np.flatnonzero(a == held)
            rows.append(_row(role, f"{task}, author {held} held out",
                             "bag of words (tf-idf 1-2 grams) + logreg",
                             "accuracy", _bow_accuracy(texts, y, tr2, te2, seed),
                             _chance(y[tr2], y[te2]), len(tr2), len(te2)))
    return pd.DataFrame(rows, columns=["dataset", "task", "baseline", "metric", "value", "chance",
                                       "n_train", "n_test"])
