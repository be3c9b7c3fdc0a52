"""BGMv2 refiner (official `model/refiner.py`): re-predicts alpha and foreground on 4x4 patches.

The coarse outputs (alpha, foreground residual, error, 32-channel hidden state at the backbone's
resolution) are upsampled; where the error is large, 4x4 full-resolution patches are predicted
again from an 8x8 half-resolution context (two unpadded 3x3 convs) and an 8x8 full-resolution
crop of src and bgr (two more), then written back (paper §3.2).

Modes:
- "sampling": the `sample_pixels // 16` patches of highest error per image. With
  `prevent_oversampling`, patches whose error is exactly 0 are dropped, so fewer may be refined.
  Unlike the official code, k is clamped to the number of patches: at the defaults the official
  `topk` raises for inputs under 80,000 pixels (issue #172); here every patch is a candidate.
- "thresholding": every patch whose error exceeds `threshold`.
- "full": every pixel, with ordinary padded convolutions (a debugging reference; the patch modes
  with all patches selected give the same outputs, to float rounding: see below).

Patches are cropped with one gather (`crop_patch`: the official "unfold" crop's values, and
exportable to ONNX) and written back through a (B, C, H/4, 4, W/4, 4) view, the official
"scatter_nd" default; its other export-only alternatives (roi_align, scatter_element) give the
same numbers and are not reproduced. Where the half resolution is exactly twice the coarse one
(backbone_scale 1/4, the HD default) and the kernel is 3, the 36-channel context is not upsampled
as a whole map and cropped: each patch's 8x8 window is upsampled from the 5x5 coarse window
around it (`upsampled_context`), the same bilinear weights summed in another order, so its values
differ from the official ones by float rounding (about 1 ulp; outputs within 1e-6 of mode
"full"). The whole map (75 MB at HD, written every frame) was the largest non-convolution cost
of the refiner on CPU; other scales and kernel 1 crop the upsampled map as the official code does.

Static shapes at inference: in "sampling" mode outside training the refiner refines all k top
patches and writes the dropped ones (error exactly 0) back unchanged, instead of listing the
selected patches with `nonzero`. The output is the same, but the patch count no longer depends on
the data: no host sync per frame, so CUDA graphs and `torch.compile` can capture the whole
network. Training keeps the official `nonzero` path: the dropped patches would enter the
refiner's BatchNorm statistics. `Refiner.static_patches = False` restores it at inference too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MODES = ("sampling", "thresholding", "full")

PatchIndex = tuple[Tensor, Tensor, Tensor]


class Refiner(nn.Module):
    """Forward: `(src, bgr, pha, fgr, err, hid) -> (pha, fgr, ref)`.

    Inputs: src, bgr (B, 3, H, W) full resolution; coarse pha (B, 1, Hc, Wc), fgr residual
    (B, 3, Hc, Wc), err (B, 1, Hc, Wc), hid (B, 32, Hc, Wc). Outputs: pha (B, 1, H, W) and fgr
    residual (B, 3, H, W), both unclamped, and ref (B, 1, H/4, W/4), 1 where a patch was refined.
    """

    def __init__(
        self,
        mode: str = "sampling",
        sample_pixels: int = 80_000,
        threshold: float = 0.1,
        kernel_size: int = 3,
        prevent_oversampling: bool = True,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"refine mode must be one of {MODES}, got {mode!r}")
        if kernel_size not in (1, 3):
            raise ValueError(f"refine kernel size must be 1 or 3, got {kernel_size}")
        self.mode = mode
        self.sample_pixels = sample_pixels
        self.threshold = threshold
        self.kernel_size = kernel_size
        self.prevent_oversampling = prevent_oversampling
        # Inference without `nonzero` (module doc); False: the official path, for comparisons.
        self.static_patches = True
        # Patches enter the first convolution in chunks of at most this many: its input is 10.5 kB
        # a patch (54 MB for HD's 5,000), and glibc serves buffers above 32 MiB with fresh pages
        # that are faulted in at every frame (about 15 % of the compiled refiner's time at HD
        # here); chunks stay in reused heap memory. The outputs are identical.
        self.patch_chunk = 2048

        channels = [32, 24, 16, 12, 4]
        # All convolutions are unpadded: each 3x3 conv shrinks a patch by 2 pixels.
        self.conv1 = nn.Conv2d(channels[0] + 6 + 4, channels[1], kernel_size, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[1])
        self.conv2 = nn.Conv2d(channels[1], channels[2], kernel_size, bias=False)
        self.bn2 = nn.BatchNorm2d(channels[2])
        self.conv3 = nn.Conv2d(channels[2] + 6, channels[3], kernel_size, bias=False)
        self.bn3 = nn.BatchNorm2d(channels[3])
        self.conv4 = nn.Conv2d(channels[3], channels[4], kernel_size, bias=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(
        self, src: Tensor, bgr: Tensor, pha: Tensor, fgr: Tensor, err: Tensor, hid: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        if self.mode == "full":
            return self.refine_everywhere(src, bgr, pha, fgr, hid)
        height, width = src.shape[2:]
        err = F.interpolate(err, (height // 4, width // 4), mode="bilinear", align_corners=False)
        if self.static_patches and self.mode == "sampling" and not self.training:
            top, keep = self.top_patches(err)
            ref = regions_map(err, top, keep)
            idx = grid_index(top, err.size(3))
            pha, fgr = self.refine_patches(src, bgr, pha, fgr, hid, idx, keep.view(-1))
            return pha, fgr, ref
        ref = self.select_refinement_regions(err)
        idx = tuple(torch.nonzero(ref.squeeze(1)).unbind(1))
        if idx[0].numel() == 0:
            pha = F.interpolate(pha, (height, width), mode="bilinear", align_corners=False)
            fgr = F.interpolate(fgr, (height, width), mode="bilinear", align_corners=False)
            return pha, fgr, ref
        pha, fgr = self.refine_patches(src, bgr, pha, fgr, hid, idx)
        return pha, fgr, ref

    def select_refinement_regions(self, err: Tensor) -> Tensor:
        """(B, 1, H/4, W/4) error -> float map, 1 where the 4x4 patch is refined."""
        if self.mode == "thresholding":
            return err.gt(self.threshold).float()
        return regions_map(err, *self.top_patches(err))

    def top_patches(self, err: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 1, h, w) error -> flat indices (B, k) of the k patches of highest error per image
        and whether each is refined (False where `prevent_oversampling` drops a zero error)."""
        flat = err.flatten(1)
        k = min(self.sample_pixels // 16, flat.size(1))  # official #172: topk raises if k > h * w
        top = flat.topk(k, dim=1, sorted=False).indices
        if self.prevent_oversampling:
            return top, flat.gather(1, top).gt(0)
        return top, torch.ones_like(top, dtype=torch.bool)

    def refine_patches(
        self,
        src: Tensor,
        bgr: Tensor,
        pha: Tensor,
        fgr: Tensor,
        hid: Tensor,
        idx: PatchIndex,
        keep: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Refines the patches at `idx`; where `keep` (P,) is given, only those it marks are
        written back."""
        height, width = src.shape[2:]
        half = (height // 2, width // 2)
        pad_half, pad_full = (3, 2) if self.kernel_size == 3 else (0, 0)
        # src and bgr are never concatenated at full resolution (the official cat([src, bgr])):
        # that (B, 6, H, W) copy would be the refiner's largest buffer (50 MB at HD, allocated and
        # page-faulted every frame) for values the crops read once. Each is resized on its own
        # (concatenated at half resolution, a quarter of the size) and cropped on its own at full
        # resolution: the patches hold the same values in the same channel order.
        images = (src, bgr)

        # Stage 1, half resolution: 8x8 context (2x2 for kernel 1) -> 4x4 (2x2).
        context = torch.cat([hid, pha, fgr], dim=1)
        from_windows = self.kernel_size == 3 and half == (2 * context.size(2), 2 * context.size(3))
        if not from_windows:
            context = F.interpolate(context, half, mode="bilinear", align_corners=False)
        y = torch.cat(
            [F.interpolate(t, half, mode="bilinear", align_corners=False) for t in images], 1
        )
        chunks = []
        for part in patch_chunks(idx, self.patch_chunk):
            if from_windows:
                crops = [upsampled_context(context, part)]
            else:
                crops = [crop_patch(context, part, 2, pad_half)]
            crops.append(crop_patch(y, part, 2, pad_half))
            chunks.append(self.conv1(torch.cat(crops, dim=1)))
        x = self.relu(self.bn1(torch.cat(chunks) if len(chunks) > 1 else chunks[0]))
        x = self.relu(self.bn2(self.conv2(x)))

        # Stage 2, full resolution: nearest-upsampled features + 8x8 crops of src, bgr -> 4x4.
        x = F.interpolate(x, 8 if self.kernel_size == 3 else 4, mode="nearest")
        x = torch.cat([x, *(crop_patch(t, idx, 4, pad_full) for t in images)], dim=1)
        x = self.relu(self.bn3(self.conv3(x)))
        x = self.conv4(x)

        out = torch.cat([pha, fgr], dim=1)
        out = F.interpolate(out, (height, width), mode="bilinear", align_corners=False)
        out = replace_patch(out, x, idx, keep)
        return out[:, :1], out[:, 1:]

    def refine_everywhere(
        self, src: Tensor, bgr: Tensor, pha: Tensor, fgr: Tensor, hid: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Mode "full": the same network as padded convolutions over the whole image."""
        height, width = src.shape[2:]
        half = (height // 2, width // 2)
        src_bgr = torch.cat([src, bgr], dim=1)

        x = torch.cat([hid, pha, fgr], dim=1)
        x = F.interpolate(x, half, mode="bilinear", align_corners=False)
        y = F.interpolate(src_bgr, half, mode="bilinear", align_corners=False)
        if self.kernel_size == 3:
            x = F.pad(x, (3, 3, 3, 3))
            y = F.pad(y, (3, 3, 3, 3))
        x = self.relu(self.bn1(self.conv1(torch.cat([x, y], dim=1))))
        x = self.relu(self.bn2(self.conv2(x)))

        if self.kernel_size == 3:
            x = F.interpolate(x, (height + 4, width + 4), mode="nearest")
            y = F.pad(src_bgr, (2, 2, 2, 2))
        else:
            x = F.interpolate(x, (height, width), mode="nearest")
            y = src_bgr
        x = self.relu(self.bn3(self.conv3(torch.cat([x, y], dim=1))))
        x = self.conv4(x)

        ref = src.new_ones((src.size(0), 1, height // 4, width // 4))
        return x[:, :1], x[:, 1:], ref


def crop_patch(x: Tensor, idx: PatchIndex, size: int, padding: int) -> Tensor:
    """(B, C, H, W) -> (P, C, size + 2 padding, same): windows at stride `size` on the zero-padded
    image, picked by `idx` = (batch, row, column) indices in units of `size`.

    The official code indexes a double `unfold` view; this gathers the same windows (the same
    values) with one advanced index on the channels-last view: each gathered element is a run of
    C contiguous values when `x` is channels-last, and the graph exports to ONNX (the tracer
    cannot export `unfold` of a padded tensor). The patches keep the layout of `x`: contiguous
    for a contiguous `x`, as the official index returns them (the convolutions that follow pick
    their kernels by layout, and another layout would round differently from
    `refine_everywhere`), channels-last without a copy in a channels-last network.
    """
    if padding:
        x = F.pad(x, (padding,) * 4)
    offsets = torch.arange(size + 2 * padding, device=x.device)
    rows = (idx[1] * size)[:, None] + offsets  # (P, window)
    cols = (idx[2] * size)[:, None] + offsets
    patches = x.permute(0, 2, 3, 1)[idx[0][:, None, None], rows[:, :, None], cols[:, None, :]]
    patches = patches.permute(0, 3, 1, 2)
    return patches.contiguous() if x.is_contiguous() else patches


def patch_chunks(idx: PatchIndex, size: int) -> list[PatchIndex]:
    """`idx` in consecutive runs of at most `size` patches. The run lengths are spelled out: the
    ONNX export of `split(size)` repeats `size` past the end of the axis (an invalid graph)."""
    count = idx[0].numel()
    if count <= size:
        return [idx]
    sizes = [size] * (count // size) + ([count % size] if count % size else [])
    return list(zip(*(t.split(sizes) for t in idx), strict=True))


def upsampled_context(x: Tensor, idx: PatchIndex) -> Tensor:
    """`crop_patch(F.interpolate(x, (2h, 2w), mode="bilinear"), idx, 2, 3)` for a (B, C, h, w)
    map, computed from 5x5 windows of `x` instead of the whole upsampled map.

    Why: at twice the coarse size (backbone_scale 1/4: the HD default) every 8x8 half-resolution
    window of a patch is a fixed bilinear map (weights 1/4, 3/4) of the 5x5 coarse window around
    it. Upsampling the windows replaces the upsampling of the whole 36-channel map (75 MB at HD,
    written every frame) and its crop: a gather of 5x5 windows (channels innermost, so vectorised)
    and two passes of weighted sums.
    Edges as `align_corners=False`: coarse indices clamped to the map (the first half-resolution
    row and column are exactly coarse row and column 0); the half-resolution pixels outside the
    image are the crop's zero padding. The values equal the whole-map interpolation's up to float
    rounding (ATen sums the four weighted terms in another order; about 1 ulp).
    """
    height, width = x.shape[2:]
    offsets = torch.arange(-2, 3, device=x.device)
    rows = idx[1][:, None] + offsets  # (P, 5) coarse rows around each patch
    cols = idx[2][:, None] + offsets
    windows = x.permute(0, 2, 3, 1)[
        idx[0][:, None, None],
        rows.clamp(0, height - 1)[:, :, None],
        cols.clamp(0, width - 1)[:, None, :],
    ]  # (P, 5, 5, C)
    # in fp32 at least: under 16-mixed the map is half precision, and F.interpolate sums in fp32
    windows = windows.to(torch.promote_types(windows.dtype, torch.float32))
    windows = upsample_window(windows, 2, idx[2])  # columns first, then rows, as ATen
    windows = upsample_window(windows, 1, idx[1])  # (P, 8, 8, C)
    offsets = torch.arange(-3, 5, device=x.device)
    rows = (2 * idx[1])[:, None] + offsets  # (P, 8) half-resolution rows of each window
    cols = (2 * idx[2])[:, None] + offsets
    inside_rows = (rows >= 0) & (rows < 2 * height)
    inside_cols = (cols >= 0) & (cols < 2 * width)
    inside = inside_rows[:, :, None] & inside_cols[:, None, :]
    patches = torch.where(inside[..., None], windows, 0.0).permute(0, 3, 1, 2)
    return patches.contiguous() if x.is_contiguous() else patches


def upsample_window(window: Tensor, dim: int, centre: Tensor) -> Tensor:
    """Bilinear x2 (`align_corners=False`) along `dim` of 5-pixel windows centred on the coarse
    pixels `centre` (P,): the 8 samples between the first and the last pixel (of the 10)."""
    low, high = window.narrow(dim, 0, 4), window.narrow(dim, 1, 4)
    # the image's first half-resolution pixel, sample 2k + 1 where centre + k == 1: ATen's clamped
    # source index puts all the weight on coarse pixel 0, which is `high` there
    shape = [window.size(d) if d == 0 else 4 if d == dim else 1 for d in range(window.dim())]
    first = (centre[:, None] + torch.arange(4, device=centre.device) == 1).view(shape)
    even = low * 0.75 + high * 0.25
    odd = torch.where(first, high, low * 0.25 + high * 0.75)
    return torch.stack([even, odd], dim + 1).flatten(dim, dim + 1)


def regions_map(err: Tensor, top: Tensor, keep: Tensor) -> Tensor:
    """The (B, 1, h, w) map of `err`'s shape, 1 at the `top` (B, k) flat indices that `keep`."""
    ref = torch.zeros_like(err).flatten(1).scatter_(1, top, keep.to(err.dtype))
    return ref.view_as(err)


def grid_index(top: Tensor, width: int) -> PatchIndex:
    """Flat (B, k) patch indices on a grid `width` patches wide -> (batch, row, column), each
    (B * k,), the layout `nonzero` gives (in another order)."""
    batch = torch.arange(top.size(0), device=top.device)[:, None].expand_as(top).flatten()
    top = top.flatten()
    return batch, top // width, top % width


def replace_patch(
    x: Tensor, patches: Tensor, idx: PatchIndex, keep: Tensor | None = None
) -> Tensor:
    """Writes (P, C, h, w) `patches` into (B, C, H, W) `x` at the `idx` cells of an h x w grid;
    where `keep` (P,) is False the cell keeps its value. Under autocast the patches come from a
    convolution in half precision and `x` from an interpolation in fp32: they take `x`'s dtype
    (index_put needs one dtype; the official code ran on a PyTorch that cast silently)."""
    b, c, height, width = x.shape
    h, w = patches.shape[2:]
    patches = patches.to(x.dtype)
    grid = x.view(b, c, height // h, h, width // w, w).permute(0, 2, 4, 1, 3, 5)
    if keep is not None:
        patches = torch.where(keep.view(-1, 1, 1, 1), patches, grid[idx[0], idx[1], idx[2]])
    grid[idx[0], idx[1], idx[2]] = patches
    return grid.permute(0, 3, 1, 4, 2, 5).view(b, c, height, width)
