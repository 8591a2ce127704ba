"""SpikCommander for spoken commands: the model, its training entry point and the ablation."""
