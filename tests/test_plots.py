"""emolib.plots.clip_strip: one column per clip, log-mel above, piano roll below."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from emolib import plots  # noqa: E402


def test_clip_strip_layout_and_data():
    mel = np.arange(12.0).reshape(3, 4)
    roll = np.array([[0, 80, 0], [0, 0, 64]])
    fig = plots.clip_strip([("sad", mel, roll), ("happy", mel + 1, roll * 0)])
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["sad", "happy"]
    np.testing.assert_array_equal(axes[0, 0].images[0].get_array(), mel)
    np.testing.assert_array_equal(axes[1, 0].images[0].get_array(), roll > 0)
    assert not axes[1, 1].images[0].get_array().any()
    assert axes[1, 0].get_ylabel() == "MIDI pitch 24–96"
    plt.close(fig)


def test_clip_strip_needs_clips():
    with pytest.raises(ValueError, match="at least one"):
        plots.clip_strip([])
