"""README's claims table agrees with the committed claims files and claims tables."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from emolib import claims

ROOT = Path(__file__).resolve().parent.parent
PAPERS = {"Won et al. 2021": "won2021", "Stewart et al. 2024": "emoclim2024",
          "Chowdhury & Widmer 2023": "chowdhury2023", "Zhu et al. 2023": "zhu2023"}


def _readme_rows() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Which claims hold", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for name, key in PAPERS.items():
            if cells and cells[0].startswith(name):
                rows[key] = cells
    return rows


@pytest.mark.parametrize("paper", list(PAPERS.values()))
def test_readme_claims_row(paper):
    cells = _readme_rows()[paper]
    assert int(cells[1]) == len(claims.load_claims(paper))
    table = ROOT / "paper_tables" / f"{paper}_claims.csv"
    if not table.is_file():
        assert cells[2:5] == ["—", "—", "—"]
        return
    df = pd.read_csv(table)
    counts = df["verdict"].value_counts()
    assert [int(c) for c in cells[2:5]] == [int(counts.get(v, 0))
                                            for v in ("holds", "reversed", "unresolved")]
    assert re.search(rf"{paper}_claims\.md", cells[5])
