"""A small CLIP built from open_clip's model classes, its word-level tokenizer, and its training.

The model is ``open_clip.model.CLIP`` with a small ``CLIPVisionCfg``/``CLIPTextCfg`` so that six
copies (a clean model and one poisoned model per attack) fit in a few megabytes. The same
``ClipBundle`` interface wraps a real open_clip checkpoint loaded from a local file.
"""
