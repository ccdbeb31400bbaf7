"""CigTime corrective triplets from SynthMotion programs: (source motion, instruction, target motion).

See :mod:`.edits` for the operators and for how a part-restricted edit keeps the rest of the body
identical.
"""
from __future__ import annotations

import json

import numpy as np

from .body import BODY_REGIONS, JOINTS, UPPER_BODY
from .edits import EditOperator, applicable_edits, descendants
from .generator import MAX_FRAMES, Motion, synthesize
from .program import ACTION_NAMES, MIN_JOINT_FRAMES, SynthItem

__all__ = ['make_triplet', 'unchanged_joints', 'pelvis_frame_positions', 'MIN_EDIT_CHANGE', 'propose_edit',
           'enumerate_edit_proposals', 'fill_instructions', 'realize_edit', 'edit_record', 'source_events',
           'body_part_order', 'split_phrasings', 'phrasings_for_split', 'HELD_OUT_SPLITS']

#: splits whose instructions are written with phrasings no training instruction uses
HELD_OUT_SPLITS = ('val', 'test')

MIN_EDIT_CHANGE = 0.03  # an edit must move some joint of its part by >= 3 cm


def _action(name: str) -> str:
    return ACTION_NAMES.get(name, name.replace('_', ' '))


def _fill(template: str, old: dict, new: dict, info: dict) -> str:
    vals = {}
    for k, v in new.items():
        vals[f'new_{k}'] = v
    for k, v in old.items():
        vals[f'old_{k}'] = v
    if 'turn' in new:
        vals['new_turn_side'] = 'left' if new['turn'] > 0 else 'right'
        vals['old_turn_side'] = 'left' if old.get('turn', 0) > 0 else 'right'
    if 'count' in new:
        vals['new_count_times'] = 'once' if new['count'] == 1 else f"{new['count']} times"
    for k in ('removed_primitive', 'first', 'second', 'added'):
        if k in info:
            key = {'removed_primitive': 'removed_action', 'first': 'first_action', 'second': 'second_action',
                   'added': 'added_action'}[k]
            vals[key] = _action(info[k])
    return template.format(**vals)


def unchanged_joints(body_part: str, edited: tuple) -> tuple[list, str]:
    """Joints a triplet must keep identical and the frame to compare them in.

    Returns ``(joint names, 'world' | 'pelvis')``: upper-body edits keep every joint outside the
    edited joints' subtrees identical in world coordinates; lower-body edits keep the upper body
    identical relative to the pelvis; whole-body edits promise nothing.
    """
    if body_part == 'upper_body':
        moved = descendants(edited)
        return [j for j in JOINTS if j not in moved], 'world'
    if body_part == 'lower_body':
        return list(UPPER_BODY), 'pelvis'
    return [], 'world'


def pelvis_frame_positions(joints: np.ndarray) -> np.ndarray:
    """Joint positions in the pelvis frame (origin pelvis; axes from the hips and spine1, which are
    rigidly attached to the pelvis). ``(T, 22, 3) -> (T, 22, 3)``."""
    j = np.asarray(joints, dtype=np.float64)
    x = j[:, 1] - j[:, 2]
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = j[:, 3] - j[:, 0]
    y -= (y * x).sum(-1, keepdims=True) * x
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    z = np.cross(x, y)
    R = np.stack([x, y, z], -1)  # columns are the axes
    return np.einsum('tji,tkj->tki', R, j - j[:, :1])


def propose_edit(events: list, op: EditOperator, k: int | None, rng: np.random.Generator):
    """Draw ``op``'s new values for event ``k`` of ``events`` (``k=None``: a program-level edit).

    ``events``: ``[dict(primitive, params)]``. Returns ``(new_events, old_params, new_params,
    info)`` or ``None`` when the operator does not apply (program-level edits have empty
    params and describe themselves in ``info``).
    """
    if k is None:
        res = op.apply(events, rng)
        if res is None:
            return None
        new_events, info = res
        return new_events, {}, {}, info
    new_p = op.apply(events[k]['params'], rng)
    if new_p is None:
        return None
    old_p = events[k]['params']
    new_events = [dict(e) for e in events]
    new_events[k] = dict(primitive=events[k]['primitive'], params=new_p)
    return new_events, old_p, new_p, {}


def enumerate_edit_proposals(events: list, op: EditOperator, k: int | None, num_draws: int = 16,
                             seed: int = 0) -> list:
    """Every concrete way ``op`` can edit event ``k`` (``None``: the program), deduplicated.

    Most event-level operators are deterministic given the parameters; the random ones (e.g.
    ``*_more_times`` adds 1 or 2 repetitions) are enumerated with ``num_draws`` seeded draws.
    Program-level operators list their possibilities explicitly: every removable event, every
    swappable neighbour pair, and every primitive that can be appended (its parameters drawn
    from ``default_rng([seed, primitive index])``; the instruction names only the action, so
    these are not the only possible parameters).

    Returns:
        ``[(new_events, old_params, new_params, info)]`` as :func:`propose_edit`.
    """
    events = [dict(primitive=e['primitive'], params=dict(e['params'])) for e in events]
    out = []
    if op.name == 'remove_event':
        if len(events) >= 2:
            out = [(events[:j] + events[j + 1:], {}, {},
                    dict(removed=j, removed_primitive=events[j]['primitive']))
                   for j in range(len(events))]
    elif op.name == 'reorder_events':
        for j in range(len(events) - 1):
            if events[j]['primitive'] == events[j + 1]['primitive']:
                continue
            new = list(events)
            new[j], new[j + 1] = new[j + 1], new[j]
            out.append((new, {}, {}, dict(swapped=[j, j + 1], first=events[j]['primitive'],
                                          second=events[j + 1]['primitive'])))
    elif op.name == 'add_event':
        from .primitives import PRIMITIVES
        for n, name in enumerate(PRIMITIVES):
            if name == 'stand':
                continue
            params = PRIMITIVES[name].sample(np.random.default_rng([seed, n]))
            out.append((list(events) + [dict(primitive=name, params=params)], {}, {},
                        dict(added=name)))
    else:
        seen = set()
        for draw in range(num_draws):
            prop = propose_edit(events, op, k, np.random.default_rng([seed, draw]))
            if prop is None:
                continue
            key = json.dumps([prop[0], prop[3]], sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                out.append(prop)
    return out


def fill_instructions(op: EditOperator, old_p: dict, new_p: dict, info: dict,
                      templates=None) -> list:
    """The operator's paraphrases filled with the old / new values (``templates`` in the given
    order, default the operator's own order)."""
    return [_fill(t, old_p, new_p, info) for t in (op.templates if templates is None else templates)]


def split_phrasings(phrasings: dict) -> dict:
    """Which phrasings (instruction templates) of each edit the training split may use, and which
    are held out for val / test.

    Test instructions must be phrased in words no training instruction uses, or BLEU / METEOR
    reward picking the training string of the right edit (issue #18: 80 % of the test instructions
    were verbatim training strings). Per edit, every third phrasing is held out, starting at an
    offset fixed by a CRC-32 of its name (stable across processes). A phrasing several edits share
    (``'move faster'``, ``'do one less'``) gets one decision for all of them, taken by the first
    edit in name order, so it cannot be a training string of one edit and a test string of another.
    Every edit with two or more phrasings keeps at least one on each side where the shared
    decisions allow it; order is kept.

    Args:
        phrasings: ``{edit name: [templates]}`` (e.g. ``{op.name: op.templates}``).

    Returns:
        ``{edit name: dict(train=[...], held_out=[...])}``; an edit with one phrasing (or whose
        phrasings are all held out by other edits' decisions) uses the same ones on both sides,
        which the triplet manifest's ``phrasing`` record reports.
    """
    import zlib
    from .synthmotion_exact_editor import normalize_instruction
    decided: dict = {}
    out = {}
    for key in sorted(phrasings):
        ph = list(phrasings[key])
        norms = [normalize_instruction(t) for t in ph]
        offset = zlib.crc32(key.encode('utf-8')) % 3
        held = [decided.get(n, i % 3 == offset) for i, n in enumerate(norms)]
        if len(ph) >= 2 and (all(held) or not any(held)):
            free = [i for i, n in enumerate(norms) if n not in decided]
            if free:  # flip the last phrasing no other edit has decided
                held[free[-1]] = not held[free[-1]]
        for n, h in zip(norms, held):
            decided.setdefault(n, h)
        train = [t for t, h in zip(ph, held) if not h]
        test = [t for t, h in zip(ph, held) if h]
        out[key] = dict(train=train or test, held_out=test or train)
    return out


def phrasings_for_split(split_table: dict, key: str, split: str) -> list:
    """The phrasings of edit ``key`` a split uses (``split_table`` from :func:`split_phrasings`)."""
    if split not in ('train', ) + HELD_OUT_SPLITS:
        raise ValueError(f"phrasings_for_split: split must be 'train', 'val' or 'test', got {split!r}")
    if key not in split_table:
        raise KeyError(f'phrasings_for_split: no phrasings for edit {key!r}')
    return list(split_table[key]['train' if split == 'train' else 'held_out'])


def realize_edit(item: SynthItem, op: EditOperator, k: int | None, new_events: list, old_p: dict,
                 new_p: dict, min_change: float = MIN_EDIT_CHANGE):
    """Synthesise the target of an edit the way :func:`make_triplet` does.

    Part-restricted edits copy every joint outside the edited ones from the source (and, for
    upper-body edits, the root), so untouched joints are identical by construction.

    Returns:
        ``(target Motion, edited joint names)``, or ``None`` when the edit is not usable: the
        synthesis rejects it (a part-restricted edit that changes the timing), the target has
        fewer than 41 or more than 196 frames, or no joint moves by ``min_change`` metres.
    """
    src: Motion = item.motion
    subj = item.program['subject']
    edited = op.edited_joints(new_p if k is not None else {})
    if op.body_part != 'whole_body':
        edited = tuple(sorted(set(edited) | set(op.edited_joints(old_p)), key=JOINTS.index))
    keep = None
    if op.body_part != 'whole_body':
        mask = np.array([j not in edited for j in JOINTS])
        keep = dict(quats=src.local_quats, joints=mask, root=op.body_part == 'upper_body',
                    yaw_rate=src.yaw_rate, airborne=src.airborne, flight_velocity=src.flight_velocity,
                    canonical=src.canonical)
    try:
        target = synthesize(new_events, src.body, subj['style_seed'], item.program['noise_seed'],
                            noise_amplitude=item.program['noise_amplitude'], keep=keep)
    except ValueError:  # the edit changed the timing of a part-restricted edit: not usable
        return None
    if not MIN_JOINT_FRAMES <= target.num_frames <= MAX_FRAMES:
        return None
    if target.num_frames == src.num_frames:
        moved = np.linalg.norm(target.joints - src.joints, axis=-1).max()
    else:
        moved = np.inf
    if moved < min_change:
        return None
    return target, edited


def edit_record(item: SynthItem, op: EditOperator, k: int | None, proposal: tuple, target: Motion,
                edited: tuple, instructions: list) -> dict:
    """The triplet record of an edit (see :func:`make_triplet`)."""
    _, old_p, new_p, info = proposal
    unchanged, frame = unchanged_joints(op.body_part, edited)
    focus = list(op.focus(new_p if k is not None else {}))
    regions = (sorted(r for r, js in BODY_REGIONS.items() if set(js) & set(focus))
               if op.body_part != 'whole_body' else ['whole_body'])
    return dict(source_id=item.motion_id, edit=op.name, event=k, body_part=op.body_part,
                joints=focus, regions=regions, edited_joints=list(edited), unchanged_joints=unchanged,
                unchanged_frame=frame, instructions=instructions, edit_info=info,
                old_params=old_p, new_params=new_p,
                source_events=item.program['events'], target_events=target.events,
                num_frames=target.num_frames)


def source_events(item: SynthItem) -> list:
    """The program's events reduced to ``dict(primitive, params)`` (what the edits operate on)."""
    return [dict(primitive=e['primitive'], params=dict(e['params'])) for e in item.program['events']]


def body_part_order(cands: list, rng: np.random.Generator) -> np.ndarray:
    """Weighted random order of ``[(operator, k)]`` candidates: the body part is picked first
    (upper 40 %, lower 40 %, whole 20 %) so that the many count / timing operators do not crowd
    out the part-restricted ones (Efraimidis-Spirakis weighted sampling without replacement)."""
    part_w = {'upper_body': 0.4, 'lower_body': 0.4, 'whole_body': 0.2}
    keys = rng.random(len(cands)) ** (1.0 / np.array([part_w[c[0].body_part] for c in cands]))
    return np.argsort(-keys)


def make_triplet(item: SynthItem, rng: np.random.Generator, operator: str | None = None):
    """Pick an applicable edit of ``item``'s program and synthesise its target.

    Args:
        item: the source (from :func:`.program.sample_motion`).
        rng: random generator (which edit, new values, which paraphrase order).
        operator: force this edit operator (name) instead of sampling.

    Returns:
        ``(record, target Motion)`` or ``None`` if no edit applies. ``record`` holds
        ``source_id``, ``edit`` (operator name), ``event`` (index), ``body_part``, ``joints``
        (what the instruction is about), ``edited_joints``, ``unchanged_joints`` +
        ``unchanged_frame``, ``instructions`` (3 paraphrases), ``source_events`` / ``target_events``.
    """
    events = source_events(item)
    cands = applicable_edits(events)
    if operator is not None:
        cands = [c for c in cands if c[0].name == operator]
    for ci in body_part_order(cands, rng):
        op, k = cands[ci]
        proposal = propose_edit(events, op, k, rng)
        if proposal is None:
            continue
        realized = realize_edit(item, op, k, *proposal[:3])
        if realized is None:
            continue
        target, edited = realized
        templates = list(op.templates)
        rng.shuffle(templates)
        instructions = fill_instructions(op, proposal[1], proposal[2], proposal[3], templates)
        return edit_record(item, op, k, proposal, target, edited, instructions), target
    return None
