"""ExpertAF's training pairs (Ashutosh et al., CVPR 2025, sec. 3.2): an Ego-Exo4D-style layout
reader, commentary -> body-region labels (LLM or keyword route), pairing, PA-MPJPE temporal
alignment, and the SynthMotion adapter that puts the embedded learner/expert pairs through the
same builder."""
from .egoexo_layout import (COMMENTARY_KINDS, PROFICIENCY_LEVELS, Commentary, LayoutError, Take,
                            normalize_proficiency, read_egoexo_takes, split_files)
from .commentary_regions import (CORRECT, NEEDS_IMPROVEMENT, NOT_MENTIONED, REGION_LABELS,
                                 CommentaryRegionLabeler, RegionReplyError, keyword_regions,
                                 load_region_prompt, parse_region_reply, region_messages)
from .builder import (DEFAULT_TOP_K, build_expertaf_pairs, check_take_media, expert_window_starts,
                      expertaf_pairs_config, learner_window_start)
from .synthmotion_adapter import write_synthmotion_egoexo_layout

__all__ = [
    'COMMENTARY_KINDS', 'PROFICIENCY_LEVELS', 'Commentary', 'LayoutError', 'Take', 'normalize_proficiency',
    'read_egoexo_takes', 'split_files', 'CORRECT', 'NEEDS_IMPROVEMENT', 'NOT_MENTIONED', 'REGION_LABELS',
    'CommentaryRegionLabeler', 'RegionReplyError', 'keyword_regions', 'load_region_prompt',
    'parse_region_reply', 'region_messages', 'DEFAULT_TOP_K', 'build_expertaf_pairs', 'check_take_media',
    'expert_window_starts', 'expertaf_pairs_config', 'learner_window_start',
    'write_synthmotion_egoexo_layout'
]
