"""Cross-Patch Context (CPC): context patch sampling + Trimap-Guided Non-Local (TGNL) attention.

Follows the published summary (specs/hdmatt.md §5): θ embeds keys (query and context), δ the
query's values, φ the context's values (and, for sampling, the context's embedding). Choices
(config values of `HDMatt`): the embedding width, top-K, 1/sqrt(width) logit scaling, the
query patch itself taking part as keys/values, and how the trimap is reduced to feature
resolution (`region_masks`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.data.trimap import is_foreground, unknown_mask

#: Region order of the masks and of the aggregates: unknown, foreground, background.
REGIONS = ("U", "F", "B")


def region_masks(trimap: Tensor, size: tuple[int, int]) -> Tensor:
    """(..., 1, H, W) trimap in {0, 0.5, 1} -> (..., 3, h, w) disjoint U/F/B masks.

    A cell is U if any of its pixels is unknown (a thin band must survive the 1/32 reduction),
    else F if most of its pixels are foreground, else B (a choice).
    """
    lead = trimap.shape[:-3]
    t = trimap.reshape(-1, 1, *trimap.shape[-2:])
    unknown = F.adaptive_max_pool2d(unknown_mask(t).float(), size) > 0
    fg = (F.adaptive_avg_pool2d(is_foreground(t).float(), size) >= 0.5) & ~unknown
    bg = ~unknown & ~fg
    return torch.cat([unknown, fg, bg], dim=1).float().reshape(*lead, 3, *size)


def _embed(conv: nn.Conv2d, x: Tensor) -> Tensor:
    """A 1x1 conv over (..., C, h, w) with any leading dims."""
    lead = x.shape[:-3]
    y = conv(x.reshape(-1, *x.shape[-3:]))
    return y.reshape(*lead, *y.shape[-3:])


class CrossPatchContext(nn.Module):
    """Args:
    channels: C, width of the encoder features.
    embed_channels: width of θ/φ/δ (C/2 by default, a choice).
    top_k: K context patches kept for propagation (3, a choice).
    """

    def __init__(self, channels: int = 256, embed_channels: int = 128, top_k: int = 3) -> None:
        super().__init__()
        self.top_k = top_k
        self.theta = nn.Conv2d(channels, embed_channels, 1)
        self.phi = nn.Conv2d(channels, embed_channels, 1)
        self.delta = nn.Conv2d(channels, embed_channels, 1)
        self.fuse = nn.Sequential(
            nn.Conv2d(channels + 3 * embed_channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )

    def correlations(
        self, query: Tensor, q_regions: Tensor, pool: Tensor, exclude: Tensor | None
    ) -> Tensor:
        """Σ_{s,s'} <q_U(s), c_i(s')> for each of N candidates (B,N); excluded ones -inf.

        query (B,C,h,w), q_regions (B,3,h,w), pool (B,N,C,h,w), exclude (B,N) bool or None.
        By linearity Σ_s' φ(c)(s') = W_φ Σ_s' c(s') + h·w·b_φ: no N-fold feature maps are built.
        """
        q_u = (self.theta(query) * q_regions[:, :1]).sum((-2, -1))  # (B,E)
        hw = pool.shape[-1] * pool.shape[-2]
        weight = self.phi.weight.flatten(1)
        c_sum = F.linear(pool.sum((-2, -1)), weight) + hw * self.phi.bias  # (B,N,E)
        logits = torch.einsum("be,bne->bn", q_u, c_sum)
        if exclude is not None:
            logits = logits.masked_fill(exclude, float("-inf"))
        return logits

    def scores(
        self, query: Tensor, q_regions: Tensor, pool: Tensor, exclude: Tensor | None = None
    ) -> Tensor:
        """Similarity scores d_ci: the correlations softmax-normalised over the N candidates."""
        return self.correlations(query, q_regions, pool, exclude).softmax(dim=1)

    def sample(
        self, query: Tensor, q_regions: Tensor, pool: Tensor, exclude: Tensor | None = None
    ) -> Tensor:
        """Indices (B,K) of the top-K candidates (K clipped to the available candidates).

        Ranked on the correlations: the softmax preserves their order but can saturate to ties.
        """
        logits = self.correlations(query, q_regions, pool, exclude)
        available = pool.shape[1] if exclude is None else int((~exclude).sum(1).min())
        return logits.topk(min(self.top_k, available), dim=1).indices

    def tgnl(self, query: Tensor, q_regions: Tensor, context: Tensor, c_regions: Tensor) -> Tensor:
        """Aggregates f_U, f_F, f_B (B,3E,h,w): the query's U positions attend, by region, to
        the keys of the context patches (B,K,C,h,w) and of the query itself; zero outside U."""
        b, e = query.shape[0], self.theta.out_channels
        q_key = self.theta(query).flatten(2)  # (B,E,hw)
        keys = torch.cat([q_key, _embed(self.theta, context).transpose(1, 2).flatten(2)], dim=2)
        values = torch.cat(
            [self.delta(query).flatten(2), _embed(self.phi, context).transpose(1, 2).flatten(2)],
            dim=2,
        )  # (B,E,L)
        masks = torch.cat([q_regions.flatten(2), c_regions.transpose(1, 2).flatten(2)], dim=2)
        logits = torch.einsum("bep,bel->bpl", q_key, keys) / e**0.5  # (B,hw,L)
        out = []
        for r in range(len(REGIONS)):
            region = masks[:, r : r + 1] > 0  # (B,1,L)
            attn = logits.masked_fill(~region, torch.finfo(logits.dtype).min).softmax(dim=2)
            attn = attn * region.any(dim=2, keepdim=True)  # region absent everywhere: zero
            out.append(torch.einsum("bpl,bel->bep", attn, values))
        unknown = q_regions[:, :1].flatten(2)
        return (torch.cat(out, dim=1) * unknown).reshape(b, 3 * e, *query.shape[-2:])

    def forward(
        self,
        query: Tensor,
        q_regions: Tensor,
        pool: Tensor,
        p_regions: Tensor,
        exclude: Tensor | None = None,
    ) -> Tensor:
        """Query features (B,C,h,w) fused with their top-K context: (B,C,h,w)."""
        idx = self.sample(query, q_regions, pool, exclude)
        batch = torch.arange(len(idx), device=idx.device)[:, None]
        aggregates = self.tgnl(query, q_regions, pool[batch, idx], p_regions[batch, idx])
        return self.fuse(torch.cat([query, aggregates], dim=1))
