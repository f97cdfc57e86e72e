"""Image encoders: CLIP vision tower (tiny random config through from_pretrained), small CNN."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from emolib.encoders.image import (
    CLIP_MEAN,
    CLIP_STD,
    CLIPImageEncoder,
    SmallImageCNN,
    colour_statistics,
    embed_image_files,
    embed_images,
    load_images,
    preprocess,
    pretrained_image_cnn,
)


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                           num_attention_heads=4, image_size=32, patch_size=8, projection_dim=16)
    path = tmp_path_factory.mktemp("tiny_clip")
    CLIPVisionModelWithProjection(cfg).save_pretrained(path)
    return path


def test_clip_encoder_loads_real_path(tiny_clip_dir):
    from transformers import CLIPVisionModelWithProjection

    enc = CLIPImageEncoder(str(tiny_clip_dir))
    assert enc.image_size == 32 and enc.out_dim == 16
    assert not any(p.requires_grad for p in enc.parameters())
    imgs = torch.rand(3, 3, 40, 48, generator=torch.Generator().manual_seed(1))
    x = preprocess(imgs, 32)
    z = enc(x)
    assert z.shape == (3, 16)
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    ref = CLIPVisionModelWithProjection.from_pretrained(tiny_clip_dir).eval()
    with torch.no_grad():
        want = torch.nn.functional.normalize(ref(pixel_values=x).image_embeds, dim=-1)
    assert torch.allclose(z, want, atol=1e-5)
    emb = embed_images(enc, imgs, batch_size=2)
    assert torch.allclose(emb, z, atol=1e-5)


def test_clip_encoder_missing_weights_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrained_image_cnn"):
        CLIPImageEncoder(str(tmp_path / "missing"))


def test_preprocess_normalisation_and_views():
    imgs = torch.full((2, 3, 20, 30), 0.5)
    x = preprocess(imgs, 16)
    want = (0.5 - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
    assert x.shape == (2, 3, 16, 16)
    assert torch.allclose(x[0, :, 3, 3], want, atol=1e-5)
    rnd = torch.rand(1, 3, 20, 30, generator=torch.Generator().manual_seed(0))
    a = preprocess(rnd, 16, rng=np.random.default_rng(0))
    b = preprocess(rnd, 16, rng=np.random.default_rng(0))
    c = preprocess(rnd, 16, rng=np.random.default_rng(1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="batch, 3"):
        preprocess(torch.rand(3, 8, 8), 4)


def test_colour_statistics_hand_computed():
    img = torch.zeros(1, 3, 2, 2)
    img[0, 0] = 1.0  # pure red: mean RGB (1,0,0), saturation 1, value 1
    img[0, :, 1, 1] = torch.tensor([0.5, 0.5, 0.5])  # one grey pixel: saturation 0, value .5
    stats = colour_statistics(img)[0]
    assert torch.allclose(stats, torch.tensor([0.875, 0.125, 0.125, 0.75, 0.875]))


def test_small_cnn_shapes():
    torch.manual_seed(0)
    m = SmallImageCNN(width=4, image_size=32).eval()
    x = torch.randn(2, 3, 32, 32)
    assert m(x).shape == (2, 7) and m.embed(x).shape == (2, 32) and m.out_dim == 32
    assert torch.allclose(m.embed(x).norm(dim=1), torch.ones(2), atol=1e-5)


def test_pretrained_image_cnn_learns_aux_task_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    g = np.random.default_rng(0)
    rows = []
    for i in range(60):
        v = float(g.uniform())
        arr = np.zeros((24, 24, 3), dtype=np.uint8)
        arr[..., 0] = int(255 * v)  # redness follows valence
        arr[..., 2] = int(255 * (1 - v))
        p = tmp_path / f"im{i}.png"
        Image.fromarray(arr).save(p)
        rows.append({"item_id": f"im{i}", "image_path": str(p), "valence": v, "arousal": 0.5,
                     "label": "x", "split": "train" if i < 48 else "val"})

    class W:
        images = pd.DataFrame(rows)

    m = pretrained_image_cnn(W(), seed=0, width=4, image_size=16, epochs=6, batch_size=16)
    assert not any(p.requires_grad for p in m.parameters())
    ckpts = list((tmp_path / "cache" / "checkpoints").glob("image-cnn-aux-*.pt"))
    assert len(ckpts) == 1
    x = load_images(W.images["image_path"].tolist()[48:], 16)
    z = embed_images(m, x)
    # embeddings of images with close valence are closer than of far-apart ones
    v = W.images["valence"].to_numpy()[48:]
    sims = (z @ z.T).numpy()
    close = sims[np.abs(v[:, None] - v[None, :]) < 0.1].mean()
    far = sims[np.abs(v[:, None] - v[None, :]) > 0.6].mean()
    assert close > far
    again = pretrained_image_cnn(W(), seed=0, width=4, image_size=16, epochs=6, batch_size=16)
    for a, b in zip(m.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_embed_image_files_streams_and_equals_in_memory_views(tmp_path):
    g = np.random.default_rng(3)
    paths = []
    for i in range(11):
        p = tmp_path / f"im{i}.png"
        Image.fromarray(g.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    torch.manual_seed(0)
    m = SmallImageCNN(width=4, image_size=16).eval()
    pix = load_images(paths, 16)
    expected = torch.stack([embed_images(m, pix, batch_size=2),
                            embed_images(m, pix, batch_size=2, rng=np.random.default_rng(7))],
                           dim=1)
    got = embed_image_files(m, paths, 16, rngs=[None, np.random.default_rng(7)], chunk=4,
                            batch_size=2)
    assert got.shape == (11, 2, 32)  # width 4 → 8·4-d embeddings
    assert torch.allclose(got, expected, atol=1e-6)
    assert not torch.allclose(got[:, 0], got[:, 1])  # the crop view differs from the centre view
    with pytest.raises(ValueError, match="multiple of batch_size"):
        embed_image_files(m, paths, 16, chunk=3, batch_size=2)
