import re

import numpy as np

from motionkit.synthmotion import ClassDistribution
from motionkit.synthmotion.captions import UPOS_TAGS, VERB_FORMS

_IRREGULAR = {'feet': 'foot', 'does': 'do', 'goes': 'go', 'times': 'time'}


def _lemma_ok(word: str, lemma: str) -> bool:
    """An independent check that ``lemma`` is the dictionary form of ``word``."""
    if word == lemma or _IRREGULAR.get(word) == lemma:
        return True
    if lemma in VERB_FORMS and word in VERB_FORMS[lemma]:
        return True
    for suf in ('s', 'es'):
        if word == lemma + suf:
            return True
    if word.endswith('ing') and (word[:-3] == lemma or word[:-3] + 'e' == lemma or word[:-4] == lemma):
        return True
    return False


def test_caption_lines_match_words(synth_items):
    for it in synth_items:
        assert len(it.captions) == 3
        assert len(set(it.captions)) >= 2  # paraphrases differ
        for line in it.captions:
            caption, tokens, start, end = line.split('#')
            assert (start, end) == ('0.0', '0.0')
            words = re.findall(r"[a-z0-9]+", caption.lower())
            toks = [t.rsplit('/', 1) for t in tokens.split(' ')]
            assert len(words) == len(toks), line
            for w, (lemma, pos) in zip(words, toks):
                assert pos in UPOS_TAGS, line
                assert _lemma_ok(w, lemma), (w, lemma, line)
                if w in ('a', 'an', 'the'):
                    assert pos == 'DET'
                if w in ('and',):
                    assert pos == 'CCONJ'
                if lemma in VERB_FORMS and w != lemma + 's' and pos == 'VERB':
                    assert w in VERB_FORMS[lemma] or w == lemma


def test_multi_event_captions_use_order_words(synth_items):
    multi = [it for it in synth_items if len(it.motion.events) > 1]
    assert len(multi) > 30
    order = ('then', 'after that', 'finally', 'first')
    for it in multi:
        for line in it.captions:
            assert any(o in line.split('#')[0] for o in order), line


def test_long_tail_class_distribution(synth_items):
    dist = ClassDistribution('long_tail', imbalance_ratio=20.0)
    w = dist.weights
    assert np.isclose(w.max() / w.min(), 20.0)
    tiers = [dist.tiers[c] for c in dist.classes]
    assert {'head', 'medium', 'tail'} == set(tiers)
    # sampled programs follow the weights: head classes are far more frequent than tail ones
    counts = {c: 0 for c in dist.classes}
    for it in synth_items:
        for lab in it.labels:
            counts[lab] += 1
    head = sum(counts[c] for c in dist.classes if dist.tiers[c] == 'head')
    tail = sum(counts[c] for c in dist.classes if dist.tiers[c] == 'tail')
    assert head > 3 * tail
    uni = ClassDistribution('uniform')
    assert np.allclose(uni.weights, 1 / len(uni.classes))


def test_labels_are_the_program_primitives(synth_items):
    for it in synth_items:
        assert it.labels == sorted({e['primitive'] for e in it.motion.events})
