"""Train a matting method and test its best checkpoint.

python train.py model=bgmv2 data=videomatte_sample
python train.py -m model=bgmv2_base,bgmv2_mobilenetv2 seed=1,2
"""

import hydra
from omegaconf import DictConfig

from mattebench.tasks import optimized_value, train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return optimized_value(train(cfg), cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
