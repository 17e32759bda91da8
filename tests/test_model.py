"""The network has the paper's shape: ResNet-18's first six children, 1 channel in, tanh ab out."""

import pytest
import torch
from torch import nn

from colorlib.errors import UserError
from colorlib.model import ColorNet, ModelConfig, build_encoder


def test_encoder_is_first_six_children_with_one_channel_input():
    enc = build_encoder()
    kinds = [type(m).__name__ for m in enc]
    # ResNet-18's conv1, bn1, relu, maxpool, layer1, layer2, with relu and maxpool swapped (same function)
    assert kinds == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU", "Sequential", "Sequential"]
    assert enc[0].in_channels == 1 and enc[0].out_channels == 64
    assert enc[0].kernel_size == (7, 7) and enc[0].stride == (2, 2)


@pytest.mark.parametrize("size", [32, 64, 256])
def test_forward_shapes_and_range(size):
    net = ColorNet(ModelConfig(image_size=size)).eval()
    with torch.no_grad():
        feats = net.encoder(torch.rand(2, 1, size, size))
        out = net(torch.rand(2, 1, size, size))
    assert feats.shape == (2, 128, size // 8, size // 8)
    assert out.shape == (2, 2, size, size)
    assert out.abs().max() <= 1.0


def test_decoder_uses_nearest_upsampling_and_ends_in_tanh():
    net = ColorNet(ModelConfig(image_size=32))
    ups = [m for m in net.decoder if isinstance(m, nn.Upsample)]
    assert len(ups) == 3 and all(u.mode == "nearest" for u in ups)
    # tanh is the last computation: the upsampling after it only copies values
    assert isinstance(net.decoder[-2], nn.Tanh) and net.decoder[-1] is ups[-1]


def _plain_order(net: ColorNet) -> nn.Sequential:
    """The same modules in torchvision's and the paper's order: relu before maxpool, tanh last."""
    enc, dec = list(net.encoder), list(net.decoder)
    enc[2], enc[3] = enc[3], enc[2]
    dec[-2], dec[-1] = dec[-1], dec[-2]
    assert isinstance(enc[2], nn.ReLU) and isinstance(dec[-1], nn.Tanh)
    return nn.Sequential(*enc, *dec)


@pytest.mark.parametrize("train_mode", [True, False])
def test_reordered_network_computes_the_plain_order_exactly(train_mode):
    # In training mode batch norm normalises with the batch's own statistics, so the running
    # statistics that the first pass updates do not change the second pass's output.
    torch.manual_seed(0)
    net = ColorNet(ModelConfig(image_size=64)).train(train_mode)
    params = list(net.parameters())
    x = torch.randn(3, 1, 64, 64)
    ours = net(x)
    grads_ours = torch.autograd.grad(ours.square().sum(), params)
    theirs = _plain_order(net)(x)
    grads_theirs = torch.autograd.grad(theirs.square().sum(), params)
    assert torch.equal(ours, theirs)
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_bad_image_size_is_a_user_error():
    with pytest.raises(UserError):
        ColorNet(ModelConfig(image_size=30))


def test_encoder_from_local_imagenet_state_dict_sums_rgb_filters(tmp_path):
    from torchvision.models import resnet18

    ref = resnet18(weights=None)
    path = tmp_path / "r18.pt"
    torch.save(ref.state_dict(), path)
    enc = build_encoder(str(path))
    expected = ref.conv1.weight.data.sum(dim=1, keepdim=True)
    assert torch.allclose(enc[0].weight.data, expected)
    assert torch.equal(enc[4][0].conv1.weight, ref.layer1[0].conv1.weight)


def test_bad_encoder_weights_file_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable"):
        build_encoder(str(bad))
    with pytest.raises(UserError, match="not found"):
        build_encoder(str(tmp_path / "missing.pt"))
