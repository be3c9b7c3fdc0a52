"""`MattingMethod`: what every method shares, so that methods are compared on equal terms.

A method implements `predict(batch) -> {"alpha", "fgr", ...}` (the prediction contract of
DESIGN.md) and `training_loss(batch) -> {"loss", ...}`. Evaluation lives here and only here: the
same `MattingMetrics` (SAD, MSE, Grad, Conn, MAD on the trimap's unknown band and on the whole
image), the same image panels, the same metric names (`val/sad_unknown`, `test/grad_image`, ...).

At validation and test nothing derived from the answer reaches a method (`infer`): its input is
built from its declared inputs only (the image; the trimap if trimap-based; the plate if
plate-based; its *own* previous prediction if temporal), at the resolution its
`inference_policy` declares, and its prediction is brought back to the ground truth's size.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.loggers import WandbLogger
from torch import Tensor, nn
from torchvision.utils import save_image

from mattebench.data.trimap import TrimapRecipe
from mattebench.methods import panels
from mattebench.methods.clips import ClipFeed, Scored
from mattebench.methods.policy import InferencePolicy, copy_known, run_at_policy
from mattebench.methods.records import SampleRecords
from mattebench.metrics import DtSSD, MattingMetrics

Batch = dict[str, Any]
Prediction = dict[str, Tensor]

#: What each batch key means, for error messages about missing keys.
KEY_MEANINGS = {
    "image": "the input composite",
    "bgr": "a clean background plate (background matting: compose foregrounds over backgrounds)",
    "alpha": "the ground-truth alpha",
    "fgr": "the ground-truth foreground colour (matting datasets, not segmentation masks)",
    "trimap": "a trimap (from the test set at validation and test; in training, the recipe "
    "the method declares in training_trimap(), added by the datamodule that serves it)",
    "prev_alpha": "the previous frame's alpha (set data.prev_alpha={empty_p: 0.3, warp_p: 0.3})",
}
#: Batch keys that can be a method's input at evaluation; every other key is ground truth.
#: `prev_alpha` is never read from the batch there: temporal methods get their own prediction.
INPUT_KEYS = ("image", "bgr", "trimap", "prev_alpha")
#: Channels of each input key.
INPUT_CHANNELS = {"image": 3, "bgr": 3, "trimap": 1, "prev_alpha": 1}


class MattingMethod(LightningModule):
    """Base LightningModule: optimisation plumbing, shared evaluation and image panels.

    Args:
        net: the plain `nn.Module` of the method (`mattebench.models`).
        optimizer: a partial optimizer (Hydra `_partial_: true`); it receives the parameter
            groups of `parameter_groups()`.
        scheduler: optional partial LR scheduler, stepped per epoch.
        lr: learning rate per submodule of `net` (per-module rates as in the BGMv2 trainers),
            or one number for all parameters.
        eval_regions: regions of `MattingMetrics` for validation and test.
        panel_every_n_epochs: log image panels of the first validation batch every n epochs
            (0 = never); the test panels are logged once.
        panel_samples: how many samples of that batch to show.
        clip_eval: test on clips (`ClipFeed`, strict): every frame of every clip in order,
            per-frame metrics plus `test/dtssd`. Temporal methods are always validated and
            tested frame by frame on their own previous prediction, with or without it.
        ofd: with `clip_eval`, apply the one-frame-delay fix to the shown frames first.
        save_samples: per-sample test records (`SampleRecords`): every test image's metrics
            go to `test_samples.csv`; the first `save_samples` images also keep their
            predicted alpha (`predictions/`) and a row in the W&B table `test/samples`.
    """

    #: Batch keys the method reads; a missing one is a clear error, not a KeyError.
    required_keys: ClassVar[tuple[str, ...]] = ("image", "alpha")
    #: Extra keys its training loss reads (e.g. MODNet's trimap).
    training_keys: ClassVar[tuple[str, ...]] = ()
    #: False for methods with nothing to fit (the classical solvers): `train.py` then skips
    #: fitting and only tests, whatever `train` says.
    trainable: ClassVar[bool] = True
    #: Extra prediction maps shown as panel columns, key -> column title (e.g. BGMv2's error map).
    panel_maps: ClassVar[Mapping[str, str]] = {}
    #: The multiple the network needs its input sides to be (BGMv2's refiner 4, MODNet's
    #: concatenations 32): the datamodule rounds training crops down to it, and evaluation
    #: pads inputs up to it (`inference_policy`). One declaration for both.
    input_multiple: ClassVar[int] = 1
    #: Input sizes (WxH) the method is meant for: what `mattebench.bench` measures by default.
    #: True for a segmenter (a person mask, not a matte): the report's "segmentation" family.
    segmentation: ClassVar[bool] = False
    target_sizes: ClassVar[tuple[str, ...]] = ("512x512",)

    def __init__(
        self,
        net: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        lr: float | Mapping[str, float] = 1e-4,
        eval_regions: Sequence[str] = ("unknown", "image"),
        panel_every_n_epochs: int = 1,
        panel_samples: int = 4,
        clip_eval: bool = False,
        ofd: bool = False,
        save_samples: int = 8,
    ) -> None:
        super().__init__()
        # Modules and partials stay out of the checkpoint (the Hydra config has them), so it
        # loads with torch.load(weights_only=True).
        self.save_hyperparameters(logger=False, ignore=["net", "optimizer", "scheduler"])
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.lr = lr
        self.val_metrics = MattingMetrics(regions=tuple(eval_regions), prefix="val/")
        self.test_metrics = MattingMetrics(regions=tuple(eval_regions), prefix="test/")
        self.panel_every_n_epochs = panel_every_n_epochs
        self.panel_samples = panel_samples
        self.clip_eval, self.ofd = clip_eval, ofd
        self.test_dtssd = DtSSD()
        self.feeds: dict[str, ClipFeed] = {}
        self.save_samples = save_samples
        self.records: SampleRecords | None = None

    # --- what a method implements -------------------------------------------------------
    def predict(self, batch: Batch) -> Prediction:
        """The prediction contract: at least `alpha` (B,1,H,W in [0,1]), `fgr` if predicted.
        Evaluation calls it through `infer`, on the method's inputs only."""
        raise NotImplementedError

    def inference_policy(self) -> InferencePolicy:
        """The resolution the method is evaluated at (see `policy.py`): native by default,
        padded to `input_multiple`."""
        return InferencePolicy(multiple=self.input_multiple)

    def training_trimap(self) -> TrimapRecipe | None:
        """The trimap recipe its training loss needs, `(H,W alpha, rng) -> {0, 0.5, 1}`
        (`data.trimap.TrimapRecipe`): the datamodule adds it to every training item.
        None (default): training items carry no trimap."""
        return None

    def prepare_export(self) -> str | None:
        """Puts the method in the state its exported graph holds (eval mode) and says what that
        graph computes differently from `infer`, or None. An exported graph has fixed shapes,
        so data-dependent work (BGMv2's patch selection) must switch to a fixed-shape
        equivalent here; `export.py` and the benchmark's ONNX rows call it."""
        self.eval()
        return None

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        """Loss terms of one training batch; `loss` is the one optimised."""
        raise NotImplementedError

    def parameter_groups(self) -> list[dict[str, Any]]:
        """Parameter groups with their learning rates: one per `lr` entry, by submodule of `net`."""
        if not isinstance(self.lr, Mapping):
            return [{"params": list(self.parameters()), "lr": float(self.lr)}]
        groups = []
        for name, lr in self.lr.items():
            module = self.net.get_submodule(name)
            groups.append({"params": list(module.parameters()), "lr": float(lr), "name": name})
        covered = {id(p) for group in groups for p in group["params"]}
        missed = [
            n for n, p in self.net.named_parameters() if p.requires_grad and id(p) not in covered
        ]
        if missed:
            raise ValueError(
                f"lr names {sorted(self.lr)} leave parameters without a learning rate, e.g. "
                f"{missed[:3]}; add their submodule to `lr`."
            )
        return groups

    # --- evaluation inputs ----------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        """The batch keys the method sees at evaluation: its declared priors among `INPUT_KEYS`."""
        return tuple(key for key in self.required_keys if key in INPUT_KEYS)

    @property
    def temporal(self) -> bool:
        return "prev_alpha" in self.inputs

    def infer(self, batch: Batch, previous: Tensor | None = None) -> Prediction:
        """The evaluation prediction, at the ground truth's size, from the declared inputs only:
        ground truth in `batch` (alpha, fgr, a GT `prev_alpha`) never reaches `predict`. A
        temporal method gets `previous` (its own last prediction; zeros when None). Trimap-based
        methods copy the trimap's known pixels, as their evaluations do."""
        self.check_batch(batch, [key for key in self.inputs if key != "prev_alpha"])
        inputs = {key: batch[key] for key in self.inputs if key != "prev_alpha"}
        if self.temporal:
            image = inputs["image"]
            inputs["prev_alpha"] = (
                torch.zeros_like(image[:, :1]) if previous is None else previous.to(image)
            )
        pred = run_at_policy(self.predict, inputs, self.inference_policy(), self.net)
        if "trimap" in inputs:
            pred["alpha"] = copy_known(pred["alpha"], inputs["trimap"])
        return pred

    def evaluation_outputs(self, batch: Batch, stage: str) -> list[Scored]:
        """What validation and test score: (prediction, frame, clip id or None) per batch or
        per frame. Temporal methods, and every method under `clip_eval` at test, go frame by
        frame (`ClipFeed`); the others predict the batch at once."""
        strict = stage == "test" and self.clip_eval
        if not (self.temporal or strict):
            return [(self.infer(batch), batch, None)]
        if stage not in self.feeds:
            self.feeds[stage] = ClipFeed(self.temporal, strict, self.ofd and strict)
        return self.feeds[stage].step(batch, self.infer)

    # --- Lightning hooks ------------------------------------------------------------------
    def forward(self, batch: Batch) -> Prediction:
        return self.predict(batch)

    def training_inputs(self) -> tuple[str, ...]:
        """Batch keys a training step reads."""
        return (*self.required_keys, *self.training_keys)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        self.check_batch(batch, self.training_inputs())
        self.check_multiple(batch)
        losses = self.training_loss(batch)
        size = len(batch["image"])
        self.log("train/loss", losses["loss"], prog_bar=True, batch_size=size)
        for name, value in losses.items():
            if name != "loss":
                self.log(f"train/{name}", value, batch_size=size)
        return losses["loss"]

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, batch_idx, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, batch_idx, "test")

    def on_validation_epoch_end(self) -> None:
        self._finish_feed("val")

    def on_test_epoch_start(self) -> None:
        self.records = SampleRecords(self.save_samples)

    def on_test_epoch_end(self) -> None:
        self._finish_feed("test")
        if self.records is not None:
            self._write_records(self.records)

    def predict_step(self, batch: Batch, batch_idx: int) -> Prediction:
        return self.infer(batch)

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameter_groups())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer, **self._run_length())
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def _run_length(self) -> dict[str, int]:
        """A per-epoch schedule over the whole run (`CosineAnnealingLR`) whose config leaves
        `T_max` out gets the run's `trainer.max_epochs`: a model config never reads run keys,
        and `trainer.max_epochs=N` on the command line also stretches the schedule."""
        parameter = inspect.signature(self.scheduler_factory).parameters.get("T_max")
        if parameter is None or parameter.default is not inspect.Parameter.empty:
            return {}
        epochs = self.trainer.max_epochs
        if epochs is None or epochs < 1:
            raise ValueError(
                f"the scheduler spans the run (T_max unset) but trainer.max_epochs={epochs}; "
                "set trainer.max_epochs or model.scheduler.T_max."
            )
        return {"T_max": epochs}

    # --- shared evaluation ----------------------------------------------------------------
    def check_batch(self, batch: Batch, keys: Iterable[str] | None = None) -> None:
        missing = [key for key in (keys or self.required_keys) if key not in batch]
        if missing:
            needs = "; ".join(f"'{k}' ({KEY_MEANINGS.get(k, 'see DESIGN.md')})" for k in missing)
            raise KeyError(
                f"{type(self).__name__} needs batch key(s) {needs}, but the batch has only "
                f"{sorted(k for k in batch if k != 'meta')}. Choose a data config that "
                "provides them."
            )

    def check_multiple(self, batch: Batch) -> None:
        """Training crops must have sides that are multiples of `input_multiple`."""
        h, w = batch["image"].shape[-2:]
        if h % self.input_multiple or w % self.input_multiple:
            raise ValueError(
                f"{type(self).__name__} needs training crops whose sides are multiples of "
                f"{self.input_multiple} (its input_multiple), got {h}x{w}. The datamodule rounds "
                "its crops to it when it serves the method (trainer.fit does; feeding batches "
                "yourself, call datamodule.configure_for(method))."
            )

    def _evaluate(self, batch: Batch, batch_idx: int, stage: str) -> None:
        self.check_batch(batch, ("alpha", "trimap"))
        scored = self.evaluation_outputs(batch, stage)
        self._score(scored, stage)
        if stage not in self.feeds:  # frame-by-frame stages log once, at the epoch's end
            self.log_dict(self._metrics(stage), batch_size=len(batch["image"]))
        if batch_idx == 0 and scored and self._panels_due(stage):
            pred, frame, _ = scored[0]
            self.log_panels(frame, pred, stage)

    def _metrics(self, stage: str) -> MattingMetrics:
        return self.test_metrics if stage == "test" else self.val_metrics

    def _score(self, scored: list[Scored], stage: str) -> None:
        metrics = self._metrics(stage)
        for pred, frame, clip in scored:
            alpha = pred["alpha"].detach().float().clamp(0, 1)
            metrics.update(alpha, frame["alpha"].float(), trimap=frame["trimap"].float())
            if stage == "test" and self.records is not None:
                self.records.add(frame, alpha, metrics)
            if stage == "test" and clip is not None:
                self.test_dtssd.update(alpha, frame["alpha"].float(), clip_ids=clip)

    def _finish_feed(self, stage: str) -> None:
        """End of a frame-by-frame epoch: score the delayed frame, log, reset (dtSSD only
        when clips were evaluated whole)."""
        feed = self.feeds.pop(stage, None)
        if feed is None:
            return
        self._score(feed.finish(), stage)
        metrics = self._metrics(stage)
        self.log_dict(metrics.compute())
        metrics.reset()
        if stage == "test" and feed.strict:
            self.log("test/dtssd", self.test_dtssd.compute())
            self.test_dtssd.reset()

    def _write_records(self, records: SampleRecords) -> None:
        folder = Path(self.trainer.default_root_dir)
        if self.trainer.world_size > 1:  # each rank saw its own share of the test set
            folder = folder / f"rank{self.trainer.global_rank}"
        records.write(folder)
        # what the method saw and what it is, for the report's `inputs` column and families
        declared = {"inputs": list(self.inputs), "segmentation": self.segmentation}
        (folder / "method.json").write_text(json.dumps(declared) + "\n")
        for logger in self.loggers:
            if isinstance(logger, WandbLogger):
                logger.experiment.log({"test/samples": records.wandb_table()})

    def _panels_due(self, stage: str) -> bool:
        if self.panel_every_n_epochs <= 0 or self.trainer.sanity_checking:
            return False
        return stage == "test" or self.current_epoch % self.panel_every_n_epochs == 0

    @torch.no_grad()
    def log_panels(self, batch: Batch, pred: Prediction, stage: str) -> None:
        """A titled panel (`panels.py`), one row per sample: input, plate or trimap (if the
        method sees one), GT alpha, predicted alpha, |error|, composite on a new background,
        then the method's `panel_maps`. Saved as PNG in the run directory and sent to W&B,
        captioned with the same titles, if W&B is used."""
        n = min(self.panel_samples, len(batch["image"]))
        columns = panels.panel_columns(batch, pred, self.inputs, self.panel_maps, n)
        image = panels.render(columns)
        folder = Path(self.trainer.default_root_dir) / "panels"
        folder.mkdir(parents=True, exist_ok=True)
        save_image(image, folder / f"{stage}_epoch{self.current_epoch:03d}.png")
        for logger in self.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(
                    key=f"{stage}/panels",
                    images=[image],
                    caption=[panels.caption(columns)],
                    step=self.global_step,
                )
