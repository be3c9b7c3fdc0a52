"""Evaluate a checkpoint on any data config.

python eval.py ckpt_path=logs/train/runs/<run>/checkpoints/epoch_007.ckpt data=videomatte
"""

import hydra
from omegaconf import DictConfig

from mattebench.errors import report_user_errors
from mattebench.tasks import evaluate


@hydra.main(version_base="1.3", config_path="conf", config_name="eval")
@report_user_errors("interrupted")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
