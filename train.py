"""Train a matting method and test its best checkpoint.

python train.py model=bgmv2 data=videomatte_sample
python train.py -m model=bgmv2_base,bgmv2_mobilenetv2 seed=1,2
"""

import hydra
from omegaconf import DictConfig

from mattebench.errors import report_user_errors
from mattebench.tasks import optimized_value, sweeper_optimises, train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
@report_user_errors("interrupted; resume with ckpt_path=<run dir>/checkpoints/last.ckpt")
def main(cfg: DictConfig) -> float | None:
    return optimized_value(train(cfg), cfg.get("optimized_metric"), sweeper_optimises())


if __name__ == "__main__":
    main()
