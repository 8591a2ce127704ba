"""Cached wrappers around analysis functions, one module per dashboard area.

Models are cached with ``st.cache_resource`` (one shared instance per checkpoint) and results
with ``st.cache_data`` keyed by plain arguments (names, ints, bytes), never by tensors.
"""
