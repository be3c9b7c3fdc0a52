"""Export any method to ONNX and TorchScript, verified against PyTorch.

python export.py model=modnet out=exports/modnet weights=<modnet_photographic_portrait_matting.ckpt>
python export.py model=bgmv2 out=exports/bgmv2 height=1080 width=1920 ckpt_path=<run>/last.ckpt
"""

import hydra
from omegaconf import DictConfig

from mattebench.errors import report_user_errors
from mattebench.export import export


@hydra.main(version_base="1.3", config_path="conf", config_name="export")
@report_user_errors("interrupted")
def main(cfg: DictConfig) -> None:
    report = export(cfg)
    if not all(result["ok"] for result in report["formats"].values()):
        raise SystemExit(f"export failed or did not verify; see {cfg.out}/export.json")


if __name__ == "__main__":
    main()
