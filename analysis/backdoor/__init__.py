"""Backdoor attacks on CLIP, the CBPT-style defence and its baselines, and their metrics.

Triggers act on pixels (float ``[N, 3, H, W]`` in [0, 1]) before CLIP's normalisation. The
defence is our reconstruction of class-wise backdoor prompt tuning (CBPT): the source paper's
losses were not available, so it is labelled "CBPT-style" wherever it is shown.
"""
