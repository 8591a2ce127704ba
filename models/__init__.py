"""Network definitions, the checkpoint registry, training entry points and shipped checkpoints."""
