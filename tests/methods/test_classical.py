"""Classical matting on small constructed cases: the closed-form solution where it is exact,
the trimap shortcuts, the working resolution, and the time limit."""

import pytest
import torch

from mattebench.methods.classical import ClassicalMatting, constant_solution, solve_all

FG, BG = torch.tensor([0.9, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.8])
SIZE = 32


def constant_colour_case(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """I = aF + (1-a)B with one F and one B colour: the colour line model holds exactly, so
    closed-form matting recovers any alpha; the outer columns are the known trimap."""
    alpha = torch.rand(1, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))
    alpha[..., :4], alpha[..., -4:] = 0, 1
    image = alpha * FG[:, None, None] + (1 - alpha) * BG[:, None, None]
    trimap = torch.full_like(alpha, 0.5)
    trimap[..., :4], trimap[..., -4:] = 0, 1
    return image, trimap, alpha


def test_closed_form_recovers_alpha_and_foreground_of_a_two_colour_image():
    image, trimap, alpha = constant_colour_case()
    pred = ClassicalMatting("cf", workers=1).predict({"image": image, "trimap": trimap})
    assert pred["alpha"].shape == alpha.shape
    assert (pred["alpha"] - alpha).abs().max() < 1e-2
    visible = alpha.expand_as(image) > 0.05
    assert (pred["fgr"] - FG[:, None, None]).abs()[visible].max() < 1e-2


def test_known_pixels_are_copied_and_the_working_resolution_keeps_the_size():
    image, trimap, _ = constant_colour_case()
    image, trimap = image.repeat(2, 1, 2, 2), trimap.repeat(2, 1, 2, 2)
    pred = ClassicalMatting("cf", max_side=SIZE, workers=2).infer(
        {"image": image, "trimap": trimap}
    )
    assert pred["alpha"].shape == trimap.shape and pred["fgr"].shape == image.shape
    known = trimap != 0.5
    assert torch.equal(pred["alpha"][known], trimap[known])


def test_a_trimap_without_unknown_pixels_is_the_answer(monkeypatch):
    image, trimap, _ = constant_colour_case()
    trimap = (trimap > 0.25).float()
    monkeypatch.setattr("mattebench.methods.classical.solve", pytest.fail)
    pred = ClassicalMatting("knn").predict({"image": image, "trimap": trimap})
    assert torch.equal(pred["alpha"], trimap)


def test_one_known_label_gives_the_constant_solution():
    assert constant_solution(torch.tensor([[0.5, 0.0]]).numpy()).tolist() == [[0.0, 0.0]]
    assert constant_solution(torch.tensor([[0.5, 1.0]]).numpy()).tolist() == [[1.0, 1.0]]
    assert constant_solution(torch.tensor([[0.0, 0.5, 1.0]]).numpy()) is None


def test_an_image_over_the_time_limit_falls_back_to_its_trimap_with_a_warning():
    image, trimap, _ = constant_colour_case()
    method = ClassicalMatting("cf", workers=1, time_limit_s=1e-3)
    batch = {"image": image, "trimap": trimap, "meta": [{"source": "constructed", "id": "c0"}]}
    with pytest.warns(UserWarning, match="constructed/c0 passed time_limit_s=0.001"):
        pred = method.predict(batch)
    assert torch.equal(pred["alpha"], trimap)


def test_solve_all_kills_what_runs_past_the_limit_and_keeps_the_rest():
    image, trimap, _ = constant_colour_case()
    job = ("cf", image[0].permute(1, 2, 0).double().numpy(), trimap[0, 0].double().numpy(), {})
    slow = ("cf", *job[1:3], {"cg_kwargs": {"atol": 0.0, "rtol": 0.0, "maxiter": 10**9}})
    fast, killed = solve_all([job, slow], workers=2, time_limit_s=2.0)
    assert fast.alpha is not None and not fast.timed_out
    assert killed.timed_out and killed.alpha is None  # no wall-time assert: the machine is shared


def test_missing_trimap_is_a_clear_error_and_fitting_is_refused():
    method = ClassicalMatting("cf")
    with pytest.raises(KeyError, match="'trimap'"):
        method.predict({"image": torch.zeros(1, 3, 8, 8)})
    with pytest.raises(RuntimeError, match="nothing to train"):
        method.configure_optimizers()
    with pytest.raises(ValueError, match="algorithm='poisson'"):
        ClassicalMatting("poisson")
