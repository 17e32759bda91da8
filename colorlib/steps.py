"""One training step of the paper's loop, run eagerly or, on a GPU, replayed as a captured CUDA graph.

A step is: gather the batch's photos (indices from the run's fixed batch order), predict ab under
autocast, the loss on normalised ab, backward, Adam. At the paper's batch of four photos a GPU step
is a few hundred tiny kernels, so an eager step is bound by Python and kernel launches, not by the
GPU. :class:`GraphedSteps` records the whole step once as a CUDA graph (after a few eager warm-up
steps on a side stream, which cuDNN's algorithm search and Adam's lazily created state need) and
then replays it: the batch index and the step counter live on the GPU, so a replay is one launch
and reads back nothing. The kernels are the eager step's, so the arithmetic is the same; the first
`WARMUP` steps of a run (or of a resumed run) are ordinary eager steps.

Both kinds of step write their loss into ``losses[step]`` on the device; the loop reads them back
every few batches, not every batch.
"""

from __future__ import annotations

import torch

from .device import autocast

WARMUP = 3  # eager steps before the capture (the pattern of PyTorch's CUDA-graph documentation)


def gather(lightness: torch.Tensor, ab: torch.Tensor, idx: torch.Tensor, memory_format) -> tuple[torch.Tensor, ...]:
    """The photos `idx` of one batch in the model's layout; the targets too, so the loss gradient
    enters the network without a reorder."""
    x = lightness.index_select(0, idx).contiguous(memory_format=memory_format)
    y = ab.index_select(0, idx).contiguous(memory_format=memory_format)
    return x, y


def eager_step(model, optim, loss_fn, batch, losses: torch.Tensor, step: int, precision: str) -> None:
    """One ordinary step on `batch(step) -> (x, y)`; its loss goes to ``losses[step]``."""
    x, y = batch(step)
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
        if self.graph is not None:
            self.graph.replay()
            return
        if step < self.first + WARMUP:
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                eager_step(self.model, self.optim, self.loss_fn, self.batch, self.losses, step, self.precision)
            torch.cuda.current_stream().wait_stream(self.side)
            return
        self.counter.fill_(step)
        self.optim.zero_grad(set_to_none=True)  # the captured backward then writes fresh gradients each replay
        torch.cuda.synchronize()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._captured_step()
        self.graph.replay()  # capturing records the step without running it
