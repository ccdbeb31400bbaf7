"""Caption grammar of SynthMotion: paraphrases with part-of-speech tags.

Every word is generated together with its lemma and its Universal POS tag (the tag set spaCy writes
into HumanML3D's ``texts/<id>.txt``: NOUN, VERB, ADP, DET, ADJ, ADV, NUM, PRON, CCONJ, PART,
SCONJ, AUX, ...), so a caption line is written exactly, with no tagger:
``caption#lemma/POS lemma/POS ...#0.0#0.0`` (punctuation is left out of the token list, lemmas are
lowercase, as in HumanML3D).

Paraphrases vary the subject (a person / a man / someone ...), synonyms (walks / strolls), word
order and, for multi-event programs, the temporal connectives ("first ..., then ...", "after that",
"finally", "and then").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ['Word', 'caption_for_program', 'format_caption_line', 'event_phrase', 'VERB_FORMS',
           'UPOS_TAGS', 'number_word']

UPOS_TAGS = ('ADJ', 'ADP', 'ADV', 'AUX', 'CCONJ', 'DET', 'INTJ', 'NOUN', 'NUM', 'PART', 'PRON',
             'PROPN', 'PUNCT', 'SCONJ', 'SYM', 'VERB', 'X')


@dataclass(frozen=True)
class Word:
    text: str
    lemma: str
    pos: str


# lemma -> (3rd person singular, -ing form)
VERB_FORMS = {
    'walk': ('walks', 'walking'), 'stroll': ('strolls', 'strolling'), 'jog': ('jogs', 'jogging'),
    'run': ('runs', 'running'), 'sprint': ('sprints', 'sprinting'), 'step': ('steps', 'stepping'),
    'shuffle': ('shuffles', 'shuffling'), 'turn': ('turns', 'turning'), 'spin': ('spins', 'spinning'),
    'march': ('marches', 'marching'), 'lift': ('lifts', 'lifting'), 'jump': ('jumps', 'jumping'),
    'leap': ('leaps', 'leaping'), 'hop': ('hops', 'hopping'), 'do': ('does', 'doing'),
    'squat': ('squats', 'squatting'), 'crouch': ('crouches', 'crouching'), 'lunge': ('lunges', 'lunging'),
    'kick': ('kicks', 'kicking'), 'balance': ('balances', 'balancing'), 'stand': ('stands', 'standing'),
    'sit': ('sits', 'sitting'), 'get': ('gets', 'getting'), 'wave': ('waves', 'waving'),
    'raise': ('raises', 'raising'), 'circle': ('circles', 'circling'), 'rotate': ('rotates', 'rotating'),
    'clap': ('claps', 'clapping'), 'punch': ('punches', 'punching'), 'jab': ('jabs', 'jabbing'),
    'bow': ('bows', 'bowing'), 'throw': ('throws', 'throwing'), 'toss': ('tosses', 'tossing'),
    'shoot': ('shoots', 'shooting'), 'dribble': ('dribbles', 'dribbling'), 'bounce': ('bounces', 'bouncing'),
    'bend': ('bends', 'bending'), 'touch': ('touches', 'touching'), 'reach': ('reaches', 'reaching'),
    'lean': ('leans', 'leaning'), 'twist': ('twists', 'twisting'), 'stretch': ('stretches', 'stretching'),
    'nod': ('nods', 'nodding'), 'shake': ('shakes', 'shaking'), 'hold': ('holds', 'holding'),
    'move': ('moves', 'moving'), 'take': ('takes', 'taking'), 'stay': ('stays', 'staying'),
    'remain': ('remains', 'remaining'), 'go': ('goes', 'going'), 'rise': ('rises', 'rising'),
    'put': ('puts', 'putting'), 'lower': ('lowers', 'lowering'), 'swing': ('swings', 'swinging'),
    'bring': ('brings', 'bringing'), 'perform': ('performs', 'performing'), 'keep': ('keeps', 'keeping'),
}
_NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
            'eleven', 'twelve']
_PLURALS = {'step': 'steps', 'time': 'times', 'arm': 'arms', 'hand': 'hands', 'jump': 'jumps',
            'squat': 'squats', 'kick': 'kicks', 'punch': 'punches', 'circle': 'circles', 'lunge': 'lunges',
            'jack': 'jacks', 'toe': 'toes', 'leg': 'legs', 'knee': 'knees', 'hop': 'hops', 'wave': 'waves',
            'clap': 'claps', 'bend': 'bends', 'twist': 'twists', 'degree': 'degrees', 'ball': 'balls',
            'foot': 'feet', 'side': 'sides'}


def number_word(k: int) -> str:
    return _NUMBERS[k] if 0 <= k < len(_NUMBERS) else str(k)


# -- word constructors ---------------------------------------------------------------------------
def V(lemma: str, form: str) -> Word:
    """A verb in 'base', 's' (3rd person singular) or 'ing' form."""
    s, ing = VERB_FORMS[lemma]
    return Word({'base': lemma, 's': s, 'ing': ing}[form], lemma, 'VERB')


def N(lemma: str, plural: bool = False) -> Word:
    return Word(_PLURALS[lemma] if plural else lemma, lemma, 'NOUN')


def W(text: str, pos: str) -> Word:
    return Word(text, text, pos)


def NUM(k: int) -> Word:
    return W(number_word(k), 'NUM')


def words(spec: str) -> list:
    """``'forward/ADV with/ADP'`` -> Words (lemma = text)."""
    out = []
    for tok in spec.split():
        text, pos = tok.rsplit('/', 1)
        out.append(W(text, pos))
    return out


class _Ctx:
    """Who the caption is about (subject noun phrase and matching possessive)."""

    def __init__(self, rng: np.random.Generator):
        choice = int(rng.integers(0, 6))
        self.subject = [[W('a', 'DET'), N('person')], [W('a', 'DET'), N('man')], [W('a', 'DET'), N('woman')],
                        [W('someone', 'PRON')], [W('the', 'DET'), N('person')], [W('a', 'DET'),
                            N('figure')]][choice]
        self.poss = {1: 'his', 2: 'her'}.get(choice, 'their')
        self.again = {1: [W('he', 'PRON')], 2: [W('she', 'PRON')]}.get(choice, [W('the', 'DET'), N('person')])

    def P(self) -> Word:
        return W(self.poss, 'PRON')


def _count(k: int, noun: str) -> list:
    return [NUM(k), N(noun, plural=k != 1)]


def _times(k: int, rng) -> list:
    if k == 1:
        return [W('once', 'ADV')]
    if k == 2 and rng.random() < 0.5:
        return [W('twice', 'ADV')]
    return [NUM(k), N('time', plural=True)]


def _side_limb(c: _Ctx, side: str, limb: str, rng) -> list:
    """'his left hand' / 'the right leg' / 'both hands'."""
    if side == 'both':
        return [W('both', 'DET'), N(limb, plural=True)]
    det = c.P() if rng.random() < 0.7 else W('the', 'DET')
    return [det, W(side, 'ADJ'), N(limb)]


# -- one verb phrase per primitive ------------------------------------------------------------------
def event_phrase(ev: dict, c: _Ctx, rng: np.random.Generator, form: str) -> list:
    """Words of a verb phrase describing one event (verb in ``form``)."""
    p = ev['params']
    name = ev['primitive']
    pick = lambda *opts: opts[int(rng.integers(0, len(opts)))]  # noqa: E731
    count = int(ev.get('count', 1))
    if name in ('walk', 'jog', 'run'):
        verb = {'walk': pick('walk', 'walk', 'stroll', 'step'), 'jog': pick('jog', 'jog', 'run'),
                'run': pick('run', 'sprint')}[name]
        out = [V(verb, form)]
        out += [W(p['direction'] if p['direction'] == 'forward' or rng.random() < 0.6 else 'backwards', 'ADV')]
        if name == 'walk' and p['speed'] > 1.3 and p['direction'] == 'forward':
            out += [W('quickly', 'ADV')]
        elif name == 'walk' and p['speed'] < 0.9:
            out += [W('slowly', 'ADV')]
        if p['turn']:
            side = 'left' if p['turn'] > 0 else 'right'
            out += [W('and', 'CCONJ'), V('turn', form)]
            if abs(p['turn']) >= 180:
                out += [W('around', 'ADV')]
            else:
                out += [W('to', 'ADP'), W('the', 'DET'), W(side, 'NOUN')]
        return out
    if name == 'side_step':
        return pick([V('step', form), W('sideways', 'ADV'), W('to', 'ADP'), W('the', 'DET'),
                W(p['direction'], 'NOUN')],
                    [V('shuffle', form), W('to', 'ADP'), W('the', 'DET'), W(p['direction'], 'NOUN')],
                    [V('take', form)] + _count(count, 'step') + [W(p['direction'], 'ADV')])
    if name == 'turn':
        deg = int(p['angle'])
        around = [W('around', 'ADV')] if deg >= 180 else []
        return pick([V('turn', form)] + around + [W('to', 'ADP'), W('the', 'DET'), W(p['direction'], 'NOUN')],
                    [V('turn', form), W(p['direction'], 'ADV'), W(str(deg), 'NUM'), N('degree', True)],
                    [V('spin', form)] + around + [W('in', 'ADP'), W('place', 'NOUN')])
    if name == 'march':
        return pick([V('march', form), W('in', 'ADP'), W('place', 'NOUN')],
                    [V('march', form), W('on', 'ADP'), W('the', 'DET'), W('spot', 'NOUN')],
                    [V('lift', form), c.P(), N('knee', True), W('high', 'ADV'), W('in', 'ADP'), W('place',
                        'NOUN')])
    if name == 'step_over':
        return pick([V('step', form), W('over', 'ADP'), W('something', 'PRON')],
                    [V('step', form), W('over', 'ADP'), W('an', 'DET'), W('obstacle', 'NOUN'),
                     W('with', 'ADP')] + _side_limb(c, p['leg'], 'leg', rng) + [W('first', 'ADV')],
                    [V('lift', form)] + _side_limb(c, p['leg'], 'leg', rng) + [W('high', 'ADV'), W('to',
                        'PART'),
                     V('step', 'base'), W('over', 'ADP'), W('something', 'PRON')])
    if name == 'jump':
        fwd = [W('forward', 'ADV')] if p['distance'] > 0 else pick([W('up', 'ADV')], [W('in', 'ADP'),
            W('place', 'NOUN')], [])
        high = [W('high', 'ADV')] if p['height'] > 0.35 else []
        return pick([V('jump', form)] + fwd + high + _times(count, rng),
                    [V('jump', form)] + fwd + _times(count, rng),
                    [V('do', form)] + _count(count, 'jump') + ([W('forward',
                        'ADV')] if p['distance'] > 0 else []))
    if name == 'hop':
        return pick([V('hop', form), W('on', 'ADP')] + _side_limb(c, p['leg'], 'leg', rng) + _times(count, rng),
                    [V('hop', form)] + _times(count, rng) + [W('on', 'ADP'), W('one', 'NUM'), N('leg')],
                    [V('balance', form), W('on', 'ADP')] + _side_limb(c, p['leg'], 'leg', rng) + [W('and',
                        'CCONJ'), V('hop', form)])
    if name == 'jumping_jacks':
        return pick([V('do', form)] + [NUM(count), W('jumping', 'NOUN'), N('jack', count != 1)],
                    [V('perform', form), W('jumping', 'NOUN'), N('jack', True)],
                    [V('jump', form), W('while', 'SCONJ'), V('swing', 'ing'), c.P(), N('arm', True),
                     W('up', 'ADV'), W('and', 'CCONJ'), W('down', 'ADV')])
    if name == 'squat':
        deep = [W('deeply', 'ADV')] if p['depth'] > 100 else []
        return pick([V('squat', form), W('down', 'ADV')] + deep + _times(count, rng),
                    [V('do', form)] + _count(count, 'squat'),
                    [V('crouch', form), W('down', 'ADV'), W('and', 'CCONJ'), V('stand', form), W('up',
                        'ADP')] + (_times(count, rng) if count > 1 else []))
    if name == 'lunge':
        return pick([V('lunge', form), W('forward', 'ADV'), W('with', 'ADP')] + _side_limb(c, p['leg'],
                'leg', rng),
                    [V('do', form)] + _count(count, 'lunge') + [W('with', 'ADP')] + _side_limb(c, p['leg'],
                        'leg', rng) + [W('in', 'ADP'), W('front', 'NOUN')],
                    [V('step', form), W('forward', 'ADV'), W('into', 'ADP'), W('a', 'DET'), W('lunge', 'NOUN')])
    if name == 'kick':
        high = [W('high', 'ADV')] if p['height'] > 70 else []
        return pick([V('kick', form)] + high + [W('with', 'ADP')] + _side_limb(c, p['leg'], 'leg',
                rng) + _times(count, rng),
                    [V('kick', form), W('forward', 'ADV'), W('with', 'ADP')] + _side_limb(c, p['leg'],
                        'foot', rng),
                    [V('do', form)] + _count(count, 'kick') + [W('with', 'ADP')] + _side_limb(c, p['leg'],
                        'leg', rng))
    if name == 'balance':
        return pick([V('balance', form), W('on', 'ADP')] + _side_limb(c, p['leg'], 'leg', rng),
                    [V('stand', form), W('on', 'ADP'), W('one', 'NUM'), N('leg')] + ([W('with', 'ADP'),
                        N('arm', True), W('out', 'ADV')] if p['arms_out'] else []),
                    [V('lift', form), c.P(), W(('left', 'right')[p['leg'] == 'left'], 'ADJ'), N('knee'),
                        W('and', 'CCONJ'), V('balance', form)])
    if name == 'sit_down_stand_up':
        return pick([V('sit', form), W('down', 'ADP'), W('and', 'CCONJ'), V('stand', form), W('back',
                'ADV'), W('up', 'ADP')],
                    [V('sit', form), W('down', 'ADP'), W('on', 'ADP'), W('a', 'DET'), W('chair', 'NOUN'),
                        W('and', 'CCONJ'), V('get', form), W('up', 'ADP')],
                    [V('lower', form), W('into', 'ADP'), W('a', 'DET'), W('seat', 'NOUN'), W('and',
                        'CCONJ'), V('rise', form), W('again', 'ADV')])
    if name == 'wave':
        return pick([V('wave', form)] + _side_limb(c, p['hand'], 'hand', rng) + (_times(count,
                rng) if rng.random() < 0.5 else []),
                    [V('raise', form)] + _side_limb(c, p['hand'], 'hand', rng) + [W('and', 'CCONJ'),
                        V('wave', form)],
                    [V('wave', form), W('hello', 'INTJ'), W('with', 'ADP')] + _side_limb(c, p['hand'],
                        'hand', rng))
    if name == 'raise_arms':
        limb = _side_limb(c, p['arms'], 'arm', rng)
        where = {'forward': [W('forward', 'ADV')], 'side': [W('to', 'ADP'), W('the', 'DET'), N('side', True)],
                 'up': [W('above', 'ADP'), W('the', 'DET'), W('head', 'NOUN')]}[p['direction']]
        return pick([V('raise', form)] + limb + where,
                    [V('lift', form)] + limb + where + [W('and', 'CCONJ'), V('lower', form), W('them',
                        'PRON') if p['arms'] == 'both' else W('it', 'PRON')],
                    [V('hold', form)] + limb + where)
    if name == 'arm_circles':
        limb = _side_limb(c, p['arms'], 'arm', rng)
        return pick([V('circle', form)] + limb + [W(p['direction'], 'ADV')],
                    [V('do', form)] + _count(count, 'circle') + [W('with', 'ADP')] + limb,
                    [V('rotate', form)] + limb + [W('in', 'ADP'), N('circle', True)])
    if name == 'clap':
        where = [W('above', 'ADP'), c.P(), W('head', 'NOUN')] if p['height'] == 'overhead' else []
        return pick([V('clap', form)] + where + _times(count, rng),
                    [V('clap', form), c.P(), N('hand', True)] + where,
                    [V('clap', form)] + _times(count, rng) + where)
    if name == 'punch':
        limb = ([W('with', 'ADP')] + _side_limb(c, p['hand'], 'hand',
            rng)) if p['hand'] != 'alternate' else [W('with', 'ADP'), W('both', 'DET'), N('hand', True)]
        return pick([V('punch', form), W('forward', 'ADV')] + _times(count, rng),
                    [V('punch', form)] + limb,
                    [V('throw', form)] + _count(count, 'punch') + limb)
    if name == 'bow':
        deep = [W('deeply', 'ADV')] if p['depth'] > 55 else []
        return pick([V('bow', form)] + deep, [V('bow', form), W('forward', 'ADV')] + deep,
                    [V('bend', form), W('forward', 'ADV'), W('in', 'ADP'), W('a', 'DET'), W('bow', 'NOUN')])
    if name == 'throw':
        style = [W(p['style'], 'ADV')]
        return pick([V('throw', form), W('a', 'DET'), N('ball')] + style + [W('with',
                'ADP')] + _side_limb(c, p['hand'], 'hand', rng),
                    [V('throw', form), W('something', 'PRON')] + style,
                    [V('toss', form), W('a', 'DET'), N('ball')] + style)
    if name == 'jump_shot':
        return pick([V('shoot', form), W('a', 'DET'), W('basketball', 'NOUN')],
                    [V('jump', form), W('and', 'CCONJ'), V('shoot', form), W('a', 'DET'), N('ball'),
                        W('with', 'ADP')] + _side_limb(c, p['hand'], 'hand', rng),
                    [V('take', form), W('a', 'DET'), W('jump', 'NOUN'), W('shot', 'NOUN')])
    if name == 'dribble':
        move = [W('while', 'SCONJ'), V('walk', 'ing'), W('forward', 'ADV')] if p['steps'] > 0 else []
        return pick([V('dribble', form), W('a', 'DET'), N('ball'), W('with', 'ADP')] + _side_limb(c,
                p['hand'], 'hand', rng) + move,
                    [V('bounce', form), W('a', 'DET'), W('basketball', 'NOUN')] + move,
                    [V('dribble', form)] + move)
    if name == 'stand':
        return pick([V('stand', form), W('still', 'ADV')], [V('stay', form), W('still', 'ADJ')],
                    [V('stand', form), W('in', 'ADP'), W('place', 'NOUN')])
    if name == 'toe_touch':
        return pick([V('bend', form), W('down', 'ADV'), W('to', 'PART'), V('touch', 'base'), c.P(), N('toe',
                True)],
                    [V('touch', form), c.P(), N('toe', True)] + (_times(count, rng) if count > 1 else []),
                    [V('reach', form), W('down', 'ADV'), W('toward', 'ADP'), c.P(), N('foot', True)])
    if name == 'side_bend':
        side = [W('to', 'ADP'), W('the', 'DET'), W(p['side'], 'NOUN')] if p['side'] != 'both' else [W('to',
            'ADP'), W('both', 'DET'), N('side', True)]
        return pick([V('bend', form), W('sideways', 'ADV')] + side,
                    [V('lean', form)] + side + [W('with', 'ADP'), W('an', 'DET'), N('arm'), W('overhead',
                        'ADV')],
                    [V('stretch', form)] + side)
    if name == 'torso_twist':
        return pick([V('twist', form), c.P(), W('torso', 'NOUN'), W('left', 'ADV'), W('and', 'CCONJ'),
                W('right', 'ADV')],
                    [V('rotate', form), c.P(), W('upper', 'ADJ'), W('body', 'NOUN'), W('from', 'ADP'),
                        W('side', 'NOUN'), W('to', 'ADP'), W('side', 'NOUN')],
                    [V('twist', form), W('at', 'ADP'), W('the', 'DET'), W('waist', 'NOUN'), W('with',
                        'ADP'), N('arm', True), W('out', 'ADV')])
    if name == 'stretch_up':
        toes = [W('on', 'ADP'), c.P(), N('toe', True)] if p['tiptoe'] else []
        return pick([V('stretch', form), N('arm', True), W('overhead', 'ADV')] + toes,
                    [V('reach', form), W('up', 'ADV'), W('high', 'ADV')] + toes,
                    [V('raise', form), W('both', 'DET'), N('arm', True), W('up', 'ADV'), W('to', 'PART'),
                        V('stretch', 'base')])
    if name == 'head_gesture':
        if p['kind'] == 'nod':
            return pick([V('nod', form)] + _times(count, rng), [V('nod', form), c.P(), W('head', 'NOUN')],
                        [V('nod', form), W('yes', 'INTJ')])
        return pick([V('shake', form), c.P(), W('head', 'NOUN')], [V('shake', form), c.P(), W('head',
                'NOUN'), W('no', 'INTJ')],
                    [V('shake', form), c.P(), W('head', 'NOUN')] + _times(count, rng))
    raise KeyError(f'no caption grammar for primitive {name!r}')


def caption_for_program(events: list, rng: np.random.Generator) -> list:
    """One paraphrase (list of :class:`Word`, punctuation included as PUNCT) for a program."""
    c = _Ctx(rng)
    subj = c.subject
    vps = [event_phrase(ev, c, rng, 's') for ev in events]
    comma = W(',', 'PUNCT')
    if len(vps) == 1:
        return subj + vps[0]
    style = int(rng.integers(0, 4))
    if len(vps) == 2:
        if style == 0:
            return subj + vps[0] + [comma, W('then', 'ADV')] + vps[1]
        if style == 1:
            return [W('first', 'ADV')] + subj + vps[0] + [comma, W('then', 'ADV')] + vps[1]
        if style == 2:
            return subj + vps[0] + [W('and', 'CCONJ'), W('then', 'ADV')] + vps[1]
        return subj + vps[0] + [comma, W('after', 'ADP'), W('that', 'PRON'), comma] + c.again + vps[1]
    out = ([W('first', 'ADV')] if style in (0, 1) else []) + subj + vps[0]
    for k, vp in enumerate(vps[1:], start=1):
        last = k == len(vps) - 1
        if last:
            out += [comma, W('and', 'CCONJ'), W('finally', 'ADV')] + vp if style != 3 else \
                [comma, W('finally', 'ADV'), comma] + c.again + vp
        elif style == 1:
            out += [comma, W('after', 'ADP'), W('that', 'PRON'), comma] + c.again + vp
        else:
            out += [comma, W('then', 'ADV')] + vp
    return out


def format_caption_line(ws: list, start: float = 0.0, end: float = 0.0) -> str:
    """HumanML3D text line: ``caption#lemma/POS ...#start#end`` (no punctuation tokens)."""
    text = ''
    for w in ws:
        if w.pos == 'PUNCT':
            text += w.text
        else:
            text += (' ' if text else '') + w.text
    text = text.strip() + '.'
    tokens = ' '.join(f'{w.lemma.lower()}/{w.pos}' for w in ws if w.pos != 'PUNCT')
    return f'{text}#{tokens}#{start}#{end}'
