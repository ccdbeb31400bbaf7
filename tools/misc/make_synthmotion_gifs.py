"""Render the SynthMotion example GIFs of docs/synthmotion.md (run from the repository root):

    python tools/misc/make_synthmotion_gifs.py

Panels are 96 px, 10 fps; locomotion clips are shown with the camera following the pelvis.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from motionkit.synthmotion import (ClassDistribution, make_feedback_pair,  # noqa: E402
                                            make_triplet, sample_body, sample_motion, synthesize)
from motionkit.synthmotion.program import SynthItem  # noqa: E402
from motionkit.visualization.skeleton_renderer import (frame_grid, render_side_by_side, save_image,  # noqa: E402
                                                       save_video)

OUT = Path(__file__).resolve().parents[2] / 'docs' / '_static' / 'synthmotion'
PX = 96
FOLLOW = {'walk', 'jog', 'run', 'side_step', 'step_over', 'lunge', 'dribble'}


def follow(j):
    j = j.copy()
    j[:, :, [0, 2]] -= j[:, :1, [0, 2]]
    return j


def save(frames, name):
    frames = frames[::2]  # 10 fps
    save_video(frames, OUT / f'{name}.gif', fps=10)
    return frames


PRIMS = {
    'walk': dict(direction='forward', speed=1.2, steps=6, turn=0.0, cadence=1.8),
    'run': dict(direction='forward', speed=3.0, steps=8, turn=0.0, cadence=2.9),
    'side_step': dict(direction='left', steps=3, width=16.0),
    'turn': dict(direction='left', angle=180.0),
    'jump': dict(count=2, height=0.35, distance=0.0),
    'jumping_jacks': dict(count=3, arm_height=170.0),
    'squat': dict(depth=110.0, count=2, width=12.0, arms_forward=True),
    'lunge': dict(leg='left', depth=0.25, step=0.8, count=1),
    'kick': dict(leg='right', height=85.0, count=2),
    'wave': dict(hand='right', count=4, amplitude=30.0, height=130.0),
    'arm_circles': dict(arms='both', count=3, direction='forward', size=30.0),
    'clap': dict(count=4, height='chest'),
    'punch': dict(hand='alternate', count=4, height=92.0),
    'bow': dict(depth=60.0, seconds=0.8),
    'throw': dict(hand='right', style='overhand'),
    'jump_shot': dict(hand='right', jump=0.2, knee_bend=65.0, elbow_out=0.0, release=162.0, follow_through=True),
    'balance': dict(leg='left', seconds=2.0, knee_height=80.0, arms_out=True),
    'sit_down_stand_up': dict(seconds=1.2, depth=95.0),
    'toe_touch': dict(count=1, depth=85.0),
    'hop': dict(leg='right', count=3, height=0.12),
}


def main():
    grids = []
    for k, (name, params) in enumerate(PRIMS.items()):
        body = sample_body(np.random.default_rng(k))
        m = synthesize([dict(primitive=name, params=params)], body, k, k + 1)
        j = follow(m.joints) if name in FOLLOW else m.joints
        fr = render_side_by_side([j], titles=[name.replace('_', ' ')], width=PX, height=PX, show_trajectory=False)
        grids.append(frame_grid(save(fr, f'prim_{name}'), num=6, cols=6))
    save_image(np.concatenate(grids[:10], 0), '/tmp/synth_grid_a.png')
    save_image(np.concatenate(grids[10:], 0), '/tmp/synth_grid_b.png')
    grids = []

    # compositions with their first caption
    dist = ClassDistribution()
    comps = []
    i = 0
    while len(comps) < 3:
        it = sample_motion(123, i, dist)
        i += 1
        if len(it.motion.events) >= 2 and not {e['primitive'] for e in it.motion.events} & {'run', 'jog'}:
            comps.append(it)
    for c, it in enumerate(comps):
        cap = it.captions[0].split('#')[0]
        fr = render_side_by_side([it.motion.joints], titles=[cap], width=2 * PX, height=2 * PX,
                                 show_trajectory=True, fontsize=6)
        save(fr, f'composition_{c}')
        (OUT / f'composition_{c}.txt').write_text(cap + '\n')

    # corrective pairs (source | target), from single-event sources so the change is easy to see
    rng = np.random.default_rng(5)
    sources = {
        'wave_higher': ('wave', dict(hand='right', count=4, amplitude=25.0, height=100.0)),
        'squat_deeper': ('squat', dict(depth=60.0, count=1, width=4.0, arms_forward=True)),
        'kick_other_leg': ('kick', dict(leg='right', height=80.0, count=2)),
        'raise_arms_sideways': ('raise_arms', dict(arms='both', direction='forward', height=90.0, seconds=1.0)),
    }
    for k, (op, (prim, params)) in enumerate(sources.items()):
        body = sample_body(np.random.default_rng(100 + k))
        m = synthesize([dict(primitive=prim, params=params)], body, 3, 4)
        program = dict(events=m.events, subject=dict(body.to_dict(), style_seed=3), noise_seed=4, noise_amplitude=1.0)
        item = SynthItem(f'demo{k}', m, program, [], [prim])
        res = make_triplet(item, rng, operator=op)
        assert res is not None, op
        rec, tgt = res
        fr = render_side_by_side([m.joints, tgt.joints], titles=['source', rec['instructions'][0]],
                                 width=PX, height=PX, show_trajectory=False, fontsize=5)
        grids.append(frame_grid(save(fr, f'triplet_{op}'), num=4, cols=4))
        (OUT / f'triplet_{op}.txt').write_text(f"{rec['edit']} ({rec['body_part']}): {rec['instructions'][0]}\n")

    # learner / expert
    for k, act in enumerate(['basketball_jump_shot', 'squat']):
        for idx in range(40):
            rec, ms = make_feedback_pair(7, idx, activity=act)
            if act == 'squat' and rec['errors'][0]['name'] != 'arms_dropping':
                continue
            if act == 'basketball_jump_shot' and rec['errors'][0]['name'] != 'knees_too_straight':
                continue
            break
        fr = render_side_by_side([ms['novice'].joints, ms['expert'].joints],
                                 titles=[f"learner ({rec['skill_level']})", 'expert'], width=PX, height=PX,
                                 show_trajectory=False, fontsize=5)
        grids.append(frame_grid(save(fr, f'feedback_{act}'), num=4, cols=4))
        (OUT / f'feedback_{act}.txt').write_text(rec['commentary'] + '\n' + str(rec['region_labels']) + '\n')
    save_image(np.concatenate(grids, 0), '/tmp/synth_pairs.png')


if __name__ == '__main__':
    main()
