"""Matte an image, a folder of images or a video with any method.

python infer.py model=modnet input=clip.mp4 output=out/ weights=<official MODNet .ckpt>
python infer.py model=bgmv2 input=frames/ bgr=plate.png output=out/ ckpt_path=<run>/last.ckpt
"""

import hydra
from omegaconf import DictConfig

from mattebench.errors import report_user_errors
from mattebench.inference.task import infer


@hydra.main(version_base="1.3", config_path="conf", config_name="infer")
@report_user_errors("interrupted; run the same command again to resume")
def main(cfg: DictConfig) -> None:
    infer(cfg)


if __name__ == "__main__":
    main()
