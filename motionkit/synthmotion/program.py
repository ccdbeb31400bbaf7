"""Sampling SynthMotion programs: subjects, events, long-tail action classes, captions, labels.

Everything for motion ``index`` of a build with seed ``seed`` comes from
``np.random.default_rng([seed, index, stream])`` streams, so one motion can be regenerated alone
(resumable builds, parallel workers) and the output does not depend on the order of generation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body import sample_body
from .captions import caption_for_program, format_caption_line
from .generator import MAX_FRAMES, Motion, synthesize
from .primitives import PRIMITIVES

__all__ = ['ClassDistribution', 'sample_motion', 'SynthItem', 'ACTION_NAMES', 'rng_for']

MIN_JOINT_FRAMES = 41  # 40 feature frames (HumanML3D features drop one frame) is the loaders' minimum

# readable names of the primitives (used in instructions and docs)
ACTION_NAMES = {'sit_down_stand_up': 'sit-down', 'jump_shot': 'jump shot', 'side_step': 'side steps',
                'step_over': 'step-over', 'jumping_jacks': 'jumping jacks', 'raise_arms': 'arm raise',
                'arm_circles': 'arm circles', 'toe_touch': 'toe touch', 'side_bend': 'side bend',
                'torso_twist': 'torso twist', 'stretch_up': 'overhead stretch', 'head_gesture': 'head gesture'}


def rng_for(seed: int, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(index), int(stream)])


# Rank order of the long-tail profile: everyday actions first (walking and turning are the most
# frequent verbs of text-motion corpora such as HumanML3D), sports drills and gestures last. A
# design choice of SynthMotion, not a measured statistic.
FREQUENCY_ORDER = (
    'walk', 'turn', 'run', 'jump', 'wave', 'raise_arms', 'squat', 'kick', 'jog', 'stand', 'side_step',
    'throw', 'punch', 'bow', 'sit_down_stand_up', 'clap', 'hop', 'lunge', 'balance', 'arm_circles', 'march',
    'step_over', 'jumping_jacks', 'toe_touch', 'dribble', 'jump_shot', 'stretch_up', 'side_bend',
    'torso_twist', 'head_gesture')


class ClassDistribution:
    """Action-class sampling weights.

    ``'long_tail'``: the class of rank ``k`` in :data:`FREQUENCY_ORDER` gets weight
    ``imbalance_ratio ** (-k / (K - 1))`` (the exponential profile of CIFAR-LT, Cui et al. 2019), so
    the most frequent class is ``imbalance_ratio`` times the least frequent. ``'uniform'``: equal
    weights. Tiers: the top third of classes by weight are 'head', the next 'medium', the rest 'tail'.
    """

    def __init__(self, kind: str = 'long_tail', imbalance_ratio: float = 20.0, classes=None):
        if kind not in ('long_tail', 'uniform'):
            raise ValueError(f"class distribution must be 'long_tail' or 'uniform', got {kind!r}")
        if imbalance_ratio < 1:
            raise ValueError(f'imbalance_ratio must be >= 1, got {imbalance_ratio}')
        names = list(classes or PRIMITIVES)
        ranked = [n for n in FREQUENCY_ORDER if n in names] + [n for n in names if n not in FREQUENCY_ORDER]
        order = [names.index(n) for n in ranked]
        self.classes = names
        K = len(names)
        w = np.ones(K)
        if kind == 'long_tail':
            for rank, k in enumerate(order):
                w[k] = imbalance_ratio ** (-rank / max(K - 1, 1))
        self.weights = w / w.sum()
        ranks = np.argsort(-self.weights, kind='stable')
        self.tiers = {}
        for r, k in enumerate(ranks):
            self.tiers[names[k]] = 'head' if r < K / 3 else ('medium' if r < 2 * K / 3 else 'tail')
        self.kind, self.imbalance_ratio = kind, float(imbalance_ratio)

    def sample(self, rng: np.random.Generator) -> str:
        return self.classes[int(rng.choice(len(self.classes), p=self.weights))]

    def to_list(self) -> list:
        return [dict(index=k, name=n, weight=round(float(self.weights[k]), 6), tier=self.tiers[n])
                for k, n in enumerate(self.classes)]


@dataclass
class SynthItem:
    """One generated motion with all of its labels."""
    motion_id: str
    motion: Motion
    program: dict
    captions: list
    labels: list


def _program_events(rng, dist: ClassDistribution, max_events: int) -> list:
    k = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.20]))
    k = min(k, max_events)
    events = []
    for _ in range(k):
        name = dist.sample(rng)
        if events and name == events[-1]['primitive']:
            name = dist.sample(rng)
        events.append(dict(primitive=name, params=PRIMITIVES[name].sample(rng)))
    return events


def sample_motion(seed: int, index: int, dist: ClassDistribution, max_events: int = 3,
                  noise_amplitude: float = 1.0, id_prefix: str = 'S') -> SynthItem:
    """Generate motion ``index`` of a build: program, subject, motion, 3 captions and labels.

    The motion has ``MIN_JOINT_FRAMES`` (41) to ``MAX_FRAMES`` (196) frames: programs that come out
    longer lose their last event (or are resampled), shorter ones get a 'stand' event appended.
    """
    rng = rng_for(seed, index, 0)
    body = sample_body(rng)
    style_seed, noise_seed = int(rng.integers(2 ** 31)), int(rng.integers(2 ** 31))
    for attempt in range(20):
        events = _program_events(rng, dist, max_events)
        motion = synthesize(events, body, style_seed, noise_seed, noise_amplitude=noise_amplitude)
        while motion.num_frames > MAX_FRAMES and len(events) > 1:
            events = events[:-1]
            motion = synthesize(events, body, style_seed, noise_seed, noise_amplitude=noise_amplitude)
        if motion.num_frames > MAX_FRAMES:
            continue
        if motion.num_frames < MIN_JOINT_FRAMES:
            need = MIN_JOINT_FRAMES - motion.num_frames + 6 + int(rng.integers(0, 20))
            events = events + [dict(primitive='stand', params=dict(seconds=round(need / 20 + 0.05, 2)))]
            motion = synthesize(events, body, style_seed, noise_seed, noise_amplitude=noise_amplitude)
        if MIN_JOINT_FRAMES <= motion.num_frames <= MAX_FRAMES:
            break
    else:  # pragma: no cover - every primitive fits on its own within 20 attempts
        raise RuntimeError(f'could not sample a program of {MIN_JOINT_FRAMES}-{MAX_FRAMES} frames '
                           f'(seed {seed}, index {index})')
    cap_rng = rng_for(seed, index, 1)
    captions = [caption_for_program(motion.events, cap_rng) for _ in range(3)]
    labels = sorted({ev['primitive'] for ev in motion.events})
    program = dict(events=motion.events, subject=dict(body.to_dict(), style_seed=style_seed),
                   noise_seed=noise_seed, noise_amplitude=noise_amplitude, num_frames=motion.num_frames)
    return SynthItem(f'{id_prefix}{index:06d}', motion, program, [format_caption_line(c) for c in captions],
                     labels)
