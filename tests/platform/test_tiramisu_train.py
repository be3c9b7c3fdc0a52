"""Tiramisu through the user's commands: the variants' sizes, and a short overfit in which the
loss falls and the validation IoU rises (its fast dev runs on segmentation and matting data are
in test_train.py's matrix over every model config)."""

import hydra
import pytest
from omegaconf import open_dict

from mattebench.methods.tiramisu import Tiramisu
from mattebench.tasks import train
from tests.platform.conftest import FAST, logged

SMALL = ["model=tiramisu56", *FAST, "data.size=64"]


#: FC-DenseNet103 (model=tiramisu, the paper's best), 56 and 67: the spec's parameter counts.
PARAMETERS = {"tiramisu": 9_319_778, "tiramisu56": 1_375_058, "tiramisu67": 3_460_642}


@pytest.mark.parametrize("variant", sorted(PARAMETERS))
def test_variants_instantiate_with_the_spec_parameter_counts(make_config, variant):
    module = hydra.utils.instantiate(make_config(f"model={variant}").model)
    assert isinstance(module, Tiramisu)
    assert sum(p.numel() for p in module.net.parameters()) == PARAMETERS[variant]


@pytest.mark.slow  # long: 12 training epochs and three validations
def test_overfitting_a_batch_raises_the_validation_iou(make_config):
    cfg = make_config(
        *SMALL, "data=coco_person_sample", "debug=overfit", "trainer.overfit_batches=1",
        "trainer.max_epochs=12", "trainer.check_val_every_n_epoch=4",
        "trainer.log_every_n_steps=1", "model.panel_every_n_epochs=0",
        # the sample's person-only images of any crowd size, validated on val2017 (a set of its
        # own name): one overfit batch of the recipe's 1-2-people train part does not carry over
        "data.train.only_person=true", "data.train.max_people=null", "data.train.part=null",
        "data.val.split=val", "data.val.part=null",
        "data.testsets.val.name=coco_person_sample_val2017_person_only",
    )  # fmt: skip
    with open_dict(cfg):
        cfg.data.val_samples = 2
    train(cfg)
    losses, ious = logged(cfg, "train/loss"), logged(cfg, "val/iou")
    assert len(losses) == 12 and len(ious) == 3  # validated after epochs 4, 8 and 12
    assert sum(losses[-3:]) < 0.6 * sum(losses[:3])
    assert ious[-1] > ious[0]
