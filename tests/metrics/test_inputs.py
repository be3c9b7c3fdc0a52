"""Bad input gets a clear error that says what is wrong."""

import pytest
import torch

from mattebench.metrics import MAD, SAD, MattingMetrics
from mattebench.metrics import functional as F


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(1, 1, 4, 4\) and \(1, 1, 4, 5\)"):
        F.sad(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))


def test_missing_channel_dimension_is_explained():
    with pytest.raises(ValueError, match="N,1,H,W"):
        F.sad(torch.zeros(4, 4), torch.zeros(4, 4))


def test_values_outside_unit_range_suggest_the_0_255_mixup():
    with pytest.raises(ValueError, match=r"looks like 0\.\.255"):
        F.sad(torch.full((1, 1, 2, 2), 200.0), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"target values must lie in \[0, 1\]"):
        F.sad(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), -0.1))


def test_integer_types_other_than_uint8_are_rejected():
    with pytest.raises(TypeError, match="uint8"):
        F.sad(torch.zeros(1, 1, 2, 2, dtype=torch.int64), torch.zeros(1, 1, 2, 2))


def test_nan_is_rejected_not_propagated():
    pred = torch.zeros(1, 1, 2, 2)
    pred[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        SAD().update(pred, torch.zeros(1, 1, 2, 2))


@pytest.mark.parametrize(
    "trimap",
    [torch.full((1, 1, 2, 2), 0.3), torch.full((1, 1, 2, 2), 100, dtype=torch.uint8)],
)
def test_trimap_with_other_values_is_rejected(trimap):
    with pytest.raises(ValueError, match="trimap may only contain"):
        F.sad(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), trimap)


def test_png_trimap_divided_by_255_is_accepted():
    trimap = torch.tensor([[0.0, 128 / 255], [1.0, 128 / 255]])[None, None]
    pred, target = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    assert F.sad(pred, target, trimap).item() == pytest.approx(2 / 1000)


def test_unknown_region_without_trimap_is_an_error():
    with pytest.raises(ValueError, match="needs a trimap"):
        SAD(region="unknown").update(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))


def test_option_errors_come_at_construction():
    with pytest.raises(ValueError, match="Unknown metric convention"):
        SAD(convention="matlab")
    with pytest.raises(ValueError, match="Unknown region"):
        SAD(region="band")
    with pytest.raises(ValueError, match="always scores the trimap's unknown region"):
        SAD(convention="mmagic", region="image")
    with pytest.raises(ValueError, match="defines no MAD"):
        MAD(convention="mmagic")
    with pytest.raises(ValueError, match="Unknown metric"):
        MattingMetrics(metrics=["sadd"])


def test_mask_must_match_and_be_boolean():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="needs mask"):
        F.sad(x, x, region="mask")
    with pytest.raises(TypeError, match="boolean"):
        F.sad(x, x, mask=torch.ones(1, 1, 2, 2), region="mask")
    with pytest.raises(ValueError, match="use region='mask'"):
        F.sad(x, x, mask=torch.ones(1, 1, 2, 2, dtype=torch.bool))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_every_float_dtype_scores_as_its_float32_values(dtype):
    """On CPU the inputs go through NumPy where it has the dtype (bfloat16 stays in PyTorch);
    a trimap in the same dtype marks 0.5 and 128/255 as unknown in that dtype's precision."""
    values = torch.tensor([[0.0, 0.25], [0.5, 1.0]])[None, None]
    pred = values.to(dtype)
    trimap = [[0.0, 128 / 255], [0.5, 1.0]]
    expected = F.sad(pred.float(), torch.zeros_like(values), torch.tensor(trimap)[None, None])
    got = F.sad(pred, torch.zeros_like(pred), torch.tensor(trimap, dtype=dtype)[None, None])
    assert torch.equal(got, expected)
    assert got.item() == pytest.approx(0.75 / 1000)
