"""One decoding module: the alpha encodings, the RGBA rule and the extensions, at every entry."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mattebench.data.decode import (
    IMAGE_EXTENSIONS,
    CorruptImageError,
    DuplicateImageError,
    ImageFormatError,
    image_names,
    list_images,
    read_alpha,
    read_matte,
    read_rgba,
    read_unit_image,
)
from mattebench.evaluation.cases import EvaluationError, find_files
from mattebench.evaluation.score import read_matte as evaluate_read_matte
from mattebench.inference.io import FrameSource

ALPHA = np.arange(256, dtype=np.uint8).reshape(16, 16)


def test_alpha_encodings_convert_or_fail_naming_the_file(tmp_path):
    Image.fromarray(ALPHA.astype(np.uint16) * 257).save(tmp_path / "a16.png")
    np.testing.assert_array_equal(read_alpha(tmp_path / "a16.png"), ALPHA)
    gray = Image.fromarray(ALPHA).convert("P")  # a gray palette
    gray.putpalette([v for i in range(256) for v in (i, i, i)])
    gray.save(tmp_path / "gray_palette.png")
    np.testing.assert_array_equal(read_alpha(tmp_path / "gray_palette.png"), ALPHA)
    Image.fromarray(np.dstack([ALPHA] * 3)).save(tmp_path / "gray_rgb.png")
    np.testing.assert_array_equal(read_alpha(tmp_path / "gray_rgb.png"), ALPHA)
    Image.fromarray(ALPHA > 127).save(tmp_path / "bilevel.png")
    np.testing.assert_array_equal(read_alpha(tmp_path / "bilevel.png"), (ALPHA > 127) * 255)
    colour = Image.fromarray(ALPHA).convert("P")
    colour.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
    colour.save(tmp_path / "colour_palette.png")
    with pytest.raises(ImageFormatError, match=r"colour_palette.png is not a matte"):
        read_alpha(tmp_path / "colour_palette.png")
    Image.fromarray(np.dstack([ALPHA, ALPHA[::-1], ALPHA])).save(tmp_path / "colour.png")
    with pytest.raises(ImageFormatError, match=r"colour.png is not a matte"):
        read_alpha(tmp_path / "colour.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(CorruptImageError, match=r"broken\.png"):
        read_alpha(tmp_path / "broken.png")


def rgba(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([colour, alpha]).astype(colour.dtype)


@pytest.mark.parametrize("depth", [np.uint8, np.uint16])
def test_the_rgba_rule(tmp_path, depth):
    """A cut-out's matte is its alpha channel; an opaque RGBA gray matte is its gray."""
    scale = 257 if depth == np.uint16 else 1
    person = np.dstack([ALPHA, ALPHA[::-1], np.full_like(ALPHA, 40)]).astype(depth) * scale
    cutout = tmp_path / "cutout.png"
    cv2.imwrite(str(cutout), rgba(person, ALPHA.astype(depth) * scale))
    np.testing.assert_array_equal(read_alpha(cutout), ALPHA)
    np.testing.assert_array_equal(read_rgba(cutout)[1], ALPHA)
    opaque_gray = tmp_path / "opaque_gray.png"
    gray = np.dstack([ALPHA] * 3).astype(depth) * scale
    cv2.imwrite(str(opaque_gray), rgba(gray, np.full_like(ALPHA, 255).astype(depth) * scale))
    np.testing.assert_array_equal(read_alpha(opaque_gray), ALPHA)
    opaque_colour = tmp_path / "opaque_colour.png"
    cv2.imwrite(str(opaque_colour), rgba(person, np.full_like(ALPHA, 255).astype(depth) * scale))
    with pytest.raises(ImageFormatError, match=r"opaque_colour\.png is not a matte"):
        read_matte(opaque_colour)
    # the evaluator reads the same files the same way (as uint8, or unit floats for 16 bit)
    for path in (cutout, opaque_gray):
        got = evaluate_read_matte(path)
        np.testing.assert_allclose(got if got.dtype == np.uint8 else got * 255, ALPHA)
    with pytest.raises(EvaluationError, match=r"opaque_colour\.png is not a matte"):
        evaluate_read_matte(opaque_colour)


def test_unit_images_keep_16_bit_and_drop_alpha(tmp_path):
    image = (np.arange(3 * 4 * 3).reshape(3, 4, 3) * 1000).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), rgba(image, np.zeros((3, 4), np.uint16)))
    got = read_unit_image(tmp_path / "deep.png")
    assert got.dtype == np.float32 and got.shape == (3, 4, 3)
    np.testing.assert_allclose(got, image[..., ::-1] / 65535, rtol=0, atol=1e-7)  # BGR -> RGB


def test_one_extension_list_for_datasets_inference_and_evaluation(tmp_path):
    for i, ext in enumerate(IMAGE_EXTENSIONS):
        cv2.imwrite(str(tmp_path / f"img{i}{ext}"), np.full((4, 4), 128, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    assert len(FrameSource(tmp_path)) == len(IMAGE_EXTENSIONS)
    assert sorted(find_files(tmp_path, "prediction")) == [
        f"img{i}" for i in range(len(IMAGE_EXTENSIONS))
    ]


def test_a_matte_listed_under_any_extension_reads_alike(tmp_path: Path):
    for ext in (".png", ".bmp", ".tif", ".tiff"):
        cv2.imwrite(str(tmp_path / f"a{ext}"), ALPHA)
        np.testing.assert_array_equal(read_alpha(tmp_path / f"a{ext}"), ALPHA)


def test_one_folder_listing_skips_hidden_files_and_refuses_two_images_of_one_name(tmp_path):
    for name in ("b.png", "a.jpg", "._a.png", ".DS_Store", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert image_names(tmp_path) == {"a": "a.jpg", "b": "b.png"}  # datasets
    assert find_files(tmp_path, "prediction") == {"a": tmp_path / "a.jpg", "b": tmp_path / "b.png"}
    assert FrameSource.__dict__ and [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.png"]
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(DuplicateImageError, match=r"'a': a\.jpg, a\.png"):
        image_names(tmp_path)
    with pytest.raises(EvaluationError, match=r"a\.jpg, a\.png"):
        find_files(tmp_path, "prediction")
