"""The Fashion-MNIST classifier: shapes, spike inference, training entry point and shipped weights."""

import numpy as np
import pytest
import torch

from data.fashion_mnist import load_sample
from models.registry import read_card
from models.vision.classifier import NEURON_KINDS, ClassifierConfig, SpikingConvNet
from models.vision.train import TrainConfig, accuracy, to_tensor, train
from models.vision.zoo import load_classifier, shipped_cards
from tests.conftest import shared_path


@pytest.mark.parametrize("kind", NEURON_KINDS)
def test_every_neuron_type_builds_and_backpropagates(kind):
    torch.manual_seed(0)
    model = SpikingConvNet(ClassifierConfig(neuron=kind))
    logits = model(torch.rand(3, 1, 28, 28))
    assert logits.shape == (3, 10)
    logits.logsumexp(1).sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.conv1.weight.grad.abs().sum() > 0, (
        "gradients reach the first layer through every neuron"
    )


def test_default_steps_follow_neuron_family():
    assert ClassifierConfig(neuron="lif").steps == 4
    assert ClassifierConfig(neuron="nasn").steps == 1
    with pytest.raises(ValueError, match="unknown neuron"):
        ClassifierConfig(neuron="relu")


@pytest.mark.parametrize("kind", ["ilif", "nilif"])
def test_spike_inference_equals_integer_inference(kind):
    torch.manual_seed(1)
    model = SpikingConvNet(ClassifierConfig(neuron=kind)).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(x, spike_inference=True), model(x), atol=1e-4, rtol=1e-4)


def test_wrong_input_shape_is_rejected():
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        SpikingConvNet(ClassifierConfig()).eval()(torch.rand(2, 3, 32, 32))


def test_training_entry_point_learns_on_real_images(tmp_path):
    root = shared_path("fashion-mnist")
    config = TrainConfig(
        model=ClassifierConfig(neuron="nasn"),
        data_dir=str(root),
        epochs=1,
        limit=4_000,
        eval_limit=500,
        batch_size=50,
        out_dir=str(tmp_path),
        command="glimpse train vision --neuron nasn --epochs 1 --limit 4000 --batch-size 50",
    )
    metrics = train(config)
    assert metrics["test_accuracy"] > 0.5, "one short epoch should already beat chance (10%) by far"
    card = read_card(tmp_path / "fmnist-nasn.json")
    assert card["command"].startswith("glimpse train vision")
    assert card["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    assert (tmp_path / "fmnist-nasn.safetensors").exists()


def test_shipped_checkpoints_classify_the_shipped_sample():
    cards = shipped_cards()
    if not cards:
        pytest.skip("no Fashion-MNIST checkpoints are installed")
    images, labels, _ = load_sample()
    x, y = to_tensor(images), torch.from_numpy(labels)
    for kind, card in cards.items():
        model, _ = load_classifier(kind)
        measured = accuracy(model, x, y)
        # the sample is 200 test images, so its accuracy lies near the card's full test accuracy
        assert measured > card["metrics"]["test_accuracy"] - 0.08, kind
        assert card["metrics"]["test_accuracy"] > 0.85, kind
        assert np.isfinite(measured)


@pytest.mark.parametrize("kind", ["ilif", "nilif"])
def test_spike_inference_exact_for_trained_network(kind):
    # A trained network fires several integer spikes where max-pooling picks its maximum,
    # which an untrained one rarely does: unrolling must leave the pooling to the summed input.
    if kind not in shipped_cards():
        pytest.skip(f"no shipped {kind} checkpoint (glimpse train vision --neuron {kind})")
    model = load_classifier(kind)[0].eval().float()
    images = to_tensor(load_sample()[0][:32])
    with torch.no_grad():
        integer = model(images)
        spikes = model(images, spike_inference=True)
    torch.testing.assert_close(spikes, integer, rtol=1e-5, atol=1e-5)
