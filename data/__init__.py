"""Loaders, downloads with pinned checksums, preprocessing and the samples that ship with Glimpse."""
