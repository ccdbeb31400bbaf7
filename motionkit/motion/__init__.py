"""Pure, batched motion maths (numpy and torch): skeletons, rotations, kinematics and representations."""
from .skeletons import SKELETON_NAMES, Skeleton, get_skeleton
from .quaternion import (axis_angle_to_quaternion, matrix_to_quaternion, qbetween, qfix, qinv, qmul,
                         qnormalize, qrot, quaternion_to_axis_angle, quaternion_to_matrix,
                         quaternion_y_rotation)
from .rotation import cont6d_to_matrix, cont6d_to_quaternion, matrix_to_cont6d, quaternion_to_cont6d
from .kinematics import (facing_direction, forward_kinematics, gaussian_smooth, inverse_kinematics,
                         offsets_from_joints)
from .representation import MotionRepresentation
from .humanml3d import (HUMANML3D_TARGET_BONE_LENGTHS, ROOT_ANGULAR_VELOCITIES, HumanML3DFeatures, KITFeatures,
                        feature_encoding_from_metadata, humanml3d_feature_dim, humanml3d_target_offsets,
                        recover_joints_from_features, recover_joints_from_rotations, recover_root)
from .essential import EssentialFeatures
from .absolute import AbsoluteCoordinates
from .body_parts import (BODY_PARTS, FEEDBACK_REGIONS, body_part_feature_mask, body_part_joint_mask,
                         body_part_joints, body_part_names)
from .geometry import center_root_xz, mpjpe, normalize_facing, pa_mpjpe, procrustes_align, put_on_floor, resample
from .streams import (STREAM_NAMES, bone_stream, bones_to_joints, compute_streams, joint_stream, motion_stream,
                      motion_to_positions)
from .padding import lengths_to_mask, pad_motions
from .statistics import load_mean_std
from .mirror import mirror_feature_transform, mirror_features, mirror_joint_permutation, mirror_joints

__all__ = [
    'Skeleton', 'get_skeleton', 'SKELETON_NAMES',
    'qmul', 'qrot', 'qinv', 'qnormalize', 'qbetween', 'qfix', 'quaternion_to_matrix', 'matrix_to_quaternion',
    'axis_angle_to_quaternion', 'quaternion_to_axis_angle', 'quaternion_y_rotation',
    'matrix_to_cont6d', 'cont6d_to_matrix', 'quaternion_to_cont6d', 'cont6d_to_quaternion',
    'offsets_from_joints', 'facing_direction', 'gaussian_smooth', 'inverse_kinematics', 'forward_kinematics',
    'MotionRepresentation', 'HumanML3DFeatures', 'KITFeatures', 'recover_joints_from_features',
    'recover_joints_from_rotations', 'recover_root', 'humanml3d_feature_dim', 'humanml3d_target_offsets',
    'HUMANML3D_TARGET_BONE_LENGTHS', 'ROOT_ANGULAR_VELOCITIES', 'feature_encoding_from_metadata',
    'EssentialFeatures', 'AbsoluteCoordinates',
    'BODY_PARTS', 'FEEDBACK_REGIONS', 'body_part_joints', 'body_part_joint_mask', 'body_part_feature_mask',
    'body_part_names',
    'procrustes_align', 'mpjpe', 'pa_mpjpe', 'resample', 'normalize_facing', 'put_on_floor', 'center_root_xz',
    'STREAM_NAMES', 'joint_stream', 'bone_stream', 'motion_stream', 'bones_to_joints', 'motion_to_positions',
    'compute_streams',
    'load_mean_std', 'pad_motions', 'lengths_to_mask',
    'mirror_joints', 'mirror_features', 'mirror_joint_permutation', 'mirror_feature_transform',
]
from .window_alignment import best_window, sliding_pa_mpjpe, sliding_windows  # noqa: E402

__all__ += ['sliding_windows', 'sliding_pa_mpjpe', 'best_window']
