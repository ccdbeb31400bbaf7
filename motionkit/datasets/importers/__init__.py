"""Importers of raw motion data into motionkit's conventions (Y up, metres, 20 fps, ``t2m22``).

* :mod:`.bvh`: BVH reader and forward kinematics (any skeleton).
* :mod:`.retarget`: joint-name maps of known rigs onto ``t2m22`` and the canonical frame.
* :mod:`.humanml3d_writer`: HumanML3D-format dataset folders (atomic, resumable) with
  :mod:`.pos_tagger` for the ``word/POS`` tokens.
* :mod:`.cmu_bandai`: the CMU+Bandai real text-motion dataset builder.
* :mod:`.ntu`: NTU RGB+D ``.skeleton`` files. :mod:`.coco`: COCO person keypoints.
* :mod:`.bandai_content`: Bandai Namco clips with their content class (the linear-probe set).
"""
from .bvh import (BVHMotion, bvh_forward_kinematics, bvh_local_rotations, euler_to_quaternion, parse_bvh,
                  read_bvh, resample_bvh)
from .retarget import (CMU_UNIT_SCALE, RIG_MAPS, RetargetResult, RigMap, canonicalize_t2m22, check_rig_map,
                       detect_rig, detect_unit_scale, detect_up_axis, enforce_bone_lengths, map_points_to_t2m22,
                       put_feet_on_floor, register_rig_map, retarget_bvh, rotation_to_y_up)
from .pos_tagger import lemmatize, tag_caption
from .humanml3d_writer import HumanML3DWriter, block_std, caption_line, split_of
from .cmu_bandai import (FrameRateMismatchWarning, build_cmu_bandai, cmu_bandai_sources, resolve_fps_overrides,
                         split_windows)
from .ntu import parse_ntu_name, read_ntu_skeleton
from .coco import COCO17_FACE_OFFSETS, load_coco_keypoints, t2m22_to_coco17
from .ntu import (NTU25_TO_T2M22, NTU_BENCHMARKS, NTU_FPS, load_ntu_record, ntu25_to_t2m22, ntu_split,
                  ntu_to_t2m22, select_ntu_body)
from .bandai_content import load_bandai_content_clips

__all__ = [
    'BVHMotion', 'read_bvh', 'parse_bvh', 'bvh_forward_kinematics', 'bvh_local_rotations', 'resample_bvh',
    'euler_to_quaternion', 'RigMap', 'RIG_MAPS', 'CMU_UNIT_SCALE', 'register_rig_map', 'check_rig_map',
    'detect_rig', 'map_points_to_t2m22', 'detect_up_axis', 'rotation_to_y_up', 'enforce_bone_lengths',
    'put_feet_on_floor', 'canonicalize_t2m22', 'detect_unit_scale', 'retarget_bvh', 'RetargetResult',
    'tag_caption', 'lemmatize', 'HumanML3DWriter', 'caption_line', 'split_of', 'block_std',
    'build_cmu_bandai', 'cmu_bandai_sources', 'split_windows', 'resolve_fps_overrides',
    'FrameRateMismatchWarning', 'read_ntu_skeleton', 'parse_ntu_name', 'load_coco_keypoints',
    't2m22_to_coco17', 'COCO17_FACE_OFFSETS',
]
__all__ += ['NTU25_TO_T2M22', 'NTU_BENCHMARKS', 'NTU_FPS', 'load_ntu_record', 'ntu25_to_t2m22', 'ntu_split',
            'ntu_to_t2m22', 'select_ntu_body', 'load_bandai_content_clips']
