"""Cross-domain attention (CDA) and the multi-domain 4Q model of Zhu et al. (2023), §3.3.

Each head (Eq. 1, 3):  ``softmax(F_a W_Q (F_b W_K)^T / sqrt(d)) F_b W_V``; heads are
concatenated and mixed by ``W_O`` (Eq. 2). Queries come from one domain (alpha), keys and
values from the other (beta). The model computes CDA twice — acoustic queries over
symbolic keys/values ("acoustic CDA") and symbolic queries over acoustic keys/values
("symbolic CDA") — pools each output over its valid steps, concatenates the two and
classifies the four quadrants (CE). Total loss (§3.1-3.3)::

    L = CE(4Q) + BCE(arousal | acoustic branch) + BCE(valence | symbolic branch)

:func:`zhu_loss` composes it (``aux_weight=0`` gives the "single-loss" ablation).

Notebook: 04_zhu2023.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from emolib.encoders.acoustic import masked_mean

__all__ = ["CrossDomainAttention", "BidirectionalCDA", "MultiDomainClassifier",
           "UniDomainClassifier", "zhu_loss", "quadrant_to_binary", "emopia_accuracies"]


class CrossDomainAttention(nn.Module):
    """Multi-head attention with queries from domain alpha, keys/values from domain beta.

    ``forward(f_alpha (B, La, d), f_beta (B, Lb, d), beta_pad_mask (B, Lb) bool, True =
    padded)`` returns ``(out (B, La, d), attn (B, H, La, Lb))``. Padded key positions get
    exactly zero attention weight. Written out (not ``nn.MultiheadAttention``) so the
    equation is visible and the attention maps are returned per head.
    """

    def __init__(self, d_model: int = 128, n_heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)

    def _split(self, x: Tensor) -> Tensor:
        b, length, _ = x.shape
        return x.view(b, length, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, L, dh)

    def forward(self, f_alpha: Tensor, f_beta: Tensor,
                beta_pad_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        for name, t in (("f_alpha", f_alpha), ("f_beta", f_beta)):
            if t.ndim != 3 or t.shape[-1] != self.d_model:
                raise ValueError(f"{name} must be (batch, length, {self.d_model}), "
                                 f"got {tuple(t.shape)}")
        q, k, v = (self._split(self.w_q(f_alpha)), self._split(self.w_k(f_beta)),
                   self._split(self.w_v(f_beta)))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)        # (B, H, La, Lb)
        if beta_pad_mask is not None:
            if beta_pad_mask.shape != f_beta.shape[:2]:
                raise ValueError(f"beta_pad_mask must be {tuple(f_beta.shape[:2])}, "
                                 f"got {tuple(beta_pad_mask.shape)}")
            if bool(beta_pad_mask.all(dim=1).any()):
                raise ValueError("beta_pad_mask hides every key of some item")
            scores = scores.masked_fill(beta_pad_mask[:, None, None, :], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        out = self.drop(attn) @ v                                        # (B, H, La, dh)
        out = out.transpose(1, 2).reshape(f_alpha.shape[0], f_alpha.shape[1], self.d_model)
        return self.w_o(out), attn


class BidirectionalCDA(nn.Module):
    """Acoustic CDA (acoustic queries, symbolic keys/values) and symbolic CDA (the reverse).

    Returns the two pooled outputs concatenated ``(B, 2 d)`` and the two attention maps.
    """

    def __init__(self, d_model: int = 128, n_heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.acoustic_cda = CrossDomainAttention(d_model, n_heads, dropout)
        self.symbolic_cda = CrossDomainAttention(d_model, n_heads, dropout)

    def forward(self, acoustic: Tensor, symbolic: Tensor, acoustic_pad: Tensor | None = None,
                symbolic_pad: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        a_out, a_attn = self.acoustic_cda(acoustic, symbolic, symbolic_pad)
        s_out, s_attn = self.symbolic_cda(symbolic, acoustic, acoustic_pad)
        fused = torch.cat([masked_mean(a_out, acoustic_pad), masked_mean(s_out, symbolic_pad)],
                          dim=-1)
        return fused, {"acoustic": a_attn, "symbolic": s_attn}


class MultiDomainClassifier(nn.Module):
    """Zhu et al.'s full model: acoustic branch + symbolic branch -> bidirectional CDA -> 4Q.

    ``acoustic`` is an :class:`~emolib.encoders.acoustic.AcousticEncoder`; ``symbolic`` a
    :class:`~emolib.encoders.symbolic.SymbolicEncoder` (pre-trained). ``forward(feats,
    tokens, token_pad)`` returns a dict with ``logits`` (B, 4), ``arousal`` and ``valence``
    auxiliary logits (B,) and the attention maps ``attn_acoustic``, ``attn_symbolic``.
    """

    def __init__(self, acoustic: nn.Module, symbolic: nn.Module, d_model: int = 128,
                 n_heads: int = 4, n_classes: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        self.acoustic, self.symbolic = acoustic, symbolic
        self.cda = BidirectionalCDA(d_model, n_heads, dropout=0.0)
        self.classifier = nn.Sequential(nn.Linear(2 * d_model, d_model), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(d_model, n_classes))

    def forward(self, feats: Tensor, tokens: Tensor,
                token_pad: Tensor | None = None) -> dict[str, Tensor]:
        a_seq, arousal = self.acoustic(feats)
        s_seq, valence = self.symbolic(tokens, token_pad)
        fused, attn = self.cda(a_seq, s_seq, None, token_pad)
        return {"logits": self.classifier(fused), "arousal": arousal, "valence": valence,
                "attn_acoustic": attn["acoustic"], "attn_symbolic": attn["symbolic"]}


class UniDomainClassifier(nn.Module):
    """One branch alone (the "acoustic-only" / "symbolic-only" ablations): pooled -> 4Q.

    ``domain`` is ``"acoustic"`` (input feats) or ``"symbolic"`` (input tokens, pad mask);
    the branch's own auxiliary logit is returned under ``arousal`` or ``valence``.
    """

    def __init__(self, encoder: nn.Module, domain: str, d_model: int = 128,
                 n_classes: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        if domain not in ("acoustic", "symbolic"):
            raise ValueError(f"domain must be 'acoustic' or 'symbolic', got {domain!r}")
        self.encoder, self.domain = encoder, domain
        self.classifier = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(d_model, n_classes))

    def forward(self, feats: Tensor | None = None, tokens: Tensor | None = None,
                token_pad: Tensor | None = None) -> dict[str, Tensor]:
        if self.domain == "acoustic":
            seq, aux = self.encoder(feats)
            return {"logits": self.classifier(seq.mean(dim=1)), "arousal": aux}
        seq, aux = self.encoder(tokens, token_pad)
        return {"logits": self.classifier(masked_mean(seq, token_pad)), "valence": aux}


def quadrant_to_binary(q: Tensor) -> tuple[Tensor, Tensor]:
    """4Q class index (0=Q1 .. 3=Q4) -> (arousal high, valence high) as float tensors.

    EMOPIA: arousal high = {Q1, Q2}; valence high = {Q1, Q4}.
    """
    arousal = (q <= 1).float()
    valence = ((q == 0) | (q == 3)).float()
    return arousal, valence


def zhu_loss(out: dict[str, Tensor], quadrant: Tensor, *, aux_weight: float = 1.0
             ) -> Tensor:
    """``CE(logits, 4Q) + aux_weight * (BCE(arousal) + BCE(valence))``.

    The arousal / valence targets are derived from the quadrant (:func:`quadrant_to_binary`);
    a term is added only if ``out`` holds that logit (uni-domain ablations have one).
    ``aux_weight=0`` is the "single-loss" ablation.
    """
    loss = F.cross_entropy(out["logits"], quadrant)
    if aux_weight:
        arousal, valence = quadrant_to_binary(quadrant)
        if "arousal" in out:
            loss = loss + aux_weight * F.binary_cross_entropy_with_logits(out["arousal"], arousal)
        if "valence" in out:
            loss = loss + aux_weight * F.binary_cross_entropy_with_logits(out["valence"], valence)
    return loss


def emopia_accuracies(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """4Q accuracy and the binary arousal / valence accuracies derived from 4Q predictions
    (EMOPIA: A high = Q1, Q2; V high = Q1, Q4). Labels are class indices 0..3 = Q1..Q4."""
    import numpy as np

    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and of equal length, "
                         f"got {t.shape}, {p.shape}")
    a_t, a_p = t <= 1, p <= 1
    v_t, v_p = np.isin(t, (0, 3)), np.isin(p, (0, 3))
    return {"accuracy 4Q": float(np.mean(t == p)), "accuracy A": float(np.mean(a_t == a_p)),
            "accuracy V": float(np.mean(v_t == v_p))}
