"""Plotly figure builders, one module per dashboard area. They take arrays and return figures."""
