"""Skeleton rendering (frames, side-by-side panels, GIF/MP4) and the MotionVisualizer."""
from .motion_visualizer import (MotionVisualizer, features_to_joints, sample_caption,
                                sample_to_joints)
from .skeleton_renderer import (Skeleton2DRenderer, SkeletonRenderer, compute_view_extent,
                                frame_grid, iter_side_by_side, render_motion, render_motion_2d,
                                render_side_by_side, save_image, save_video)

__all__ = [
    'SkeletonRenderer', 'Skeleton2DRenderer', 'render_motion', 'render_motion_2d',
    'render_side_by_side', 'iter_side_by_side', 'frame_grid', 'compute_view_extent', 'save_video', 'save_image',
    'MotionVisualizer', 'sample_to_joints', 'features_to_joints', 'sample_caption'
]
from .frame_injection import (INJECTION_FORMS, injection_images, png_base64, png_data_url,
                              render_sampled_frames, sample_frame_indices, tile_frames,
                              trajectory_image)

__all__ += ['INJECTION_FORMS', 'injection_images', 'png_base64', 'png_data_url', 'render_sampled_frames',
            'sample_frame_indices', 'tile_frames', 'trajectory_image']
