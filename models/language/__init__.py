"""Spiking language models: WE- and WD-Spikingformer with winner-take-all attention, and their
softmax (ANN) and Spikformer-SSA baselines."""
