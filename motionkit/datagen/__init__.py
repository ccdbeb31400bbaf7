"""Data-building pipelines (thin CLIs in ``tools/data/`` call them)."""
from .cigtime_triplets import build_cigtime_triplets, cigtime_triplets_config  # noqa: F401
