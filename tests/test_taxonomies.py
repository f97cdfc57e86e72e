"""Taxonomies: label sets, NRC VAD values, the papers' mappings, nearest-VA mapping."""
from __future__ import annotations

from pathlib import Path

import pytest

from emolib.data import taxonomies as tx
from emolib.data.world.latent import sample_latent

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_label_sets_have_the_published_sizes():
    sizes = {k: len(v) for k, v in tx.TAXONOMIES.items()}
    assert sizes == {"audioset": 7, "alm": 5, "isear": 7, "deepemotion": 8, "emopia": 4}
    for labs in tx.TAXONOMIES.values():
        assert len(set(labs)) == len(labs)


def test_every_label_word_has_a_vad_entry():
    for tax, labs in tx.TAXONOMIES.items():
        if tax == "emopia":
            continue
        for lab in labs:
            v, a, d = tx.vad(lab)
            assert 0 <= v <= 1 and 0 <= a <= 1 and 0 <= d <= 1


def test_vad_values_match_the_full_lexicon():
    path = SHARED / "nrc_vad" / "NRC-VAD-Lexicon.txt"
    if not path.exists():
        pytest.skip("shared NRC VAD lexicon not present")
    lex = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        word, v, a, d = line.split("\t")
        lex[word] = (float(v), float(a), float(d))
    for word, vals in tx.NRC_VAD.items():
        assert lex[word] == pytest.approx(vals, abs=5e-4), word


def test_nearest_va_reproduces_every_row_of_the_papers_va_column():
    table = tx.compare_mappings()
    assert len(table) == 12
    disagreements = table.loc[~table.va_agrees, ["dataset", "label", "paper_va", "ours_va"]]
    assert disagreements.empty, disagreements.to_string()


def test_nearest_va_hand_case():
    # fearful (.083, .482): sad (.225, .333) is at 0.206, angry (.122, .830) at 0.350
    assert tx.nearest_va_label("fearful", "alm", "audioset") == "sad"
    # guilt (.208, .567) is nearer sad (0.235) than angry (0.277)
    assert tx.nearest_va_label("guilt", "isear", "audioset") == "sad"
    assert tx.nearest_va_label("Q3", "emopia", "audioset") == "sad"


def test_won_mappings_cover_both_text_taxonomies_and_land_in_audioset():
    audioset = set(tx.TAXONOMIES["audioset"])
    for name in ("va", "w2v", "manual"):
        m = tx.MAPPINGS["won2021"][name]
        assert set(m) == set(tx.TAXONOMIES["alm"]) | set(tx.TAXONOMIES["isear"])
        assert all(set(v) <= audioset for v in m.values())
    assert tx.MAPPINGS["won2021"]["manual"]["happy"] == ("exciting", "funny", "happy")
    assert tx.MAPPINGS["won2021"]["w2v"]["joy"] == ("tender",)


def test_emoclim_map_drops_awe_disgust_and_tender():
    m = tx.MAPPINGS["emoclim"]
    assert set(m) == set(tx.TAXONOMIES["deepemotion"]) - {"awe", "disgust"}
    assert "tender" not in {v[0] for v in m.values()}
    assert len({v[0] for v in m.values()}) == 6


def test_emopia_halves():
    assert tx.EMOPIA_AROUSAL_HIGH == {"Q1", "Q2"} and tx.EMOPIA_VALENCE_HIGH == {"Q1", "Q4"}
    for q in tx.TAXONOMIES["emopia"]:
        v, a = tx.va_centroid("emopia", q)
        assert (a > 0.5) == (q in tx.EMOPIA_AROUSAL_HIGH)
        assert (v > 0.5) == (q in tx.EMOPIA_VALENCE_HIGH)


def test_unknown_names_give_clear_errors():
    with pytest.raises(KeyError, match="unknown taxonomy 'nope'"):
        tx.labels("nope")
    with pytest.raises(KeyError, match="not a label of taxonomy 'alm'"):
        tx.va_centroid("alm", "joy")


def test_latent_is_deterministic_balanced_and_validated():
    a = sample_latent("alm", 40, seed=3)
    b = sample_latent("alm", 40, seed=3)
    assert a.equals(b)
    assert not a.equals(sample_latent("alm", 40, seed=4))
    assert (a.true_label.value_counts() == 40).all()
    assert a[["valence", "arousal"]].stack().between(0, 1).all()
    clean = sample_latent("alm", 40, seed=3, label_noise=0.0)
    assert (clean.label == clean.true_label).all()
    noisy = sample_latent("alm", 200, seed=3, label_noise=0.3)
    assert 0.2 < (noisy.label != noisy.true_label).mean() < 0.4
    # the class means follow the NRC VAD centroids
    means = sample_latent("audioset", 300, seed=0, spread=0.05).groupby("true_label").valence.mean()
    assert means["happy"] > means["tender"] > means["sad"]
    with pytest.raises(ValueError, match="n_per_class"):
        sample_latent("alm", 0, seed=0)
    with pytest.raises(ValueError, match="label_noise"):
        sample_latent("alm", 5, seed=0, label_noise=1.5)
