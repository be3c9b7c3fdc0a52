"""`python -m mattebench.evaluate` against the oracle, and its errors on bad folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mattebench.evaluate import main
from tests import mattes, oracle

SEEDS = (0, 1, 2)


def write_case(root: Path, name: str, pred, target, trimap, pred_ext: str = ".png") -> None:
    """Write one image's pred/alpha/trimap into the three folders under `root`."""
    for folder, image, ext in (
        ("pred", pred, pred_ext),
        ("alpha", target, ".png"),
        ("trimap", trimap, ".png"),
    ):
        (root / folder).mkdir(exist_ok=True)
        assert cv2.imwrite(str(root / folder / f"{name}{ext}"), image)


@pytest.fixture
def cases(tmp_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Three 60x80 portrait cases written under tmp_path, by name."""
    made = {f"img{seed}": mattes.portrait_case(60, 80, seed=seed) for seed in SEEDS}
    for name, case in made.items():
        write_case(tmp_path, name, *case)
    return made


def evaluate(root: Path, *options: str, trimap: bool = True) -> int:
    argv = ["--pred", str(root / "pred"), "--alpha", str(root / "alpha"), *options]
    if trimap:
        argv += ["--trimap", str(root / "trimap")]
    return main(argv)


def read_report(root: Path) -> dict:
    return json.loads((root / "pred" / "evaluation.json").read_text())


def assert_matches(report: dict, expected: dict[str, dict[str, float]]) -> None:
    assert report["count"] == len(expected)
    assert report["images"] == {
        name: pytest.approx(values, rel=1e-9) for name, values in expected.items()
    }
    mean = {key: np.mean([values[key] for values in expected.values()]) for key in report["mean"]}
    assert report["mean"] == pytest.approx(mean, rel=1e-9)


@pytest.mark.parametrize(
    ("convention", "reference"),
    [
        ("dim", lambda p, t, tri: oracle.dim_metrics(p, t, tri == 128)),
        ("mmagic", oracle.mmagic_metrics),
    ],
)
def test_matches_oracle(tmp_path, cases, convention, reference):
    assert evaluate(tmp_path, "--convention", convention) == 0
    report = read_report(tmp_path)
    assert report["convention"] == convention and report["region"] == "unknown"
    assert_matches(report, {name: reference(*case) for name, case in cases.items()})

    with (tmp_path / "pred" / "evaluation.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["name"] for row in rows] == [*cases, "mean"]
    for row in rows:
        values = report["images"].get(row["name"], report["mean"])
        assert {key: float(value) for key, value in row.items() if key != "name"} == values


def test_without_trimap_scores_whole_image(tmp_path, cases):
    assert evaluate(tmp_path, trimap=False) == 0
    report = read_report(tmp_path)
    assert report["region"] == "image"
    expected = {
        n: oracle.dim_metrics(p, t, np.ones_like(t, bool)) for n, (p, t, _) in cases.items()
    }
    assert_matches(report, expected)


def test_out_prefix(tmp_path, cases):
    assert evaluate(tmp_path, "--out", str(tmp_path / "reports" / "run1")) == 0
    assert (tmp_path / "reports" / "run1.json").exists()
    assert (tmp_path / "reports" / "run1.csv").exists()


def test_missing_prediction(tmp_path, cases, capsys):
    (tmp_path / "pred" / "img1.png").unlink()
    assert evaluate(tmp_path) == 2
    assert "img1" in capsys.readouterr().err

    assert evaluate(tmp_path, "--allow-missing") == 0
    assert "img1" in capsys.readouterr().err
    assert sorted(read_report(tmp_path)["images"]) == ["img0", "img2"]


def test_extra_prediction_warns(tmp_path, cases, capsys):
    cv2.imwrite(str(tmp_path / "pred" / "stray.png"), cases["img0"][0])
    assert evaluate(tmp_path) == 0
    assert "warning" in (err := capsys.readouterr().err) and "stray" in err
    assert "stray" not in read_report(tmp_path)["images"]


def test_missing_trimap(tmp_path, cases, capsys):
    (tmp_path / "trimap" / "img2.png").unlink()
    assert evaluate(tmp_path) == 2
    assert "img2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("label", "encode", "pred_ext"),
    [
        ("3 equal channels", lambda p: np.dstack([p, p, p]), ".png"),
        ("RGBA cut-out", lambda p: np.dstack([p // 2, p // 3, 255 - p, p]), ".png"),
        ("16-bit", lambda p: p.astype(np.uint16) * 257, ".png"),
        ("other extension", lambda p: p, ".tif"),
    ],
)
def test_prediction_encodings_give_same_numbers(tmp_path, label, encode, pred_ext):
    pred, target, trimap = mattes.portrait_case(60, 80, seed=3)
    write_case(tmp_path, "img", encode(pred), target, trimap, pred_ext=pred_ext)
    assert evaluate(tmp_path) == 0
    assert_matches(read_report(tmp_path), {"img": oracle.dim_metrics(pred, target, trimap == 128)})


def corrupt(root: Path) -> str:
    (root / "pred" / "img1.png").write_bytes(b"\x89PNG garbage")
    return "img1.png"


def resize(root: Path) -> str:
    cv2.imwrite(str(root / "pred" / "img2.png"), np.zeros((60, 81), np.uint8))
    return "img2.png"


def colour_alpha(root: Path) -> str:
    target = mattes.portrait_case(60, 80, seed=0)[1]
    cv2.imwrite(str(root / "alpha" / "img0.png"), np.dstack([target, target, 255 - target]))
    return "img0.png"


def bad_trimap(root: Path) -> str:
    trimap = mattes.portrait_case(60, 80, seed=1)[2]
    trimap[0, 0] = 100
    cv2.imwrite(str(root / "trimap" / "img1.png"), trimap)
    return "img1"


def duplicate_name(root: Path) -> str:
    cv2.imwrite(str(root / "alpha" / "img0.bmp"), mattes.portrait_case(60, 80, seed=0)[1])
    return "img0.bmp"


@pytest.mark.parametrize("spoil", [corrupt, resize, colour_alpha, bad_trimap, duplicate_name])
def test_bad_file_is_named(tmp_path, cases, capsys, spoil):
    name = spoil(tmp_path)
    assert evaluate(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and name in err


def test_size_mismatch_reports_both_sizes(tmp_path, cases, capsys):
    resize(tmp_path)
    assert evaluate(tmp_path) == 2
    assert "81x60" in (err := capsys.readouterr().err) and "80x60" in err


def test_missing_or_empty_folder(tmp_path, cases, capsys):
    missing = tmp_path / "nowhere"
    assert main(["--pred", str(missing), "--alpha", str(tmp_path / "alpha")]) == 2
    assert str(missing) in capsys.readouterr().err

    (empty := tmp_path / "empty").mkdir()
    assert main(["--pred", str(tmp_path / "pred"), "--alpha", str(empty)]) == 2
    assert str(empty) in capsys.readouterr().err


@pytest.mark.parametrize(
    "options", [("--convention", "mmagic"), ("--region", "unknown"), ("--force-known",)]
)
def test_options_needing_a_trimap(tmp_path, cases, capsys, options):
    assert evaluate(tmp_path, *options, trimap=False) == 2
    assert "--trimap" in capsys.readouterr().err


def test_keep_going_scores_the_rest_and_lists_the_failures(tmp_path, cases, capsys):
    corrupt(tmp_path)  # img1's prediction cannot be read
    trimap = cases["img0"][2].copy()
    trimap[0, 0] = 100  # img0's trimap has a value other than 0/128/255
    cv2.imwrite(str(tmp_path / "trimap" / "img0.png"), trimap)
    assert evaluate(tmp_path) == 2  # without it, the first bad file stops the evaluation
    assert evaluate(tmp_path, "--keep-going") == 1
    report = read_report(tmp_path)
    assert report["count"] == 1 and set(report["images"]) == {"img2"}
    assert set(report["failures"]) == {"img0", "img1"}
    err = capsys.readouterr().err
    assert "failed: img0" in err and "failed: img1" in err
    pred, target, trimap = cases["img2"]
    assert_matches(report, {"img2": oracle.dim_metrics(pred, target, trimap == 128)})
