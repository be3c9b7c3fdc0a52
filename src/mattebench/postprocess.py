"""Video post-processing of predicted mattes.

One-frame delay (OFD, MODNet arXiv 2011.11961 v2; specs/modnet.md §2.4): a pixel of frame t is
"flickering" when its neighbours agree with each other but not with it,
`|a(t-1) - a(t+1)| <= xi` and `|a(t) - a(t-1)| > xi` and `|a(t) - a(t+1)| > xi` (xi = 0.1);
it is replaced by the neighbours' mean. Frame t can only be shown once t+1 is predicted: one
frame of latency. The first and last frames of a clip pass unchanged.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor


def one_frame_delay_fix(
    prev: Tensor, current: Tensor, following: Tensor, xi: float = 0.1
) -> Tensor:
    """Frame t with its flickering pixels replaced by the mean of frames t-1 and t+1."""
    flicker = (
        ((prev - following).abs() <= xi)
        & ((current - prev).abs() > xi)
        & ((current - following).abs() > xi)
    )
    return current.where(~flicker, (prev + following) / 2)


class OneFrameDelay:
    """Streaming OFD over one clip: `push` a frame's alpha (with any payload), get back the
    frames ready to show, delayed by one and fixed; `flush` at the end of the clip."""

    def __init__(self, xi: float = 0.1) -> None:
        self.xi = xi
        self.window: list[tuple[Tensor, Any]] = []

    def push(self, alpha: Tensor, payload: Any = None) -> list[tuple[Tensor, Any]]:
        self.window.append((alpha, payload))
        if len(self.window) == 2:  # the clip's first frame has no predecessor: unchanged
            return [self.window[0]]
        if len(self.window) < 3:
            return []
        (prev, _), (current, current_payload), following = self.window
        fixed = (one_frame_delay_fix(prev, current, following[0], self.xi), current_payload)
        self.window = [fixed, following]  # the shown frame is t-1 for the next fix
        return [fixed]

    def flush(self) -> list[tuple[Tensor, Any]]:
        """The clip's last frame (or its only one), unchanged."""
        last = self.window[-1:] if len(self.window) != 1 else self.window
        self.window = []
        return last
