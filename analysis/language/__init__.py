"""Analyses of the language models: attention maps with winners, spike rates, energy, text
predictions and validation metrics."""
