"""The user-facing layer: the Streamlit router and pages, figure builders, and the ``glimpse`` command."""
