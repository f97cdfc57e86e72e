"""The emotion world's images (DeepEmotion role, 8 labels).

:func:`render_image` paints a small RGB picture from a latent item. The cue rules (written
by this project, loosely following colour–emotion and shape–emotion studies, e.g. Valdez &
Mehrabian 1994; Bar & Neta 2006) are:

* **colour** — hue follows the angle of the valence–arousal point around the plane's
  centre (warm yellow/orange for pleasant–aroused, green for pleasant–calm, blue for
  unpleasant–calm, red/purple for unpleasant–aroused); saturation rises with arousal,
  brightness with valence;
* **shapes** — round blobs for positive/calm items, angular and jagged polygons for
  negative/aroused ones;
* **texture and clutter** — pixel noise and the number of shapes rise with arousal;
* **motifs** — one label-specific motif per picture (confetti, a big sun over a horizon,
  soft hills, rays, lightning, murky blobs, a dark vignette with thorns, rain), drawn
  most of the time, with neighbouring labels' motifs sometimes borrowed (overlap).

Notebooks: 00_tour (world section), 02_emoclim2024.
"""
from __future__ import annotations

import colorsys
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter

from emolib.data.taxonomies import labels
from emolib.data.world.latent import sample_latent
from emolib.io import atomic_write_bytes
from emolib.seed import rng

__all__ = ["render_image", "build_images", "image_to_png_bytes", "MOTIFS"]

log = logging.getLogger(__name__)

#: label -> motif name; motifs of neighbouring labels are borrowed with some probability
MOTIFS: dict[str, str] = {
    "amusement": "confetti", "awe": "sun_horizon", "contentment": "hills",
    "excitement": "rays", "anger": "lightning", "disgust": "murk",
    "fear": "thorns", "sadness": "rain",
}
#: which other motifs a label borrows (the overlap between neighbouring emotions)
_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "amusement": ("excitement", "contentment"), "awe": ("contentment", "fear"),
    "contentment": ("awe", "amusement"), "excitement": ("amusement", "anger"),
    "anger": ("excitement", "fear"), "disgust": ("fear", "sadness"),
    "fear": ("sadness", "anger"), "sadness": ("fear", "disgust"),
}
# (angle in degrees of the VA point around (0.5, 0.5), hue): circular interpolation anchors
_HUE_ANCHORS = ((-135.0, 0.62), (-45.0, 0.33), (45.0, 0.12), (135.0, -0.03), (225.0, -0.38))


def _hue(valence: float, arousal: float) -> float:
    theta = np.degrees(np.arctan2(arousal - 0.5, valence - 0.5))
    if theta < -135.0:
        theta += 360.0
    xs, hs = zip(*_HUE_ANCHORS)
    return float(np.interp(theta, xs, hs)) % 1.0


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g_, b = colorsys.hsv_to_rgb(h % 1.0, min(max(float(s), 0.0), 1.0),
                                   min(max(float(v), 0.0), 1.0))
    return int(round(r * 255)), int(round(g_ * 255)), int(round(b * 255))


def _polygon(cx: float, cy: float, r: float, n: int, jag: float, rot: float,
             g: np.random.Generator) -> list[tuple[float, float]]:
    """n-gon (or star when ``jag`` > 0) around (cx, cy)."""
    k = 2 * n if jag > 0 else n
    inner = np.where((np.arange(k) % 2 == 1) & (jag > 0), 1.0 - jag, 1.0)
    rr = r * inner * (1 + 0.15 * g.normal(size=k))
    a = rot + 2 * np.pi * np.arange(k) / k
    return list(zip((cx + rr * np.cos(a)).tolist(), (cy + rr * np.sin(a)).tolist()))


def _motif(draw: ImageDraw.ImageDraw, name: str, S: int, base_h: float,
           g: np.random.Generator) -> None:
    """Draw one motif on a canvas of side ``S``."""
    u = S / 128.0
    if name == "confetti":
        for _ in range(int(g.integers(25, 45))):
            x, y = g.uniform(0, S, 2)
            r = g.uniform(1.5, 3.5) * u
            draw.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(g.random(), 0.8, 1.0))
    elif name == "sun_horizon":
        hy = g.uniform(0.55, 0.75) * S
        draw.rectangle([0, hy, S, S], fill=_rgb(base_h + 0.05, 0.4, 0.35))
        cx, r = g.uniform(0.3, 0.7) * S, g.uniform(0.16, 0.26) * S
        draw.ellipse([cx - r, hy - 1.3 * r, cx + r, hy + 0.7 * r], fill=_rgb(0.12, 0.35, 1.0))
        draw.polygon([(0, hy), (cx * 0.6, hy - 0.35 * S), (cx * 1.2, hy)],
                     fill=_rgb(base_h, 0.3, 0.3))
    elif name == "hills":
        for j in range(2):
            hy = (0.6 + 0.15 * j) * S
            cx = g.uniform(0.1, 0.9) * S
            draw.ellipse([cx - 0.9 * S, hy, cx + 0.9 * S, hy + 0.8 * S],
                         fill=_rgb(0.3 + 0.04 * j, 0.45, 0.55 + 0.15 * j))
    elif name == "rays":
        cx, cy = g.uniform(0.3, 0.7, 2) * S
        for i in range(int(g.integers(10, 18))):
            a = 2 * np.pi * i / 14 + g.normal(0, 0.05)
            draw.line([(cx, cy), (cx + 1.5 * S * np.cos(a), cy + 1.5 * S * np.sin(a))],
                      fill=_rgb(0.13, 0.9, 1.0), width=max(1, int(3 * u)))
    elif name == "lightning":
        for _ in range(int(g.integers(1, 3))):
            x, y = g.uniform(0.2, 0.8) * S, 0.0
            pts = [(x, y)]
            while y < S:
                x += g.uniform(-0.15, 0.15) * S
                y += g.uniform(0.08, 0.18) * S
                pts.append((x, y))
            draw.line(pts, fill=_rgb(0.15, 0.2, 1.0), width=max(2, int(4 * u)))
    elif name == "murk":
        for _ in range(int(g.integers(6, 12))):
            x, y = g.uniform(0, S, 2)
            rx, ry = g.uniform(0.05, 0.14, 2) * S
            draw.ellipse([x - rx, y - ry, x + rx, y + ry],
                         fill=_rgb(g.uniform(0.16, 0.24), 0.6, g.uniform(0.25, 0.45)))
    elif name == "thorns":
        for _ in range(int(g.integers(5, 9))):
            x0, y0 = g.uniform(0, S, 2)
            a = g.uniform(0, 2 * np.pi)
            L = g.uniform(0.2, 0.45) * S
            draw.line([(x0, y0), (x0 + L * np.cos(a), y0 + L * np.sin(a))], fill=(15, 10, 20),
                      width=max(1, int(2 * u)))
            for t in np.linspace(0.2, 0.9, 4):
                px, py = x0 + t * L * np.cos(a), y0 + t * L * np.sin(a)
                draw.polygon([(px, py),
                              (px + 6 * u * np.cos(a + 1.2), py + 6 * u * np.sin(a + 1.2)),
                              (px + 3 * u * np.cos(a), py + 3 * u * np.sin(a))],
                             fill=(15, 10, 20))
    elif name == "rain":
        for _ in range(int(g.integers(30, 60))):
            x, y = g.uniform(0, S, 2)
            draw.line([(x, y), (x - 2 * u, y + 10 * u)], fill=_rgb(0.6, 0.2, 0.75), width=1)
    else:  # pragma: no cover - MOTIFS is fixed
        raise ValueError(f"unknown motif {name!r}")


def render_image(label: str, valence: float, arousal: float, seed: int,
                 size: int = 64) -> np.ndarray:
    """Render one picture for a latent DeepEmotion item; returns ``(size, size, 3)`` uint8.

    ``label`` is the item's *true* class (it picks the motif); ``valence`` and ``arousal``
    in [0, 1] drive colour, shape, texture and clutter. Deterministic in all arguments.
    """
    if label not in MOTIFS:
        raise ValueError(f"label must be a DeepEmotion label {labels('deepemotion')}, "
                         f"got {label!r}")
    if not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"size must be an integer >= 16, got {size!r}")
    v, a = float(np.clip(valence, 0, 1)), float(np.clip(arousal, 0, 1))
    g = rng(seed, "image", label)
    S = 2 * int(size)  # draw at 2x and downsample (anti-aliasing)
    h = (_hue(v, a) + g.normal(0, 0.03)) % 1.0
    sat = 0.2 + 0.65 * a + g.normal(0, 0.05)
    bright = 0.25 + 0.6 * v + g.normal(0, 0.05)
    # background: vertical gradient between two shades of the base colour
    top, bottom = (np.array(_rgb(h, sat * 0.8, bright * 1.05)),
                   np.array(_rgb(h + 0.04, sat, bright * 0.7)))
    t = np.linspace(0, 1, S)[:, None, None]
    bg = ((1 - t) * top + t * bottom) * np.ones((1, S, 1))
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    # label motif (sometimes a neighbour's too, sometimes missing)
    motifs = []
    if g.random() < 0.8:
        motifs.append(MOTIFS[label])
    if g.random() < 0.25:
        motifs.append(MOTIFS[_NEIGHBOURS[label][int(g.integers(2))]])
    for m in motifs:
        _motif(draw, m, S, h, g)
    # clutter: number of shapes grows with arousal; roundness with valence - arousal
    roundness = 1.0 / (1.0 + np.exp(-(v - a + 0.1) * 6.0))
    for _ in range(int(round(2 + 12 * a + g.normal(0, 1.5)))):
        cx, cy = g.uniform(0, S, 2)
        r = g.uniform(0.04, 0.14) * S
        col = _rgb(h + g.normal(0, 0.08), sat + g.normal(0, 0.1), bright * g.uniform(0.7, 1.3))
        if g.random() < roundness:
            draw.ellipse([cx - r, cy - r * g.uniform(0.7, 1.0), cx + r, cy + r], fill=col)
        else:
            jag = (float(np.clip(0.2 + 0.6 * a + g.normal(0, 0.1), 0, 0.85)) if g.random() < a
                   else 0.0)
            n = int(g.integers(3, 6))
            draw.polygon(_polygon(cx, cy, r, n, jag, g.uniform(0, 2 * np.pi), g), fill=col)
    if "thorns" in motifs:  # vignette: the edges sink into darkness
        yy, xx = np.mgrid[0:S, 0:S] / (S - 1) - 0.5
        vig = np.clip(1.0 - 1.6 * (xx ** 2 + yy ** 2), 0.15, 1.0)[..., None]
        img = Image.fromarray((np.asarray(img) * vig).astype(np.uint8), "RGB")
    if v - a > 0.1:  # calm, pleasant pictures look soft
        img = img.filter(ImageFilter.GaussianBlur(radius=1.0 + 2.0 * (v - a)))
    img = img.resize((int(size), int(size)), Image.Resampling.LANCZOS)
    arr = np.asarray(img).astype(np.float32)
    arr += g.normal(0, 3.0 + 25.0 * a ** 2, size=arr.shape)  # texture grows with arousal
    return np.clip(np.round(arr), 0, 255).astype(np.uint8)


def image_to_png_bytes(arr: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array, without metadata (same pixels -> same bytes)."""
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _render_to_file(out_dir: Path, rel: str, label: str, v: float, a: float, seed: int,
                    size: int) -> None:
    atomic_write_bytes(out_dir / rel, image_to_png_bytes(render_image(label, v, a, seed, size)))


def build_images(out_dir: str | Path, seed: int, n_per_class: int, size: int = 64,
                 spread: float = 0.12, label_noise: float = 0.1, n_jobs: int = 1,
                 progress: bool = True) -> pd.DataFrame:
    """Render ``n_per_class`` PNGs per DeepEmotion label into ``out_dir/images/``.

    Returns ``item_id, label, true_label, valence, arousal, image_path`` with paths
    relative to ``out_dir``. A pure function of (seed, parameters). Notebook: 02_emoclim2024.
    """
    from joblib import Parallel, delayed

    from emolib.progress import tqdm

    out_dir = Path(out_dir)
    lat = sample_latent("deepemotion", n_per_class, seed, spread=spread, label_noise=label_noise)
    seeds = rng(seed, "image-seeds").integers(0, 2**31 - 1, size=len(lat))
    rel = [f"images/{iid}.png" for iid in lat["item_id"]]
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    jobs = [delayed(_render_to_file)(out_dir, p, r.true_label, r.valence, r.arousal, int(s), size)
            for p, r, s in zip(rel, lat.itertuples(index=False), seeds)]
    it = tqdm(jobs, desc="world: images", disable=not progress, leave=False)
    # threads: rendering is short per image and process start-up would dominate
    Parallel(n_jobs=n_jobs, batch_size=16, prefer="threads")(it)
    return lat.assign(image_path=rel)
