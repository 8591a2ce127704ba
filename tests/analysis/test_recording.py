"""The recorder captures every neuron layer without changing what the model computes."""

import pytest
import torch
from torch import nn

from analysis.recording import neuron_layers, record
from models.vision.classifier import ClassifierConfig, SpikingConvNet


@pytest.mark.parametrize("kind", ["lif", "plif", "nasn", "ilif"])
def test_recorder_keeps_outputs_and_fills_every_layer(kind):
    torch.manual_seed(0)
    model = SpikingConvNet(ClassifierConfig(neuron=kind)).eval()
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
    output, records = record(model, x)
    with torch.no_grad():
        after = model(x)

    assert torch.equal(output, before)
    assert torch.equal(after, before)
    assert list(records) == ["sn1", "sn2", "sn3", "sn4"]
    steps = model.config.steps
    assert records["sn1"].spk.shape == (steps, 2, 32, 14, 14)
    assert records["sn4"].mem.shape == (steps, 2, 128)
    for layer in neuron_layers(model).values():
        assert layer.record is False
        assert layer.records == {}
    first = records["sn1"]
    torch.testing.assert_close(first.scale * (first.binary.sum(1) + first.constant), first.spk)
    if kind in ("lif", "plif"):
        assert first.threshold == 1.0 and first.window is None
    else:
        alpha = float(model.sn1.alpha.detach())
        assert first.window == pytest.approx((alpha, alpha + 4))


def test_recorder_rejects_model_without_neurons():
    with pytest.raises(ValueError, match="no spiking neuron layers"):
        record(nn.Linear(3, 2), torch.zeros(1, 3))
