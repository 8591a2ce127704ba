"""The recording analysis: each array checked against the model run directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis.speech import analyse_waveform
from data.audio import prepare_waveform
from data.spectrogram import FrontEndConfig, LogMel
from data.speech_samples import list_samples
from models.speech.config import SpikCommanderConfig
from models.speech.spikcommander import SpikCommander


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SpikCommander(SpikCommanderConfig(dim=32, heads=4)).eval()


@pytest.fixture(scope="module")
def sample():
    return prepare_waveform(list_samples()[7].path)


def test_evidence_matches_direct_run(model, sample):
    result = analyse_waveform(model, FrontEndConfig(), sample)
    x = LogMel()(torch.from_numpy(sample.waveform)[None]).transpose(0, 1)
    with torch.no_grad():
        logits = model(x)[:, 0]
    probabilities = torch.softmax(logits, -1).numpy()
    np.testing.assert_allclose(result.step_probabilities, probabilities, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.evidence[-1], probabilities.sum(0), rtol=1e-5)
    assert result.prediction == int(probabilities.sum(0).argmax())
    assert result.confidence == pytest.approx(probabilities.sum(0).max() / 100.0, rel=1e-5)


def test_shapes_and_gates(model, sample):
    result = analyse_waveform(model, FrontEndConfig(), sample)
    assert result.mel_db.shape == (100, 140)
    assert result.input_spikes.shape == (100, 32)
    assert set(np.unique(result.input_spikes)) <= {0.0, 1.0}
    assert result.local_gate.shape == (100, 4, 8)
    assert result.global_gate.shape == (4, 8)
    np.testing.assert_array_equal(result.global_gated, result.global_gate[None] * result.v_spikes)
    assert result.v_branch.shape == (100, 4, 8)
    assert result.layers[0].name == "embed.lif"


def test_energy_from_recorded_spikes(model, sample):
    result = analyse_waveform(model, FrontEndConfig(), sample)
    ops = {op.name: op for op in result.ops}
    spikes = {layer.name: layer.spikes for layer in result.layers}
    dim = model.config.dim
    # A linear layer fed by one LIF layer does one accumulate per spike per output.
    assert ops["embed.mix.0"].acs == spikes["embed.lif"] * dim
    assert ops["blocks.0.mlp.outer.0"].acs == spikes["blocks.0.mlp.reduce.2"] * dim
    # The spectrogram is real-valued: the first convolution does dense MACs.
    assert ops["embed.pointwise"].macs == 100 * 140 * dim
    by_hand = sum(op.acs * 0.9 + op.macs * 4.6 for op in result.ops)
    assert result.energy_pj == pytest.approx(by_hand)
    assert result.ann_energy_pj == pytest.approx(sum(op.dense_macs for op in result.ops) * 4.6)
    assert result.ann_energy_pj > result.energy_pj


def test_switched_off_views_are_none(sample):
    torch.manual_seed(0)
    model = SpikCommander(
        SpikCommanderConfig(dim=32, heads=4, global_view=False, v_branch=False)
    ).eval()
    result = analyse_waveform(model, FrontEndConfig(), sample)
    assert result.global_gate is None
    assert result.global_gated is None
    assert result.v_branch is None
    assert result.local_gate is not None


def test_front_end_mismatch_message(model, sample):
    with pytest.raises(ValueError, match="front end makes 64 bands"):
        analyse_waveform(model, FrontEndConfig(n_mels=64), sample)
