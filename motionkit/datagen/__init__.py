"""Data-building pipelines (thin CLIs in ``tools/data/`` call them)."""
from .cigtime_triplets import build_cigtime_triplets, cigtime_triplets_config  # noqa: F401
from .action_classes import build_action_classes, synthmotion_adjusted_rand_index  # noqa: F401
from .expertaf import build_expertaf_pairs, write_synthmotion_egoexo_layout  # noqa: F401,E402
