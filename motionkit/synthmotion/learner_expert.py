"""ExpertAF-style learner/expert pairs: the same activity done by a learner with a typical,
parameterised error and by an expert, with expert commentary, a proficiency level, six body-region
labels and a 17-joint COCO pose.

Each pair holds three motions: ``novice`` (the learner's body, erroneous parameters), ``expert``
(another subject, correct parameters) and ``corrected`` (the learner's body and noise with the
expert's parameters: the target of pose correction). Errors are parameter offsets of the activity's
primitive; ``severity`` in [0.35, 1] interpolates between the expert value and the error's extreme.
"""
from __future__ import annotations

import numpy as np

from .body import BODY_REGIONS, idx, sample_body
from .generator import synthesize
from .program import rng_for

__all__ = [
    'ACTIVITIES', 'REGION_LABELS', 'SKILL_LEVELS', 'make_feedback_pair', 't2m22_to_coco17_approx', 'to_coco17'
]

REGION_LABELS = ('needs_improvement', 'correct', 'not_mentioned')
# Ego-Exo4D proficiency categories (Grauman et al., CVPR 2024)
SKILL_LEVELS = ('novice', 'early_expert', 'intermediate_expert', 'late_expert')


def _u(lo, hi):
    return ('uniform', lo, hi)


ACTIVITIES = {
    'basketball_jump_shot':
    dict(
        primitive='jump_shot',
        expert=dict(hand='right',
                    jump=_u(0.15, 0.25),
                    knee_bend=_u(58, 72),
                    elbow_out=_u(0, 3),
                    release=_u(156, 168),
                    follow_through=True),
        errors={
            'knees_too_straight':
            dict(
                param='knee_bend',
                value=_u(10, 20),
                regions=('left_leg', 'right_leg'),
                comments=
                ('Bend your knees more before you jump; your legs are almost straight, so the shot has no power.',
                 'You are shooting with straight legs. Sink into your knees first and push up through the shot.',
                 'Get lower before the jump: more knee bend gives you range.')),
            'elbow_out':
            dict(param='elbow_out',
                 value=_u(20, 32),
                 regions=('{hand}_arm', ),
                 comments=('Your shooting elbow flares out to the side; keep it under the ball.',
                           'Tuck your elbow in so it points at the basket.',
                           'The elbow drifts outward at the set point, which pushes the ball sideways.')),
            'low_release':
            dict(param='release',
                 value=_u(108, 122),
                 regions=('{hand}_arm', ),
                 comments=('Release the ball higher, with your arm fully extended up.',
                           'Your release point is too low; reach up toward the rim.',
                           'Extend your shooting arm all the way before letting go.')),
            'no_follow_through':
            dict(param='follow_through',
                 value=False,
                 regions=('{hand}_arm', ),
                 comments=('Hold your follow-through; your arm drops right after the release.',
                           'Keep the wrist up after the shot instead of pulling the arm back.',
                           'Finish the shot: leave your arm up until the ball reaches the rim.')),
        },
        praise={
            'torso': 'Your upper body stays upright and balanced.',
            'head': 'Good job keeping your eyes on the target.',
            'left_leg': 'Nice, balanced landing on both feet.',
            'right_leg': 'Nice, balanced landing on both feet.'
        }),
    'basketball_dribble':
    dict(primitive='dribble',
         expert=dict(hand='right',
                     count=_u(5, 8),
                     steps=4,
                     step_length=_u(0.35, 0.45),
                     stance=_u(28, 36),
                     bounce=_u(20, 28)),
         errors={
             'steps_too_big':
             dict(param='step_length',
                  value=_u(0.72, 0.85),
                  regions=('left_leg', 'right_leg'),
                  comments=('Your steps are too big while dribbling; take shorter steps to keep control.',
                            'Shorten your stride so the ball stays close to your body.',
                            'Long strides make you lose the rhythm of the dribble. Keep your steps small.')),
             'too_upright':
             dict(param='stance',
                  value=_u(3, 8),
                  regions=('left_leg', 'right_leg', 'torso'),
                  comments=('Stay low: bend your knees and hips more while you dribble.',
                            'You are standing too upright; get into an athletic stance.',
                            'Lower your center of gravity to protect the ball.')),
             'bounce_too_high':
             dict(
                 param='bounce',
                 value=_u(48, 58),
                 regions=('{hand}_arm', ),
                 comments=('Your dribble is too high; push the ball down firmly and keep it below the waist.',
                           'Keep the bounce lower, the ball comes up too far.',
                           'Dribble with shorter, quicker pushes of the arm.')),
         },
         praise={
             'head': 'Good, you keep your head up while dribbling.',
             'torso': 'Your trunk stays stable.'
         }),
    'squat':
    dict(primitive='squat',
         expert=dict(depth=_u(100, 120), count=_u(2, 3), width=_u(10, 14), arms_forward=True),
         errors={
             'arms_dropping':
             dict(param='arms_forward',
                  value=False,
                  regions=('left_arm', 'right_arm'),
                  comments=('Your arms drop during the squat; hold them out in front for balance.',
                            'Keep your arms up and forward as you go down.',
                            'Do not let your arms hang, reach forward to counterbalance.')),
             'too_shallow':
             dict(param='depth',
                  value=_u(40, 55),
                  regions=('left_leg', 'right_leg'),
                  comments=('Go deeper: your thighs should reach parallel to the floor.',
                            'The squat is too shallow, bend your knees further.',
                            'Sit lower into the squat.')),
         },
         praise={
             'torso': 'Your back stays straight.',
             'head': 'Good head position, looking forward.'
         }),
    'lunge':
    dict(primitive='lunge',
         expert=dict(leg='left', depth=_u(0.24, 0.30), step=_u(0.72, 0.85), count=1),
         errors={
             'too_shallow':
             dict(param='depth',
                  value=_u(0.05, 0.1),
                  regions=('left_leg', 'right_leg'),
                  comments=('Drop your back knee lower in the lunge.', 'Go deeper, your knees barely bend.',
                            'Sink down until the back knee nearly touches the floor.')),
             'short_step':
             dict(param='step',
                  value=_u(0.35, 0.45),
                  regions=('{leg}_leg', ),
                  comments=('Take a longer step forward into the lunge.',
                            'Your step is too short; reach further with the front leg.',
                            'Step out further so the front knee stays over the ankle.')),
         },
         praise={
             'torso': 'Your torso stays upright.',
             'left_arm': 'Relaxed arms, good.',
             'right_arm': 'Relaxed arms, good.'
         }),
    'soccer_kick':
    dict(primitive='kick',
         expert=dict(leg='right', height=_u(80, 95), count=1),
         errors={
             'low_kick':
             dict(param='height',
                  value=_u(25, 38),
                  regions=('{leg}_leg', ),
                  comments=('Swing your kicking leg through higher and follow through.',
                            'The kick stops too early; let the leg finish high.',
                            'Lift the kicking leg more, your follow-through is too short.')),
         },
         praise={
             'left_leg': 'Your standing leg is stable.',
             'torso': 'Good balance in the upper body.'
         }),
    'boxing_punch':
    dict(primitive='punch',
         expert=dict(hand='right', count=_u(2, 4), height=_u(88, 96)),
         errors={
             'low_punch':
             dict(param='height',
                  value=_u(52, 60),
                  regions=('{hand}_arm', ),
                  comments=('Punch at head height, your fist ends too low.',
                            'Extend the punch straight out at shoulder level.',
                            'Aim higher with your punches.')),
         },
         praise={
             'left_arm': 'Good guard with the other hand.',
             'torso': 'Nice rotation of the trunk.'
         }),
}


def _draw(spec, rng):
    if isinstance(spec, tuple) and spec and spec[0] == 'uniform':
        v = rng.uniform(spec[1], spec[2])
        return int(round(v)) if isinstance(spec[1], int) and isinstance(spec[2], int) else round(float(v), 2)
    return spec


def t2m22_to_coco17_approx(joints: np.ndarray) -> np.ndarray:
    """Approximate COCO-17 keypoints (3D) from t2m22 joints. ``(T, 22, 3) -> (T, 17, 3)``.

    Limb keypoints are the t2m22 joints; the face (nose, eyes, ears) is placed on a head frame
    built from the neck->head direction (up) and the shoulder line (left), at typical adult offsets
    scaled by the neck-head length.
    """
    j = np.asarray(joints, dtype=np.float64)
    head, neck = j[:, idx('head')], j[:, idx('neck')]
    up = head - neck
    scale = np.linalg.norm(up, axis=-1, keepdims=True) / 0.1
    up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    left = j[:, idx('left_shoulder')] - j[:, idx('right_shoulder')]
    left -= (left * up).sum(-1, keepdims=True) * up
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    fwd = np.cross(left, up)
    s = scale

    def at(f, u, l):  # noqa: E741
        return head + s * (f * 0.01 * fwd + u * 0.01 * up + l * 0.01 * left)

    out = np.zeros((len(j), 17, 3))
    out[:, 0] = at(9.5, 1.0, 0)  # nose
    out[:, 1] = at(8.0, 4.0, 3.2)  # left eye
    out[:, 2] = at(8.0, 4.0, -3.2)  # right eye
    out[:, 3] = at(0.0, 3.0, 7.5)  # left ear
    out[:, 4] = at(0.0, 3.0, -7.5)  # right ear
    for k, name in enumerate(
        ('left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
         'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'),
            start=5):
        out[:, k] = j[:, idx(name)]
    return out


def to_coco17(joints: np.ndarray) -> np.ndarray:
    """COCO-17 3D keypoints: the importers' ``t2m22_to_coco17`` when available, else
    :func:`t2m22_to_coco17_approx`."""
    try:
        from motionkit.datasets.importers.coco import t2m22_to_coco17
    except ImportError:
        return t2m22_to_coco17_approx(joints).astype(np.float32)
    return np.asarray(t2m22_to_coco17(joints), dtype=np.float32)


def _skill(severity: float) -> str:
    return 'novice' if severity >= 0.75 else ('early_expert' if severity >= 0.55 else 'intermediate_expert')


def make_feedback_pair(seed: int, index: int, activity: str | None = None):
    """Build learner/expert pair ``index``.

    Returns:
        ``(record, motions)`` with ``motions = {'novice', 'expert', 'corrected'}`` -> :class:`Motion`;
        ``record`` holds ``activity``, ``errors`` (name, param, severity, expert and novice values),
        ``skill_level``, ``expert_skill_level``, ``commentary``, ``region_labels`` (six regions),
        ``novice_params`` / ``expert_params``.
    """
    rng = rng_for(seed, index, 10)
    names = sorted(ACTIVITIES)
    act_name = activity or names[int(rng.integers(0, len(names)))]
    if act_name not in ACTIVITIES:
        raise KeyError(f'unknown activity {act_name!r}; known: {names}')
    act = ACTIVITIES[act_name]
    expert_params = {k: _draw(v, rng) for k, v in act['expert'].items()}
    side_key = 'hand' if 'hand' in expert_params else ('leg' if 'leg' in expert_params else None)
    if side_key and rng.random() < 0.3:
        expert_params[side_key] = 'left' if expert_params[side_key] == 'right' else 'right'
    err_names = sorted(act['errors'])
    n_err = 2 if (len(err_names) > 1 and rng.random() < 0.3) else 1
    chosen = [err_names[i] for i in sorted(rng.choice(len(err_names), n_err, replace=False))]
    novice_params = dict(expert_params)
    errors, regions_bad = [], set()
    severity = float(rng.uniform(0.35, 1.0))
    for e in chosen:
        spec = act['errors'][e]
        bad = _draw(spec['value'], rng)
        good = expert_params[spec['param']]
        if isinstance(bad, bool) or isinstance(good, bool):
            val = bad
        else:
            val = round(float(good + severity * (bad - good)), 2)
        novice_params[spec['param']] = val
        regs = [
            r.format(hand=expert_params.get('hand', ''), leg=expert_params.get('leg', ''))
            for r in spec['regions']
        ]
        regions_bad.update(regs)
        errors.append(
            dict(name=e,
                 param=spec['param'],
                 severity=round(severity, 3),
                 expert_value=good,
                 novice_value=val,
                 regions=regs))
    comments = [act['errors'][e]['comments'][int(rng.integers(0, 3))] for e in chosen]
    praise_regions = [r for r in sorted(act['praise']) if r not in regions_bad]
    region_labels = {r: 'not_mentioned' for r in BODY_REGIONS}
    for r in regions_bad:
        region_labels[r] = 'needs_improvement'
    if praise_regions:
        r = praise_regions[int(rng.integers(0, len(praise_regions)))]
        region_labels[r] = 'correct'
        comments.append(act['praise'][r])
    learner_body, expert_body = sample_body(rng), sample_body(rng)
    seeds = [int(x) for x in rng.integers(0, 2**31, size=4)]
    prim = act['primitive']
    novice = synthesize([dict(primitive=prim, params=novice_params)], learner_body, seeds[0], seeds[1])
    corrected = synthesize([dict(primitive=prim, params=expert_params)], learner_body, seeds[0], seeds[1])
    expert = synthesize([dict(primitive=prim, params=expert_params)], expert_body, seeds[2], seeds[3])
    skill = _skill(severity)
    record = dict(activity=act_name,
                  primitive=prim,
                  errors=errors,
                  skill_level=skill,
                  expert_skill_level='late_expert',
                  commentary=' '.join(comments),
                  region_labels=region_labels,
                  novice_params=novice_params,
                  expert_params=expert_params,
                  learner_subject=learner_body.to_dict(),
                  expert_subject=expert_body.to_dict(),
                  seeds=seeds)
    return record, dict(novice=novice, expert=expert, corrected=corrected)
