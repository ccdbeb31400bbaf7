"""Corrective edits (CigTime triplets): source program -> edited program -> target motion +
instruction paraphrases + the body part the edit touches.

How the "only where the body part says" guarantee is kept:

* an edit lists the joints whose local rotations it may change (``edited_joints``);
* the target is synthesised from the edited program and then every *other* joint's local rotation
  is copied from the source (same frames, :func:`.generator.synthesize` with ``keep=``), so
  untouched joints are identical by construction;
* ``upper_body`` edits never list the pelvis or a leg joint and also copy the source's heading,
  airborne height and flight velocity, so the lower body and the root trajectory are identical in
  world coordinates;
* ``lower_body`` edits list the pelvis and the legs: the root trajectory may change (it belongs to
  the lower body), while the spine, head and arms keep their local rotations, i.e. they are
  identical *relative to the pelvis*;
* ``whole_body`` edits (timing, repetitions, adding/removing/reordering events) change everything.

Part-restricted edits therefore must not change an event's duration; each operator below either
keeps it or is declared ``whole_body``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .body import JOINTS, LOWER_BODY

__all__ = [
    'EditOperator', 'EDIT_OPERATORS', 'applicable_edits', 'descendants', 'SPINE', 'arm_joints', 'leg_joints'
]

SPINE = ('spine1', 'spine2', 'spine3', 'neck', 'head')


def arm_joints(side: str) -> tuple:
    sides = ('left', 'right') if side in ('both', 'alternate') else (side, )
    return tuple(f'{s}_{j}' for s in sides for j in ('collar', 'shoulder', 'elbow', 'wrist'))


def leg_joints(side: str) -> tuple:
    sides = ('left', 'right') if side == 'both' else (side, )
    return tuple(f'{s}_{j}' for s in sides for j in ('hip', 'knee', 'ankle', 'foot'))


def descendants(names) -> set:
    """The named joints and all joints below them in the t2m22 tree."""
    from .body import PARENTS
    out = {JOINTS.index(n) for n in names}
    changed = True
    while changed:
        changed = False
        for j, p in enumerate(PARENTS):
            if p in out and j not in out:
                out.add(j)
                changed = True
    return {JOINTS[j] for j in out}


@dataclass(frozen=True)
class EditOperator:
    """One corrective edit.

    Attributes:
        name: identifier. primitive: the primitive it applies to ('*' = program-level edit).
        body_part: 'upper_body' | 'lower_body' | 'whole_body'.
        apply: ``(params, rng) -> new params`` or None when not applicable (event-level), or
            ``(events, rng) -> (new events, info)`` for program-level edits.
        focus: ``params -> joint names`` the instruction talks about.
        templates: instruction paraphrases (``str.format`` with the params and ``{hand}``/``{leg}``...).
    """
    name: str
    primitive: str
    body_part: str
    apply: Callable
    focus: Callable
    templates: tuple

    def edited_joints(self, params: dict) -> tuple:
        if self.body_part == 'lower_body':
            return LOWER_BODY
        if self.body_part == 'whole_body':
            return JOINTS
        focus = tuple(self.focus(params))
        bad = [j for j in focus if j in LOWER_BODY]
        if bad:
            raise ValueError(f'edit {self.name}: upper_body edit lists lower-body joints {bad}')
        return focus


EDIT_OPERATORS: dict[str, EditOperator] = {}


def _op(name, primitive, part, apply, focus, *templates):
    EDIT_OPERATORS[name] = EditOperator(name, primitive, part, apply, focus, tuple(templates))


def _set(key, fn, cond=lambda p: True):
    """An event-level apply: new params with ``key`` replaced by ``fn(old)`` if ``cond``."""

    def apply(p, rng):
        if not cond(p):
            return None
        new = dict(p)
        v = fn(p[key], rng)
        if v is None or v == p[key]:
            return None
        new[key] = round(v, 2) if isinstance(v, float) else v
        return new

    return apply


def _add(delta, lo, hi):

    def fn(v, rng):
        nv = float(np.clip(v + delta, lo, hi))
        return nv if abs(nv - v) >= abs(delta) * 0.5 else None

    return fn


def _flip(a, b):
    return lambda v, rng: {a: b, b: a}.get(v)


def _to(value, when=None):
    return lambda v, rng: value if (when is None or v in when) else None


_OTHER = {'left': 'right', 'right': 'left'}
ARM = lambda key: (lambda p: arm_joints(p[key]))  # noqa: E731
BOTH_ARMS = lambda p: arm_joints('both')  # noqa: E731
LEG = lambda key: (lambda p: leg_joints(p[key]))  # noqa: E731
BOTH_LEGS = lambda p: ('pelvis', ) + leg_joints('both')  # noqa: E731
TRUNK = lambda p: SPINE  # noqa: E731

# ---------------------------------------------------------------- upper body
_op('wave_higher', 'wave', 'upper_body', _set('height', _add(25, 80, 165)), ARM('hand'),
    'raise your hand higher when you wave', 'wave with your hand held up higher',
    'lift the waving arm higher')
_op('wave_lower', 'wave', 'upper_body', _set('height', _add(-25, 80, 165)), ARM('hand'),
    'keep your hand lower while waving', 'wave with your hand at a lower height',
    'lower the waving arm a bit')
_op('wave_wider', 'wave', 'upper_body', _set('amplitude', _add(15, 8, 50)), ARM('hand'),
    'wave with bigger movements', 'make your waves wider', 'swing your hand further from side to side')
_op('wave_smaller', 'wave', 'upper_body', _set('amplitude', _add(-12, 8, 50)), ARM('hand'),
    'make smaller waves', 'wave with a smaller motion', 'keep the waving movement small')
_op('wave_other_hand', 'wave', 'upper_body', _set('hand', _flip('left', 'right')), BOTH_ARMS,
    'wave with your other hand', 'use the {new_hand} hand to wave instead',
    'switch hands and wave with the {new_hand} one')
_op('wave_both_hands', 'wave', 'upper_body', _set('hand', _to('both', ('left', 'right'))), BOTH_ARMS,
    'wave with both hands', 'use both hands when you wave', 'raise your other hand too and wave with both')
_op('raise_arms_higher', 'raise_arms', 'upper_body',
    _set('height', _add(30, 45, 130), cond=lambda p: p['direction'] != 'up'), ARM('arms'),
    'raise your arms higher', 'lift your arms up higher', 'bring your arms up further')
_op('raise_arms_lower', 'raise_arms', 'upper_body',
    _set('height', _add(-30, 45, 130), cond=lambda p: p['direction'] != 'up'), ARM('arms'),
    'do not raise your arms so high', 'keep your arms lower', 'lift your arms only a little')
_op('raise_other_arm', 'raise_arms', 'upper_body', _set('arms', _flip('left', 'right')), BOTH_ARMS,
    'raise your other arm instead', 'use your {new_arms} arm', 'switch arms and lift the {new_arms} one')
_op('raise_both_arms', 'raise_arms', 'upper_body', _set('arms', _to('both', ('left', 'right'))), BOTH_ARMS,
    'raise both arms', 'lift both of your arms', 'use both arms, not just one')
_op('raise_arms_sideways', 'raise_arms', 'upper_body', _set('direction', _to('side', ('forward', ))),
    ARM('arms'), 'raise your arms out to the sides instead of forward', 'lift your arms sideways',
    'open your arms to the side')
_op('raise_arms_forward', 'raise_arms', 'upper_body', _set('direction', _to('forward', ('side', 'up'))),
    ARM('arms'), 'raise your arms straight in front of you', 'lift your arms forward instead',
    'bring your arms up in front')
_op('arm_circles_bigger', 'arm_circles', 'upper_body', _set('size', _add(15, 8, 50)), ARM('arms'),
    'make bigger circles with your arms', 'draw larger arm circles', 'increase the size of the circles')
_op('arm_circles_smaller', 'arm_circles', 'upper_body', _set('size', _add(-10, 8, 50)), ARM('arms'),
    'make the circles smaller', 'keep the arm circles small', 'draw tighter circles with your arms')
_op('arm_circles_reverse', 'arm_circles', 'upper_body', _set('direction', _flip('forward', 'backward')),
    ARM('arms'), 'circle your arms the other way', 'reverse the direction of the circles',
    'turn the circles {new_direction}')
_op('clap_overhead', 'clap', 'upper_body', _set('height', _to('overhead', ('chest', ))), BOTH_ARMS,
    'clap above your head', 'raise your hands and clap overhead', 'clap higher, over your head')
_op('clap_at_chest', 'clap', 'upper_body', _set('height', _to('chest', ('overhead', ))), BOTH_ARMS,
    'clap in front of your chest', 'keep your hands lower when you clap',
    'bring the clap down to chest height')
_op('punch_higher', 'punch', 'upper_body', _set('height', _add(20, 55, 110)), BOTH_ARMS, 'punch higher',
    'aim your punches at head height', 'raise your punches')
_op('punch_lower', 'punch', 'upper_body', _set('height', _add(-20, 55, 110)), BOTH_ARMS, 'punch lower',
    'aim your punches at the body', 'keep your punches down at chest level')
_op('punch_other_hand', 'punch', 'upper_body', _set('hand', _flip('left', 'right')), BOTH_ARMS,
    'punch with your other hand', 'switch to your {new_hand} hand', 'use the {new_hand} fist instead')
_op('bow_deeper', 'bow', 'upper_body', _set('depth', _add(20, 15, 85)), lambda p: SPINE + arm_joints('both'),
    'bow deeper', 'bend your upper body further forward', 'lower your chest more when you bow')
_op('bow_shallower', 'bow', 'upper_body', _set('depth', _add(-20, 15,
                                                             85)), lambda p: SPINE + arm_joints('both'),
    'make the bow smaller', 'do not bend forward so much', 'bow only slightly')
_op('throw_other_hand', 'throw', 'upper_body', _set('hand', _flip('left', 'right')),
    lambda p: SPINE + arm_joints('both'), 'throw with your other hand', 'use your {new_hand} arm to throw',
    'switch your throwing hand')
_op('throw_switch_style', 'throw', 'upper_body', _set('style', _flip('overhand', 'underhand')),
    lambda p: SPINE + arm_joints('both'), 'throw {new_style} instead', 'change to an {new_style} throw',
    'release the ball {new_style}')
_op('shot_elbow_in', 'jump_shot', 'upper_body', _set('elbow_out', lambda v, r: 0.0 if v > 3 else None),
    ARM('hand'), 'keep your shooting elbow in', 'tuck your elbow under the ball',
    'do not let your elbow flare out')
_op('shot_elbow_out', 'jump_shot', 'upper_body', _set('elbow_out', lambda v, r: 18.0 if v < 10 else None),
    ARM('hand'), 'let your shooting elbow point out more', 'flare your elbow out to the side',
    'move your elbow away from your body')
_op('shot_release_higher', 'jump_shot', 'upper_body', _set('release', _add(12, 140, 172)), ARM('hand'),
    'release the ball higher', 'extend your arm fully upward', 'reach higher at the release')
_op('dribble_other_hand', 'dribble', 'upper_body', _set('hand', _flip('left', 'right')), BOTH_ARMS,
    'dribble with your other hand', 'switch the ball to your {new_hand} hand',
    'use the {new_hand} hand to dribble')
_op('dribble_harder', 'dribble', 'upper_body', _set('bounce', _add(15, 10, 50)), ARM('hand'),
    'pump your arm more when you dribble', 'push the ball down harder', 'bounce the ball higher')
_op('side_bend_further', 'side_bend', 'upper_body', _set('angle', _add(10, 15, 45)),
    lambda p: SPINE + arm_joints('both'), 'bend further to the side', 'lean more into the side bend',
    'stretch further sideways')
_op('torso_twist_more', 'torso_twist', 'upper_body', _set('angle', _add(15, 15, 55)), lambda p: SPINE,
    'twist your torso further', 'rotate more at the waist', 'turn your upper body further each way')
_op('torso_twist_less', 'torso_twist', 'upper_body', _set('angle', _add(-15, 15, 55)), lambda p: SPINE,
    'twist less', 'make the rotation smaller', 'turn your upper body only a little')
_op('nod_instead_of_shake', 'head_gesture', 'upper_body', _set('kind', _to('nod', ('shake', ))), lambda p:
    ('neck', 'head'), 'nod your head instead of shaking it', 'move your head up and down, not side to side',
    'nod yes instead')
_op('shake_instead_of_nod', 'head_gesture', 'upper_body', _set('kind', _to('shake', ('nod', ))), lambda p:
    ('neck', 'head'), 'shake your head instead of nodding', 'move your head side to side, not up and down',
    'shake your head no')
_op('jacks_arms_lower', 'jumping_jacks', 'upper_body', _set('arm_height', _add(-60, 90, 175)), BOTH_ARMS,
    'raise your arms only to shoulder height', 'keep your arms lower during the jacks',
    'do not bring your arms all the way up')
_op('squat_arms_forward', 'squat', 'upper_body', _set('arms_forward', _to(True, (False, ))), BOTH_ARMS,
    'reach your arms forward as you squat', 'hold your arms out in front during the squat',
    'extend your arms forward for balance')
_op('squat_arms_down', 'squat', 'upper_body', _set('arms_forward', _to(False, (True, ))), BOTH_ARMS,
    'keep your arms down when you squat', 'do not raise your arms during the squat',
    'let your arms hang by your sides')
_op('balance_arms_out', 'balance', 'upper_body', _set('arms_out', _to(True, (False, ))), BOTH_ARMS,
    'spread your arms out for balance', 'hold your arms out to the sides',
    'open your arms while standing on one leg')
_op('balance_arms_down', 'balance', 'upper_body', _set('arms_out', _to(False, (True, ))), BOTH_ARMS,
    'keep your arms down while balancing', 'do not use your arms for balance',
    'let your arms hang at your sides')

# ---------------------------------------------------------------- lower body
_op('squat_deeper', 'squat', 'lower_body', _set('depth', _add(25, 45, 125)), BOTH_LEGS, 'squat deeper',
    'bend your knees more and go lower', 'go further down in the squat')
_op('squat_shallower', 'squat', 'lower_body', _set('depth', _add(-25, 45, 125)), BOTH_LEGS,
    'do not squat so low', 'make the squat shallower', 'bend your knees less')
_op('squat_wider', 'squat', 'lower_body', _set('width', _add(7, 7, 24), cond=lambda p: p['width'] > 6),
    BOTH_LEGS, 'take a wider stance', 'put your feet further apart', 'widen your stance for the squat')
_op('squat_narrower', 'squat', 'lower_body', _set('width', _add(-6, 7, 24), cond=lambda p: p['width'] > 6),
    BOTH_LEGS, 'bring your feet closer together', 'use a narrower stance', 'keep your feet nearer each other')
_op('lunge_deeper', 'lunge', 'lower_body', _set('depth', _add(0.08, 0.1, 0.32)), BOTH_LEGS, 'lunge deeper',
    'lower your back knee further', 'sink lower into the lunge')
_op('lunge_other_leg', 'lunge', 'lower_body', _set('leg', _flip('left', 'right')), BOTH_LEGS,
    'lunge with your other leg', 'step forward with the {new_leg} leg', 'switch legs for the lunge')
_op('lunge_longer_step', 'lunge', 'lower_body', _set('step', _add(0.15, 0.45, 1.0)), BOTH_LEGS,
    'take a longer step into the lunge', 'step further forward', 'make the lunge step longer')
_op('kick_higher', 'kick', 'lower_body', _set('height', _add(25, 25, 110)), LEG('leg'), 'kick higher',
    'raise your kicking leg higher', 'lift your foot higher when you kick')
_op('kick_lower', 'kick', 'lower_body', _set('height', _add(-25, 25, 110)), LEG('leg'), 'kick lower',
    'do not kick so high', 'keep the kick at knee height')
_op('kick_other_leg', 'kick', 'lower_body', _set('leg', _flip('left', 'right')), BOTH_LEGS,
    'kick with your other leg', 'use your {new_leg} leg to kick',
    'switch legs and kick with the {new_leg} one')
_op('hop_other_leg', 'hop', 'lower_body', _set('leg', _flip('left', 'right')), BOTH_LEGS,
    'hop on your other leg', 'switch to your {new_leg} leg', 'hop on the {new_leg} foot instead')
_op('balance_other_leg', 'balance', 'lower_body', _set('leg', _flip('left', 'right')), BOTH_LEGS,
    'stand on your other leg', 'balance on the {new_leg} leg instead', 'switch the supporting leg')
_op('balance_knee_higher', 'balance', 'lower_body', _set('knee_height', _add(20, 40, 100)), BOTH_LEGS,
    'lift your knee higher', 'raise the free knee up to hip height', 'bring your knee up more')
_op('march_knees_higher', 'march', 'lower_body', _set('knee_height', _add(20, 40, 90)), BOTH_LEGS,
    'lift your knees higher', 'bring your knees up more as you march', 'march with higher knees')
_op('march_knees_lower', 'march', 'lower_body', _set('knee_height', _add(-20, 40, 90)), BOTH_LEGS,
    'do not lift your knees so high', 'march with lower knees', 'keep your knee lifts small')
_op('walk_longer_steps', 'walk', 'lower_body', _set('speed', _add(0.35, 0.35, 1.8)), BOTH_LEGS,
    'take longer steps', 'lengthen your stride', 'cover more ground with each step')
_op('walk_shorter_steps', 'walk', 'lower_body', _set('speed', _add(-0.3, 0.35, 1.8)), BOTH_LEGS,
    'take shorter steps', 'shorten your stride', 'make your steps smaller')
_op('walk_turn_other_way', 'walk', 'lower_body', _set('turn', lambda v, r: -v
                                                      if v else None), BOTH_LEGS, 'turn the other way',
    'turn to the {new_turn_side} instead', 'curve to the {new_turn_side}, not the {old_turn_side}')
_op('walk_turn', 'walk', 'lower_body',
    _set('turn', lambda v, r: float(r.choice([-90.0, 90.0]))
         if not v else None), BOTH_LEGS, 'turn to the {new_turn_side} while walking',
    'curve to the {new_turn_side} as you walk', 'do not walk straight, turn {new_turn_side}')
_op('walk_straight', 'walk', 'lower_body', _set('turn', lambda v, r: 0.0 if v else None), BOTH_LEGS,
    'walk straight without turning', 'do not turn, keep going straight', 'keep a straight line')
_op('walk_backward_instead', 'walk', 'lower_body', _set('direction', _flip('forward', 'backward')), BOTH_LEGS,
    'walk {new_direction} instead', 'go {new_direction}', 'change direction and walk {new_direction}')
_op('jog_turn_other_way', 'jog', 'lower_body', _set('turn', lambda v, r: -v if v else None), BOTH_LEGS,
    'turn the other way while jogging', 'jog to the {new_turn_side} instead',
    'curve {new_turn_side} as you jog')
_op('side_step_other_way', 'side_step', 'lower_body', _set('direction', _flip('left', 'right')), BOTH_LEGS,
    'step to the other side', 'move to your {new_direction} instead', 'side step {new_direction}')
_op('side_step_wider', 'side_step', 'lower_body', _set('width', _add(8, 10, 30)), BOTH_LEGS,
    'take bigger side steps', 'step further out to the side', 'widen your side steps')
_op('turn_other_way', 'turn', 'lower_body', _set('direction', _flip('left', 'right')), BOTH_LEGS,
    'turn the other way', 'turn to your {new_direction}', 'rotate {new_direction} instead')
_op('step_over_higher', 'step_over', 'lower_body', _set('height', _add(20, 40, 95)), BOTH_LEGS,
    'lift your legs higher over the obstacle', 'raise your knees more', 'step higher')
_op('step_over_other_leg', 'step_over', 'lower_body', _set('leg', _flip('left', 'right')), BOTH_LEGS,
    'lead with your other leg', 'step over with the {new_leg} leg first', 'start with your {new_leg} foot')
_op('jump_forward', 'jump', 'lower_body', _set('distance', lambda v, r: 0.6 if v == 0 else None), BOTH_LEGS,
    'jump forward instead of straight up', 'travel forward with each jump', 'land a bit in front')
_op('jump_in_place', 'jump', 'lower_body', _set('distance', lambda v, r: 0.0 if v > 0 else None), BOTH_LEGS,
    'jump straight up and land in place', 'do not travel forward when you jump',
    'stay on the spot as you jump')
_op('shot_bend_knees', 'jump_shot', 'lower_body', _set('knee_bend', _add(25, 20, 95)), BOTH_LEGS,
    'bend your knees more before the shot', 'sink lower before you jump', 'use your legs more')
_op('dribble_lower_stance', 'dribble', 'lower_body', _set('stance', _add(15, 10, 50)), BOTH_LEGS,
    'get lower while dribbling', 'bend your knees more', 'stay low in an athletic stance')
_op('dribble_shorter_steps', 'dribble', 'lower_body',
    _set('step_length', _add(-0.15, 0.2, 0.8), cond=lambda p: p['steps'] > 0), BOTH_LEGS,
    'take shorter steps while dribbling', 'keep your steps small', 'do not stride so far')
_op('stretch_on_tiptoe', 'stretch_up', 'lower_body', _set('tiptoe', _to(True, (False, ))), BOTH_LEGS,
    'rise onto your toes as you reach', 'stand on tiptoe', 'lift your heels while stretching')

# ---------------------------------------------------------------- whole body (timing / program)
_COUNTED = ('jump', 'hop', 'jumping_jacks', 'squat', 'lunge', 'kick', 'wave', 'arm_circles', 'clap', 'punch',
            'toe_touch', 'side_bend', 'torso_twist', 'head_gesture', 'dribble')
for _p in _COUNTED:
    _op(f'{_p}_more_times', _p, 'whole_body',
        _set('count', lambda v, r: v + int(r.integers(1, 3)),
             cond=lambda p: p['count'] < 6), lambda p: JOINTS, 'do it {new_count} times',
        'repeat it {new_count} times instead of {old_count}', 'add more repetitions')
    _op(f'{_p}_fewer_times', _p, 'whole_body', _set('count',
                                                    lambda v, r: v - 1,
                                                    cond=lambda p: p['count'] > 1), lambda p: JOINTS,
        'do it only {new_count_times}', 'fewer repetitions, {new_count} is enough', 'do one less')
def _faster(p, rng):
    """Quicker steps of the same length: cadence and speed both x1.3."""
    if p['cadence'] > 3.0:
        return None
    return dict(p, cadence=round(p['cadence'] * 1.3, 2), speed=round(p['speed'] * 1.3, 2))


for _p in ('walk', 'jog', 'run'):
    _op(f'{_p}_faster', _p, 'whole_body', _faster, lambda p: JOINTS,
        'move faster', 'speed up your steps', 'pick up the pace')
    _op(f'{_p}_more_steps', _p, 'whole_body', _set('steps',
                                                   lambda v, r: v + 2,
                                                   cond=lambda p: p['steps'] <= 8), lambda p: JOINTS,
        'take a couple more steps', 'keep going a bit longer', 'walk further')
_op('jump_higher', 'jump', 'whole_body', _set('height', _add(0.15, 0.1, 0.55)), lambda p: JOINTS,
    'jump higher', 'push off harder and get more height', 'get higher off the ground')
_op('jump_lower', 'jump', 'whole_body', _set('height', _add(-0.12, 0.08, 0.55)), lambda p: JOINTS,
    'jump lower', 'make smaller jumps', 'do not jump so high')


def _remove_event(events, rng):
    if len(events) < 2:
        return None
    k = int(rng.integers(0, len(events)))
    return events[:k] + events[k + 1:], dict(removed=k, removed_primitive=events[k]['primitive'])


def _swap_events(events, rng):
    if len(events) < 2:
        return None
    k = int(rng.integers(0, len(events) - 1))
    if events[k]['primitive'] == events[k + 1]['primitive']:
        return None
    new = list(events)
    new[k], new[k + 1] = new[k + 1], new[k]
    return new, dict(swapped=[k, k + 1], first=events[k]['primitive'], second=events[k + 1]['primitive'])


def _add_event(events, rng):
    from .primitives import PRIMITIVES
    names = [n for n in PRIMITIVES if n not in ('stand', )]
    name = str(rng.choice(names))
    ev = dict(primitive=name, params=PRIMITIVES[name].sample(rng))
    return list(events) + [ev], dict(added=name)


_op('remove_event', '*', 'whole_body', _remove_event, lambda p: JOINTS, 'skip the {removed_action}',
    'leave out the {removed_action}', 'do not do the {removed_action}')
_op('reorder_events', '*', 'whole_body', _swap_events, lambda p: JOINTS,
    'do the {second_action} before the {first_action}',
    'swap the order: {second_action} first, then {first_action}', 'start with the {second_action}')
_op('add_event', '*', 'whole_body', _add_event, lambda p: JOINTS, 'after that, also do a {added_action}',
    'add a {added_action} at the end', 'finish with a {added_action}')


def applicable_edits(events: list) -> list:
    """``[(operator, event index or None)]`` that could apply to a program."""
    out = []
    for op in EDIT_OPERATORS.values():
        if op.primitive == '*':
            out.append((op, None))
        else:
            out.extend((op, k) for k, ev in enumerate(events) if ev['primitive'] == op.primitive)
    return out
