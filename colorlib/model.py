"""The paper's network: a truncated ResNet-18 encoder and a small upsampling decoder.

Encoder: ResNet-18 up to layer2 with a one-channel first convolution (1 x 256 x 256 L -> 128 x 32 x 32).
Decoder: 3 x 3 convolutions with batch norm and ReLU, three nearest-neighbour x2 upsamplings, two output
channels (a, b) squashed by tanh (paper, Fig. 4). The hobby projects the paper followed start from random
weights; ImageNet weights for the encoder are an option, never downloaded unless asked for.

Two reorderings compute exactly the same function with less memory traffic (benchmarks/README.md): the
stem's ReLU after its max-pool, and tanh before the last nearest-neighbour upsampling (see the code).
Neither module has parameters, so the state-dict keys are the plain order's and every checkpoint loads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet18

from .errors import UserError

log = logging.getLogger(__name__)

ENCODER_CHILDREN = 6  # conv1, bn1, relu, maxpool, layer1, layer2 (relu and maxpool run swapped)
ENCODER_CHANNELS = 128  # channels out of layer2


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; saved inside every checkpoint."""

    image_size: int = 256
    encoder_weights: str = "none"  # "none", "torchvision" (download) or a path to a state dict


def _conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def build_decoder() -> nn.Sequential:
    """128 x S/8 x S/8 features -> 2 x S x S ab map in [-1, 1]."""
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    return nn.Sequential(
        *_conv_block(ENCODER_CHANNELS, 128),
        up(),
        *_conv_block(128, 64),
        *_conv_block(64, 64),
        up(),
        *_conv_block(64, 32),
        nn.Conv2d(32, 2, 3, padding=1),
        nn.Tanh(),  # tanh(upsample(x)) == upsample(tanh(x)) for nearest upsampling, on 4x fewer values
        up(),
    )


def build_encoder(weights: str = "none") -> nn.Sequential:
    """The first six children of ResNet-18 with a one-channel first convolution."""
    net = resnet18(weights=None)
    if weights != "none":
        net.load_state_dict(_imagenet_state(weights))
    rgb_conv = net.conv1.weight.data
    net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    if weights != "none":
        # A grey pixel is R = G = B, so summing the RGB filters keeps the pretrained response.
        net.conv1.weight.data = rgb_conv.sum(dim=1, keepdim=True)
    conv1, bn1, relu, maxpool, *layers = list(net.children())[:ENCODER_CHILDREN]
    # relu(maxpool(x)) == maxpool(relu(x)) (max-pooling commutes with a non-decreasing map), on a quarter of the values
    return nn.Sequential(conv1, bn1, maxpool, relu, *layers)


def _imagenet_state(weights: str) -> dict:
    if weights == "torchvision":
        from torchvision.models import ResNet18_Weights

        log.info("downloading ImageNet weights for ResNet-18 (torchvision)")
        return ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
    path = Path(weights)
    state = read_torch_file(path, "encoder weights file", "PyTorch state dict")
    if not isinstance(state, dict) or "conv1.weight" not in state:
        raise UserError(f"{path}: not a ResNet-18 state dict (no conv1.weight)")
    return state


def read_torch_file(path: Path, what: str, kind: str, advice: str = "") -> object:
    """A PyTorch file read safely (weights_only: no pickled code runs); missing or unreadable: a one-line UserError."""
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(f"{path}: not a readable {kind} ({exc.__class__.__name__}){advice}") from None


class ColorNet(nn.Module):
    """L (N, 1, S, S) in [0, 1] -> ab (N, 2, S, S) in [-1, 1]; S must be a multiple of 8."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        if config.image_size % 8 or config.image_size < 8:
            raise UserError(f"image_size must be a positive multiple of 8, got {config.image_size}")
        self.config = config
        self.encoder = build_encoder(config.encoder_weights)
        self.decoder = build_decoder()

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(lightness))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
