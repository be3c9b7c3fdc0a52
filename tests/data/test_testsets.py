"""Built test sets: identical on every build, verified not rewritten, clips that are videos,
native resolution, and items that hold only what a method may see and the unit they belong to."""

import csv
import itertools
import json
import os
import re
import shutil

import numpy as np
import pytest
import torch

from mattebench.data import MattingDataModule
from mattebench.data.samples import generate_composition1k_sample, generate_photomatte85_sample
from mattebench.data.sources import Composition1K, PhotoMatte85
from mattebench.methods.records import SampleRecords
from mattebench.metrics import DtSSD, MattingMetrics
from mattebench.testsets import (
    BGMv2Composites,
    PlatePerturbation,
    Prepared,
    TestSet,
    TestSetError,
    VideoMatteClips,
    ensure,
    read_manifest,
)
from mattebench.testsets import manifest as manifest_module
from mattebench.testsets.manifest import set_hash, write_manifest

SMALL = (72, 96)  # clip sets at a quarter of the sample's 288x384, to keep the tests fast


def clips(sources, root, seed=0, verify=False, **kwargs):
    protocol = VideoMatteClips("clips", resolution=kwargs.pop("resolution", SMALL), **kwargs)
    return ensure(protocol, sources["test"], sources["test_backgrounds"], root, seed, verify=verify)


def evaluation(sources, root, **kwargs):
    """A datamodule whose test stage reads the set `clips(sources, root, **kwargs)` builds."""
    protocol = VideoMatteClips("clips", resolution=SMALL, **kwargs)
    return MattingDataModule(
        **sources, testsets={"test": protocol}, testset_root=root, num_workers=0, batch_size=4
    )


def evaluated_info(sources, root) -> dict:
    dm = evaluation(sources, root)
    dm.setup("test")
    return dm.testset_info("test")


def change_a_byte(folder):
    path = folder / "alpha" / "0001" / "0003.png"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the content (and mtime) tell
    path.write_bytes(bytes(data))
    return r"changed since the set was built .*: alpha/0001/0003\.png\. Restore"


def remove_a_clip(folder):
    manifest = read_manifest(folder)
    manifest["samples"] = [s for s in manifest["samples"] if s["clip"] != "0002"]
    write_manifest(folder, manifest)
    return r"manifest\.json's samples and files do not hash to its sha256 \(a sample was"


def add_a_file(folder):
    shutil.copy(folder / "alpha" / "0001" / "0003.png", folder / "alpha" / "0001" / "extra.png")
    return r"not part of the set .*: alpha/0001/extra\.png\. Restore"


def test_building_twice_gives_identical_manifests(sources, tmp_path):
    a = clips(sources, tmp_path / "a")
    b = clips(sources, tmp_path / "b")
    assert (a / "manifest.json").read_text() == (b / "manifest.json").read_text()
    manifest = read_manifest(a)
    assert manifest["protocol"] == "rvm-videomatte" and manifest["seed"] == 0
    assert manifest["sha256"] == set_hash(manifest["samples"], manifest["files"])
    assert len(manifest["samples"]) == 32  # 4 clips x 8 frames
    other = clips(sources, tmp_path / "c", seed=1)
    assert read_manifest(other)["sha256"] != manifest["sha256"]


def test_an_existing_set_is_verified_never_rewritten(sources, tmp_path):
    folder = clips(sources, tmp_path)
    alpha = folder / "alpha" / "0001" / "0003.png"
    stamp = alpha.stat().st_mtime_ns
    assert clips(sources, tmp_path) == folder
    clips(sources, tmp_path, verify=True)
    assert alpha.stat().st_mtime_ns == stamp
    with pytest.raises(TestSetError, match="seed differ"):
        clips(sources, tmp_path, seed=5)
    alpha.write_bytes(alpha.read_bytes() + b"\0")
    with pytest.raises(TestSetError, match=r"changed since the set was built.*alpha/0001/0003"):
        clips(sources, tmp_path, verify=True)
    assert alpha.read_bytes().endswith(b"\0")  # left as found


def test_a_folder_that_is_not_a_test_set_is_left_alone(sources, tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "notes.txt").write_text("mine")
    with pytest.raises(TestSetError, match=r"without a manifest\.json"):
        clips(sources, tmp_path)
    assert os.listdir(tmp_path) == ["clips"]
    assert os.listdir(tmp_path / "clips") == ["notes.txt"]


@pytest.mark.parametrize("tamper", [change_a_byte, remove_a_clip, add_a_file])
def test_a_tampered_set_fails_verification_and_stops_evaluation(sources, tmp_path, tamper):
    folder = clips(sources, tmp_path)
    problem = tamper(folder)
    with pytest.raises(TestSetError, match=problem) as error:
        clips(sources, tmp_path, verify=True)
    assert f"test set clips ({folder})" in str(error.value)
    assert "data.testset_root=" in str(error.value)  # how to fix it
    with pytest.raises(TestSetError, match=problem):
        evaluated_info(sources, tmp_path)


def test_the_hash_names_the_sample_list_as_well_as_the_files(sources, tmp_path):
    folder = clips(sources, tmp_path)
    info = evaluated_info(sources, tmp_path)
    assert info["verified"] and info["manifest_sha256"] == read_manifest(folder)["sha256"]
    remove_a_clip(folder)
    assert TestSet(folder).info()["manifest_sha256"] != info["manifest_sha256"]


def test_evaluation_verifies_through_a_cache_that_a_changed_mtime_invalidates(
    sources, tmp_path, monkeypatch
):
    folder = clips(sources, tmp_path)
    hashed = []
    file_hash = manifest_module.file_hash
    monkeypatch.setattr(manifest_module, "file_hash", lambda p: hashed.append(p) or file_hash(p))
    assert evaluated_info(sources, tmp_path)["verified"]
    assert hashed == []  # the build's own hashes seeded the cache
    (folder / ".verified.json").unlink()
    evaluated_info(sources, tmp_path)
    assert len(hashed) == len(read_manifest(folder)["files"])  # every file, once
    hashed.clear()
    evaluated_info(sources, tmp_path)
    assert hashed == []  # a second setup re-hashes nothing
    touched = folder / "fgr" / "0002" / "0004.png"
    stamp = touched.stat()
    os.utime(touched, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))
    evaluated_info(sources, tmp_path)
    assert hashed == [touched]


def test_samples_of_one_source_clip_share_its_unit(sources, tmp_path):
    folder = clips(sources, tmp_path, frames=2, repeats=2)
    samples = read_manifest(folder)["samples"]
    source_clips = list(sources["test"].by_clip)
    n = len(source_clips)
    units = {s["clip"]: s["unit"] for s in samples}
    assert units == {f"{i:04d}": source_clips[i % n] for i in range(2 * n)}  # i and i + n: one
    assert all(s["unit"] == units[s["clip"]] for s in samples)
    assert [item["meta"]["unit"] for item in TestSet(folder)] == [s["unit"] for s in samples]


def test_the_per_sample_records_carry_each_sample_s_unit(sources, tmp_path):
    dm = evaluation(sources, tmp_path, frames=2, repeats=2)
    dm.setup("test")
    metrics, records = MattingMetrics(prefix="test/"), SampleRecords(save_samples=0)
    for batch in dm.test_dataloader():
        metrics.update(batch["alpha"], batch["alpha"], trimap=batch["trimap"])
        records.add(batch, batch["alpha"], metrics)
    with records.write(tmp_path / "run").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:2] == ["id", "unit"]
    samples = read_manifest(tmp_path / "clips")["samples"]
    assert {r["id"]: r["unit"] for r in rows} == {f"clips/{s['id']}": s["unit"] for s in samples}


def test_clips_are_videos_one_background_one_smooth_motion(sources, tmp_path):
    dataset = TestSet(clips(sources, tmp_path, resolution=None))
    dtssd = DtSSD()
    by_clip: dict[str, list] = {}
    for item in dataset:
        by_clip.setdefault(item["meta"]["clip"], []).append(item)
    assert len(by_clip) == 4
    for frames in by_clip.values():
        assert [f["meta"]["index"] for f in frames] == list(range(8))
        for a, b in itertools.pairwise(frames):
            fg_a, fg_b = a["alpha"] > 0.5, b["alpha"] > 0.5
            assert (fg_a & fg_b).sum() / (fg_a | fg_b).sum() > 0.9  # consecutive frames overlap
            torch.testing.assert_close(a["bgr"], b["bgr"])  # one plate per clip
        for f in frames:
            dtssd.update(f["alpha"][None], f["alpha"][None], clip_ids=f["meta"]["clip"])
    assert dtssd.compute() == 0  # the ground truth as prediction does not flicker
    manifest = read_manifest(dataset.folder)
    backgrounds = {
        s["clip"]: {t["background"] for t in manifest["samples"] if t["clip"] == s["clip"]}
        for s in manifest["samples"]
    }
    assert all(len(b) == 1 for b in backgrounds.values())
    assert len({next(iter(b)) for b in backgrounds.values()}) == 4  # a different one per clip


def test_items_hold_the_declared_inputs_and_the_ground_truth_only(sources, tmp_path):
    folder = clips(sources, tmp_path)
    perturbed, clean = TestSet(folder)[9], TestSet(folder, plate="clean")[9]
    assert TestSet(folder, plate="clean").info()["name"] == "clips+clean_plate"  # another set
    assert set(perturbed) == {"image", "alpha", "fgr", "trimap", "bgr", "meta"}
    assert perturbed["image"].shape == (3, *SMALL)
    assert set(perturbed["trimap"].unique().tolist()) <= {0.0, 0.5, 1.0}
    assert perturbed["meta"] == {
        "testset": "clips", "source": "clips", "id": "0001/0001", "unit": "0001",
        "size": SMALL, "clip": "0001", "index": 1,
    }  # fmt: skip
    a, f = clean["alpha"], clean["fgr"]
    torch.testing.assert_close(
        clean["image"], a * f + (1 - a) * clean["bgr"], atol=0.5 / 255 + 1e-6, rtol=0
    )
    error = (perturbed["bgr"] - clean["bgr"]).abs().mean()
    assert 0.02 < error < 0.3  # the perturbed plate is the default, and it differs


def test_limit_keeps_clips_whole_and_names_the_files_read(sources, tmp_path):
    folder = clips(sources, tmp_path)
    subset = TestSet(folder, limit=6)
    assert [(s["clip"], s["index"]) for s in subset.samples] == [
        (f"{c:04d}", t) for c in range(4) for t in range(2)
    ]
    few = TestSet(folder, limit=2).samples
    assert [(s["clip"], s["index"]) for s in few] == [("0000", 0), ("0002", 0)]
    info, full = subset.info(), TestSet(folder).info()
    assert (info["samples"], info["of"], full["samples"]) == (8, 32, 32)
    assert full["manifest_sha256"] == read_manifest(folder)["sha256"] != info["manifest_sha256"]


def test_bgmv2_protocol_each_foreground_at_native_size_over_k_backgrounds(sources, tmp_path):
    root = generate_photomatte85_sample(tmp_path / "pm85", images=2, size=(96, 64))
    protocol = BGMv2Composites("pm", backgrounds_per_foreground=3)
    folder = ensure(protocol, PhotoMatte85(root), sources["test_backgrounds"], tmp_path, 0)
    manifest = read_manifest(folder)
    assert len(manifest["samples"]) == 6
    assert {s["source_id"] for s in manifest["samples"]} == {"photomatte_0000", "photomatte_0001"}
    assert all(s["unit"] == s["source_id"] for s in manifest["samples"])  # the foreground
    assert len({s["background"] for s in manifest["samples"]}) == 6
    dataset = TestSet(folder)
    assert dataset.same_size and dataset[0]["image"].shape == (3, 96, 64)
    assert "clip" not in dataset[0]["meta"]


def test_prepared_sets_keep_the_dataset_trimaps_at_native_size(tmp_path):
    root = generate_composition1k_sample(
        tmp_path / "c1k", train_foregrounds=(1, 0), test_foregrounds=1
    )
    source = Composition1K(root / "Combined_Dataset", "test")
    folder = ensure(Prepared("c1k"), source, None, tmp_path / "sets", 0)
    dataset = TestSet(folder)
    assert len(dataset) == 20
    assert {s["unit"] for s in dataset.samples} == {source[0].meta["foreground"]}  # 1 fg x 20
    for k in (0, 13):
        item, official = dataset[k], source[k]
        assert item["meta"]["id"] == official.meta["id"]
        assert item["meta"]["unit"] == official.meta["foreground"]
        np.testing.assert_array_equal(item["trimap"][0].numpy(), official.trimap)
        assert tuple(item["image"].shape[1:]) == official.pha.shape  # native resolution
        assert "bgr" in item and "bgr_clean" not in item


def test_the_plate_perturbation_follows_its_ranges():
    plate = np.full((32, 32, 3), 128, np.uint8)
    rng = np.random.default_rng(0)
    none = PlatePerturbation(shift=0, gamma=(1, 1), noise_mean=0, noise_std=(0, 0))
    np.testing.assert_array_equal(none(plate, rng), plate)
    darker = PlatePerturbation(shift=0, gamma=(1.15, 1.15), noise_mean=0, noise_std=(0, 0))
    assert darker(plate, rng).mean() < 128
    noisy = PlatePerturbation()(plate, rng)
    assert noisy.dtype == np.uint8 and 0.08 * 255 * 0.8 < noisy.std() < 0.15 * 255 * 1.2


@pytest.mark.slow
def test_the_command_line_builds_then_verifies_every_set_of_a_config(tmp_path, capsys):
    from mattebench.testsets.__main__ import main

    overrides = ["data=photomatte85_sample", f"paths.data_dir={tmp_path}"]
    assert main(["build", *overrides]) == 0
    built = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in built] == ["val", "test"]
    assert main(["verify", *overrides]) == 0
    assert capsys.readouterr().out.splitlines() == built
    manifest = json.loads(
        (tmp_path / "samples/testsets/photomatte85_sample/manifest.json").read_text()
    )
    assert manifest["protocol"] == "bgmv2-images" and len(manifest["samples"]) == 6


def test_the_evaluator_scores_predictions_against_a_set_by_sample_id(sources, tmp_path, capsys):
    from mattebench.evaluate import main

    folder = clips(sources, tmp_path / "sets")
    samples = read_manifest(folder)["samples"]
    for s in samples:  # the ground truth as prediction, in infer.py's per-clip layout
        clip, frame = s["id"].split("/")
        (tmp_path / "pred" / clip / "alpha").mkdir(parents=True, exist_ok=True)
        shutil.copy(
            folder / s["files"]["alpha"], tmp_path / "pred" / clip / "alpha" / f"{frame}.png"
        )
    args = ["--testset", str(folder), "--pred", str(tmp_path / "pred"), "--pred-kind", "alpha"]
    assert main([*args, "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["count"] == 32 and report["region"] == "unknown"
    assert report["testset"] == {
        "name": "clips",
        "manifest_sha256": read_manifest(folder)["sha256"],
        "verified": True,
    }
    assert report["mean"]["sad"] == 0
    (tmp_path / "pred" / "0002" / "alpha" / "0005.png").unlink()
    assert main([*args, "--out", str(tmp_path / "again")]) == 2
    assert "0002/0005" in capsys.readouterr().err
    message = change_a_byte(folder)  # the ground truth itself: scored against nothing
    assert main([*args, "--allow-missing", "--out", str(tmp_path / "changed")]) == 2
    assert re.search(message, capsys.readouterr().err)
