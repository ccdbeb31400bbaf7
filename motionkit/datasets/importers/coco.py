"""COCO person keypoints: 2D annotations (via pycocotools) and 3D COCO-17 poses from ``t2m22`` joints.

COCO-17 keypoints (Lin et al., "Microsoft COCO", ECCV 2014): nose, left/right eye, left/right ear,
shoulders, elbows, wrists, hips, knees, ankles, in the ``coco17`` skeleton's order. Each annotation
stores ``keypoints`` as 17 x (x, y, v) with ``v`` = 0 not labelled, 1 labelled but not visible,
2 labelled and visible.
"""
from __future__ import annotations

import os

import numpy as np

from motionkit.motion.skeletons import get_skeleton

__all__ = ['load_coco_keypoints', 't2m22_to_coco17', 'COCO17_FACE_OFFSETS']

#: Offsets (metres) of the face keypoints from the ``t2m22`` head joint, in the head frame
#: (forward, up, lateral-to-the-left). The SMPL head joint sits at the top of the neck, about at
#: ear-canal height; the values are adult head anthropometrics rounded to the centimetre: nose tip
#: ~10 cm in front, eyes ~8 cm in front and ~3.2 cm apart from the midline (interpupillary distance
#: ~6.3 cm), ears at the sides of a ~15 cm wide head, all a few centimetres above the joint.
#: They are approximations for drawing and for COCO-style evaluation of motions that have no face.
COCO17_FACE_OFFSETS = {
    'nose': (0.10, 0.04, 0.0),
    'left_eye': (0.08, 0.08, 0.032),
    'right_eye': (0.08, 0.08, -0.032),
    'left_ear': (0.0, 0.06, 0.075),
    'right_ear': (0.0, 0.06, -0.075),
}


def load_coco_keypoints(json_path: str | os.PathLike, min_keypoints: int = 0,
                        include_crowd: bool = False) -> list[dict]:
    """Person keypoint annotations of a COCO json file.

    Args:
        json_path: e.g. ``person_keypoints_val2017.json``.
        min_keypoints: Keep annotations with at least this many labelled keypoints.
        include_crowd: Keep ``iscrowd`` annotations.

    Returns:
        One dict per annotation: ``id``, ``image_id``, ``file_name``, ``width``, ``height``,
        ``keypoints`` ``(17, 3)`` float32 (x, y, v), ``num_keypoints``, ``bbox`` (x, y, w, h),
        ``area``, ``iscrowd``; sorted by (image id, annotation id).

    Raises:
        ImportError: pycocotools is not installed.
        ValueError: naming the file, when the person category's keypoint names are not COCO-17 or an
            annotation does not hold 51 keypoint values.
    """
    try:
        from pycocotools.coco import COCO
    except ImportError as exc:  # pragma: no cover - pycocotools is in requirements
        raise ImportError('load_coco_keypoints needs pycocotools: pip install pycocotools') from exc
    import contextlib
    import io
    json_path = os.fspath(json_path)
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints timing lines
        coco = COCO(json_path)
    names = get_skeleton('coco17').joint_names
    cat_ids = coco.getCatIds(catNms=['person'])
    if not cat_ids:
        raise ValueError(f'{json_path}: no "person" category')
    cat = coco.loadCats(cat_ids[0])[0]
    if tuple(cat.get('keypoints', ())) != names:
        raise ValueError(f'{json_path}: person keypoints {cat.get("keypoints")} are not the COCO-17 '
                         f'names {list(names)}')
    out = []
    for ann_id in sorted(coco.getAnnIds(catIds=cat_ids, iscrowd=None)):
        ann = coco.loadAnns(ann_id)[0]
        if ann.get('iscrowd', 0) and not include_crowd:
            continue
        kp = np.asarray(ann.get('keypoints', []), dtype=np.float32)
        if kp.size != 51:
            raise ValueError(f'{json_path}: annotation {ann_id} has {kp.size} keypoint values, expected 51')
        kp = kp.reshape(17, 3)
        n = int((kp[:, 2] > 0).sum())
        if n < min_keypoints:
            continue
        img = coco.loadImgs(ann['image_id'])[0]
        out.append(dict(id=int(ann_id), image_id=int(ann['image_id']), file_name=img.get('file_name'),
                        width=img.get('width'), height=img.get('height'), keypoints=kp,
                        num_keypoints=int(ann.get('num_keypoints', n)), bbox=list(ann.get('bbox', [])),
                        area=float(ann.get('area', 0.0)), iscrowd=int(ann.get('iscrowd', 0))))
    return sorted(out, key=lambda a: (a['image_id'], a['id']))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def t2m22_to_coco17(joints: np.ndarray) -> np.ndarray:
    """COCO-17 keypoints of ``t2m22`` joints.

    Body keypoints are the same-named joints (SMPL hips for COCO hips). The face keypoints are the
    head joint plus :data:`COCO17_FACE_OFFSETS` in a head frame: ``up`` along neck -> head, ``left``
    along right -> left shoulder made orthogonal to ``up``, ``forward = left x up`` (so a Y-up body
    with its left at +X faces +Z).

    Args:
        joints: ``(..., 22, 3)`` t2m22 joints (metres).

    Returns:
        ``(..., 17, 3)`` keypoints in the ``coco17`` order.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim < 2 or joints.shape[-2:] != (22, 3):
        raise ValueError(f't2m22_to_coco17: joints must have shape (..., 22, 3), got {joints.shape}')
    t2m = get_skeleton('t2m22')
    coco = get_skeleton('coco17')
    head = joints[..., t2m.index('head'), :]
    up = _unit(head - joints[..., t2m.index('neck'), :])
    left = joints[..., t2m.index('left_shoulder'), :] - joints[..., t2m.index('right_shoulder'), :]
    left = _unit(left - (left * up).sum(-1, keepdims=True) * up)
    forward = np.cross(left, up)
    out = np.empty(joints.shape[:-2] + (17, 3))
    for k, name in enumerate(coco.joint_names):
        if name in COCO17_FACE_OFFSETS:
            f, u, l = COCO17_FACE_OFFSETS[name]
            out[..., k, :] = head + f * forward + u * up + l * left
        else:
            out[..., k, :] = joints[..., t2m.index(name), :]
    return out
