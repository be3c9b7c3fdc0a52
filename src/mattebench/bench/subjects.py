"""What the benchmark runs: a method built from its model config, called as evaluation calls it.

A subject is `registry.build_method(name)` (the same configs as training, random weights seeded
so every setting runs the same ones) and one call is `method.infer(batch, previous)`, the very
call validation, test and `infer.py` make: the method's declared inputs, its inference policy
(MODNet's resize rule, BGMv2's padding and per-size refine settings, the classical solvers'
working size), its own input normalisation and trimap handling. Nothing method-specific lives
here. Speed does not depend on the weights, except BGMv2's refined patch count (`sampling`
refines the top k, fewer where the predicted error is exactly 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from mattebench.methods.base import MattingMethod


@dataclass
class Subject:
    """A method under test: its config name, the method and the sizes it targets."""

    name: str
    method: MattingMethod

    @property
    def sizes(self) -> tuple[str, ...]:
        return self.method.target_sizes

    @property
    def params_m(self) -> float:
        return sum(p.numel() for p in self.method.parameters()) / 1e6

    def inputs(self, batch: int, height: int, width: int) -> dict[str, Tensor]:
        """Random inputs for every declared input, seeded, as export.py's checks draw them; a
        temporal method's previous alpha included (`infer` gets it as `previous`). Trimaps
        hold the three levels pixel by pixel: unknown pixels everywhere, the worst case for
        band-limited methods."""
        from mattebench.export import example_inputs

        keys = self.method.inputs
        return dict(zip(keys, example_inputs(keys, batch, height, width), strict=True))

    def call(self, inputs: dict[str, Tensor]) -> Callable[[], Any]:
        """One prediction of `inputs`, as `infer` makes it."""
        previous = inputs.get("prev_alpha")
        batch = {key: value for key, value in inputs.items() if key != "prev_alpha"}
        return lambda: self.method.infer(batch, previous)


def build(name: str) -> Subject:
    """The subject of model config `name` (any `conf/model/*.yaml`), weights seeded."""
    from mattebench.registry import build_method

    torch.manual_seed(0)
    return Subject(name, build_method(name))
