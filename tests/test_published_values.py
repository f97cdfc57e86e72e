"""Every published value typed into emolib/data/published/ appears in the paper's text.

An independent check of the typing: the number, as typed, must occur in the paper's full
text (../shared/papers/, skipped when absent), e.g. a P@5 of 0.3574 in Won et al.'s
Table 3. Values the paper prints in another form (percent vs fraction) are checked in that
form too.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from emolib.tables import load_published

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "papers"
FILES = {
    "won2021": "won2021_emotion_embedding_spaces.txt",
    "emoclim2024": "stewart2024_emo_clim_images_music.txt",
    "chowdhury2023": "chowdhury2023_expressivity_aware_performance_retrieval.txt",
    "zhu2023": "zhu2023_symbolic_acoustic_mer.txt",
}


def _forms(value: str) -> set[str]:
    """The typed number and its plausible printed variants (0.677 <-> 67.7, .677)."""
    forms = {value}
    x = float(value)
    decimals = len(value.split(".")[1]) if "." in value else 0
    forms.add(value.lstrip("0") if value.startswith("0.") else value)
    if x <= 1.0 and decimals >= 2:
        forms.add(f"{x * 100:.{max(decimals - 2, 0)}f}")
    if x > 1.0:
        forms.add(f"{x / 100:.{decimals + 2}f}")
        forms.add(f"{x / 100:.{decimals + 2}f}".lstrip("0"))
    return forms


@pytest.mark.parametrize("paper", sorted(FILES))
def test_published_values_occur_in_the_paper(paper):
    path = PAPERS / FILES[paper]
    if not path.exists():
        pytest.skip(f"{path} not present")
    try:
        table = load_published(paper)
    except FileNotFoundError:
        pytest.skip(f"no published values for {paper} yet")
    numbers = set(re.findall(r"\d*\.?\d+", path.read_text(encoding="utf-8")))
    missing = [f"{r.table} | {r.setting} | {r.metric} = {r.published}"
               for r in table.itertuples() if not (_forms(str(r.published)) & numbers)]
    assert not missing, "values not found in the paper text:\n" + "\n".join(missing)
