"""One training step of the paper's loop, run eagerly or, on a GPU, replayed as a captured CUDA graph.

A step gathers the batch (indices from the run's fixed batch order), predicts ab under autocast, and takes
the loss, backward and Adam. At the paper's batch of four a GPU step is a few hundred tiny kernels, bound by
Python and launches, so :class:`GraphedSteps` records it once as a CUDA graph (after `WARMUP` eager steps on a
side stream, which cuDNN's algorithm search and Adam's lazily created state need) and replays it: the batch
index and step counter live on the GPU, so a replay is one launch and reads nothing back. The kernels are the
eager step's, so the arithmetic is the same. Each step writes its loss into ``losses[step]`` on the device.
"""

from __future__ import annotations

import torch

from .device import autocast

WARMUP = 3  # eager steps before the capture (the pattern of PyTorch's CUDA-graph documentation)


def gather(lightness: torch.Tensor, ab: torch.Tensor, idx: torch.Tensor, memory_format) -> tuple[torch.Tensor, ...]:
    """The photos `idx` of one batch in the model's layout; the targets too, so the loss gradient
    enters the network without a reorder."""
    return tuple(t.index_select(0, idx).contiguous(memory_format=memory_format) for t in (lightness, ab))


def eager_step(model, optim, loss_fn, x, y, losses: torch.Tensor, step: int, precision: str) -> None:
    """One ordinary step on the batch (x, y); its loss goes to ``losses[step]``."""
    with autocast(x.device, precision):
        pred = model(x)
    loss = loss_fn(pred.float(), y)
    optim.zero_grad(set_to_none=True)
    loss.backward()
    optim.step()
    losses[step] = loss.detach()


class GraphedSteps:
    """The step of one run captured as a CUDA graph; ``run(step)`` does step `step` either way."""

    def __init__(self, model, optim, loss_fn, lightness, ab, order, losses, precision, memory_format):
        self.model, self.optim, self.loss_fn = model, optim, loss_fn
        self.lightness, self.ab, self.order, self.losses = lightness, ab, order, losses
        self.precision, self.memory_format = precision, memory_format
        self.graph: torch.cuda.CUDAGraph | None = None
        self.first: int | None = None  # the step this process started at (warm-up counts from it)
        self.counter = torch.zeros(1, dtype=torch.long, device=lightness.device)
        self.side = torch.cuda.Stream(device=lightness.device)

    def batch(self, step) -> tuple[torch.Tensor, torch.Tensor]:
        """Photos of batch `step` (an int, or the one-element counter tensor inside the graph)."""
        idx = self.order[step] if isinstance(step, int) else self.order.index_select(0, step).view(-1)
        return gather(self.lightness, self.ab, idx, self.memory_format)

    def _captured_step(self) -> None:
        x, y = self.batch(self.counter)
        # autocast's weight cache must be off while capturing (the graph owns its casts)
        with autocast(self.counter.device, self.precision, cache_enabled=False):
            pred = self.model(x)
        loss = self.loss_fn(pred.float(), y)
        loss.backward()
        self.optim.step()
        self.losses.index_copy_(0, self.counter, loss.detach().view(1))
        self.counter += 1

    def run(self, step: int) -> None:
        if self.first is None:
            self.first = step
        if self.graph is None and step < self.first + WARMUP:
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                eager_step(self.model, self.optim, self.loss_fn, *self.batch(step), self.losses, step, self.precision)
            torch.cuda.current_stream().wait_stream(self.side)
            return
        if self.graph is None:
            self.counter.fill_(step)
            self.optim.zero_grad(set_to_none=True)  # the captured backward then writes fresh gradients each replay
            torch.cuda.synchronize()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self._captured_step()
        self.graph.replay()  # (capturing records the step without running it)
