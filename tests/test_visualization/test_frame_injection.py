import base64
import io

import numpy as np
import pytest

from motionkit.visualization.frame_injection import (injection_images, png_base64, sample_frame_indices,
                                                     tile_frames)


def test_sample_every_eighth_frame():
    assert sample_frame_indices(20).tolist() == [0, 8, 16]
    assert sample_frame_indices(1).tolist() == [0]
    assert sample_frame_indices(17, 8).tolist() == [0, 8, 16]
    with pytest.raises(ValueError, match='step'):
        sample_frame_indices(10, 0)


def test_tile_frames_by_hand():
    frames = np.stack([np.full((2, 3, 3), 10 * (k + 1), np.uint8) for k in range(7)])
    g = tile_frames(frames, cols=5, border=0)
    assert g.shape == (4, 15, 3)
    assert g[0, 0, 0] == 10 and g[0, 12, 0] == 50 and g[2, 0, 0] == 60 and g[2, 3, 0] == 70
    assert (g[2:, 6:] == 255).all()  # unused cells of the last row stay white


def test_injection_forms_and_bad_input():
    from motionkit.synthmotion.program import ClassDistribution, sample_motion
    j = sample_motion(0, 0, ClassDistribution()).motion.joints  # (49, 22, 3)
    assert len(injection_images(j, 'frames', size=48)) == 7
    (full,) = injection_images(j, 'full_image', size=48)
    assert full.shape == (96, 240, 3)
    (traj,) = injection_images(j, 'trajectory', size=48)
    assert traj.shape == (48, 48, 3) and traj.dtype == np.uint8 and traj.min() < 255
    with pytest.raises(ValueError, match='injection form'):
        injection_images(j, 'video')
    bad = j.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        injection_images(bad, 'frames')
    with pytest.raises(ValueError, match=r'\(T, J, 3\)'):
        injection_images(j[..., :2], 'frames')


def test_png_base64_round_trip():
    from PIL import Image
    img = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_base64(img)))))
    assert np.array_equal(back, img)
