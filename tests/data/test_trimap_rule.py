"""One trimap rule: the same trimap file gives the same regions at every entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mattebench.data.decode import read_trimap
from mattebench.data.trimap import (
    is_background,
    is_foreground,
    quantise_trimap,
    resize_trimap,
    trimap_from_alpha,
    unknown_mask,
)
from mattebench.inference.guides import Guide
from mattebench.methods.policy import copy_known
from mattebench.metrics.inputs import prepare
from mattebench.models.hdmatt.cpc import region_masks
from mattebench.models.hdmatt.model import HDMatt

LEVELS = np.arange(256, dtype=np.uint8)
EXPECTED = np.where(LEVELS < 85, 0.0, np.where(LEVELS > 170, 1.0, 0.5))


@pytest.mark.parametrize(
    "as_input",
    [
        lambda v: v,
        lambda v: v.astype(np.float32) / 255,
        lambda v: v.astype(np.float64) / 255,
        torch.from_numpy,
        lambda v: torch.from_numpy(v).float() / 255,
        lambda v: (torch.from_numpy(v).float() / 255).half(),
    ],
)
def test_thirds_on_every_kind_of_input(as_input):
    trimap = as_input(LEVELS)
    got = quantise_trimap(trimap)
    assert type(got) is type(trimap)
    np.testing.assert_array_equal(np.asarray(got, np.float64), EXPECTED)
    masks = [np.asarray(m) for m in (is_background(trimap), unknown_mask(trimap))]
    masks.append(np.asarray(is_foreground(trimap)))
    assert (sum(m.astype(int) for m in masks) == 1).all()  # a partition
    np.testing.assert_array_equal(masks[1], EXPECTED == 0.5)


def test_resize_known_only_where_every_covered_pixel_was():
    trimap = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.5], [0, 1, 0, 0], [0, 0, 0, 0]])
    small = resize_trimap(trimap[None, None], (2, 2))[0, 0]
    assert small.tolist() == [[0.0, 0.5], [0.5, 0.0]]  # a mixed fg/bg cell is unknown too
    big = torch.rand(1, 1, 37, 53).mul(2).round().div(2)  # any {0, 0.5, 1} trimap
    area = F.interpolate(big, size=(11, 17), mode="area")
    old = torch.where((area > 0) & (area < 1), 0.5, area.round())  # the former policy rule
    torch.testing.assert_close(resize_trimap(big, (11, 17)), old)
    assert resize_trimap(big, (74, 106)).unique().tolist() == [0.0, 0.5, 1.0]


@pytest.fixture(scope="module")
def trimap_files(tmp_path_factory) -> tuple[np.ndarray, dict[str, Path]]:
    """A 0/128/255 trimap of a disc, stored as PNG and as a lossy JPEG."""
    alpha = np.zeros((96, 128), np.uint8)
    cv2.circle(alpha, (64, 48), 30, 255, -1)
    trimap = (trimap_from_alpha(alpha, iterations=6) * 255).round()
    trimap = np.where(trimap == 127.5, 128, trimap).astype(np.uint8)
    root = tmp_path_factory.mktemp("trimaps")
    files = {"png": root / "t.png", "jpeg": root / "t.jpg"}
    cv2.imwrite(str(files["png"]), trimap)
    cv2.imwrite(str(files["jpeg"]), trimap, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return trimap, files


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_the_same_file_gives_the_same_unknown_region_everywhere(trimap_files, kind):
    clean, files = trimap_files
    decoded = cv2.imread(str(files[kind]), cv2.IMREAD_GRAYSCALE)
    noise = np.abs(decoded.astype(int) - clean).max()
    assert noise < 42 and (noise > 0) == (kind == "jpeg")  # within the rule's margin
    reader = read_trimap(files[kind])  # what AIM-500 and Composition-1K readers return
    np.testing.assert_array_equal(reader, quantise_trimap(clean))  # the noise moves nothing
    unknown = reader == 0.5

    guide = Guide(files[kind], "trimap").at(0, clean.shape[::-1])  # inference
    np.testing.assert_array_equal(guide, reader)

    t = torch.from_numpy(reader)[None, None]
    alpha = copy_known(torch.full_like(t, -1.0), t)  # the evaluation of every trimap method
    np.testing.assert_array_equal((alpha == -1)[0, 0].numpy(), unknown)

    hdmatt = SimpleNamespace(mean=0.0, std=1.0, trimap_encoding="onehot")
    onehot = HDMatt.network_input(hdmatt, torch.zeros(1, 3, *clean.shape), t)[0, 3:]
    np.testing.assert_array_equal(onehot[1].bool().numpy(), unknown)  # B, U, F channels
    np.testing.assert_array_equal(region_masks(t, clean.shape)[0, 0].bool().numpy(), unknown)

    # the metrics score the file's 128 region; on a clean file that is the same region
    batch = prepare(t * 0, t * 0, torch.from_numpy(clean)[None, None])
    np.testing.assert_array_equal(batch.region[0, 0].numpy(), unknown)


def test_model_code_imports_the_rule_without_lightning_or_hydra():
    """`models/` uses `data.trimap` and must stay free of Lightning and Hydra (DESIGN.md): the
    data package loads its datamodule lazily (importing the models themselves costs seconds)."""
    code = (
        "import sys, mattebench.data.trimap, mattebench.data.decode; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lightning', 'hydra'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_rgba_trimap_reads_alike_in_datasets_and_inference(trimap_files, tmp_path):
    """The RGBA rule reaches trimaps too: a cut-out's alpha channel is the trimap."""
    clean, _ = trimap_files
    colour = np.dstack([np.full_like(clean, 200), clean[::-1], np.zeros_like(clean)])
    cv2.imwrite(str(tmp_path / "cutout.png"), np.dstack([colour, clean]))
    reader = read_trimap(tmp_path / "cutout.png")
    np.testing.assert_array_equal(reader, quantise_trimap(clean))
    guide = Guide(tmp_path / "cutout.png", "trimap").at(0, clean.shape[::-1])
    np.testing.assert_array_equal(guide, reader)
