"""Pure computations on models and arrays. Nothing here imports Streamlit."""
