"""Text-generation metrics: BLEU, ROUGE, METEOR, CIDEr, as the published evaluation scripts run them.

Every function takes ``predictions`` (one string per sample) and ``references`` (one string or a
list of strings per sample) and returns plain floats in ``[0, 1]`` (CIDEr: ``[0, 10]``). The
reference implementations do the scoring; this module only pins *which* implementation, which
tokenisation and which averaging each protocol uses, because they give different numbers:

================  ==========================================================================
variant           what it computes (and who reports it)
================  ==========================================================================
``sacrebleu``     corpus BLEU of sacrebleu (13a tokeniser, brevity penalty over the corpus)
``nltk``          nltk ``sentence_bleu`` / ``corpus_bleu`` on whitespace tokens with a smoothing
                  function: CigTime (sentence level, method1), ExpertAF (corpus level, method4)
``coco``          coco-caption (pycocoevalcap) on PTB-tokenised lower-cased text: captioning
                  papers (BLEU "closest" ref length, METEOR 1.5 jar, ROUGE-L beta=1.2, CIDEr-D)
================  ==========================================================================

Sources (read for the protocol, not copied): CigTime ``scripts/text_eval.py``
(github.com/qhFang/CigTime): ``sentence_bleu([gt.split()], pred.split(), smoothing_function=
SmoothingFunction().method1)`` averaged over pairs, ROUGE-1 F of the ``rouge`` package (0 for an
empty prediction), nltk ``meteor_score([gt.split()], pred.split())`` averaged, and the cosine of
CLIP text embeddings (see :mod:`.text_similarity`). ExpertAF ``llava/eval/calculate_generation_
metrics.py`` (github.com/thechargedneutron/ExpertAF): nltk ``corpus_bleu`` with method4 on
whitespace tokens, ``rouge`` package ROUGE-1/2/L F averaged, pycocoevalcap ``Cider`` on the raw
strings, nltk ``meteor_score`` averaged.
"""
from __future__ import annotations

import atexit
import os
import threading
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from motionkit.utils.text import normalize_text  # noqa: F401  (re-exported)

References = Sequence[Union[str, Sequence[str]]]

__all__ = ['bleu', 'rouge', 'meteor', 'cider', 'ptb_tokenize', 'check_text_pairs', 'normalize_text']


# ----------------------------------------------------------------------------- input checks
def check_text_pairs(predictions: Sequence[str], references: References,
                     name: str = 'text metric') -> Tuple[List[str], List[List[str]]]:
    """Validate and normalise ``predictions`` / ``references``.

    Returns:
        ``(preds, refs)`` with ``preds`` a list of str and ``refs`` a list of non-empty lists of
        str (a single reference string becomes a one-element list).

    Raises:
        ValueError: no predictions, different counts, or a sample without any reference.
        TypeError: a prediction or reference that is not a string.
    """
    if isinstance(predictions, str) or isinstance(references, str):
        raise TypeError(f'{name}: predictions and references must be sequences of samples, '
                        'not a single string (wrap it in a list)')
    preds = list(predictions)
    refs_in = list(references)
    if not preds:
        raise ValueError(f'{name}: got no predictions')
    if len(preds) != len(refs_in):
        raise ValueError(f'{name}: {len(preds)} predictions but {len(refs_in)} references')
    refs: List[List[str]] = []
    for i, (p, r) in enumerate(zip(preds, refs_in)):
        if not isinstance(p, str):
            raise TypeError(f'{name}: prediction {i} is {type(p).__name__}, expected str')
        r = [r] if isinstance(r, str) else list(r)
        if not r:
            raise ValueError(f'{name}: sample {i} has no reference text')
        if not all(isinstance(x, str) for x in r):
            raise TypeError(f'{name}: references of sample {i} must be str, got {r!r}')
        refs.append(r)
    return preds, refs


def _check_max_order(max_order: int) -> None:
    if not isinstance(max_order, int) or not 1 <= max_order <= 4:
        raise ValueError(f'max_order must be an int in 1..4, got {max_order!r}')


# ----------------------------------------------------------------------------- tokenisation
def ptb_tokenize(texts: Sequence[str]) -> List[str]:
    """coco-caption tokenisation: Stanford PTBTokenizer (Java), lower case, punctuation removed.

    Args:
        texts: ``N`` strings.

    Returns:
        ``N`` strings of space-separated tokens.
    """
    tokenizer_cls = _import_pycocoevalcap('tokenizer.ptbtokenizer', 'PTBTokenizer')
    _check_java()
    data = {i: [{'caption': t}] for i, t in enumerate(texts)}
    out = tokenizer_cls().tokenize(data)
    return [out[i][0] for i in range(len(texts))]


def _ptb_pairs(preds: List[str], refs: List[List[str]]) -> Tuple[List[str], List[List[str]]]:
    flat = preds + [r for rs in refs for r in rs]
    tok = ptb_tokenize(flat)
    out_preds, pos = tok[:len(preds)], len(preds)
    out_refs = []
    for rs in refs:
        out_refs.append(tok[pos:pos + len(rs)])
        pos += len(rs)
    return out_preds, out_refs


def _import_pycocoevalcap(module: str, name: str):
    try:
        import importlib
        mod = importlib.import_module(f'pycocoevalcap.{module}')
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('this metric needs pycocoevalcap: pip install pycocoevalcap==1.2') from e
    return getattr(mod, name)


def _check_java() -> None:
    import shutil
    if shutil.which('java') is None:
        raise RuntimeError('coco-caption METEOR / PTB tokenisation need a Java runtime on PATH '
                           '(e.g. apt-get install -y default-jre-headless)')


# ----------------------------------------------------------------------------- BLEU
def bleu(predictions: Sequence[str],
         references: References,
         max_order: int = 4,
         backend: str = 'sacrebleu',
         level: str = 'corpus',
         smoothing: Optional[str] = None,
         tokenize: str = '13a',
         lowercase: bool = False) -> Dict[str, float]:
    """BLEU-1..``max_order`` in ``[0, 1]``.

    Args:
        predictions: ``N`` generated texts.
        references: ``N`` reference texts (or lists of texts).
        max_order: highest n-gram order; BLEU-n uses uniform weights ``1/n`` over orders 1..n.
        backend: ``'sacrebleu'`` (its tokeniser ``tokenize``), ``'nltk'`` (whitespace tokens,
            case-sensitive, as CigTime / ExpertAF) or ``'coco'`` (pycocoevalcap on PTB tokens).
        level: ``'corpus'`` (one BLEU over the corpus) or ``'sentence'`` (mean of sentence BLEU).
            ``'coco'`` is corpus level only.
        smoothing: nltk: name of a ``SmoothingFunction`` method (``'method1'`` CigTime,
            ``'method4'`` ExpertAF; ``None`` = method0, no smoothing). sacrebleu: its
            ``smooth_method`` (default ``'exp'``).
        tokenize: sacrebleu tokeniser name.
        lowercase: sacrebleu only.

    Returns:
        ``{'bleu_1': ..., ..., 'bleu_<max_order>': ...}``.
    """
    _check_max_order(max_order)
    preds, refs = check_text_pairs(predictions, references, 'bleu')
    if level not in ('corpus', 'sentence'):
        raise ValueError(f"level must be 'corpus' or 'sentence', got {level!r}")
    if backend == 'sacrebleu':
        return _bleu_sacrebleu(preds, refs, max_order, level, smoothing, tokenize, lowercase)
    if backend == 'nltk':
        return _bleu_nltk(preds, refs, max_order, level, smoothing)
    if backend == 'coco':
        if level != 'corpus':
            raise ValueError("backend='coco' computes corpus BLEU only (level='corpus')")
        bleu_cls = _import_pycocoevalcap('bleu.bleu', 'Bleu')
        tp, tr = _ptb_pairs(preds, refs)
        gts = {i: r for i, r in enumerate(tr)}
        res = {i: [p] for i, p in enumerate(tp)}
        score, _ = bleu_cls(max_order).compute_score(gts, res, verbose=0)
        return {f'bleu_{n + 1}': float(s) for n, s in enumerate(score)}
    raise ValueError(f"backend must be 'sacrebleu', 'nltk' or 'coco', got {backend!r}")


def _bleu_sacrebleu(preds, refs, max_order, level, smoothing, tokenize, lowercase):
    try:
        from sacrebleu.metrics import BLEU
    except ImportError as e:  # pragma: no cover
        raise ImportError('bleu(backend="sacrebleu") needs sacrebleu: pip install sacrebleu') from e
    smooth = smoothing or 'exp'
    n_refs = max(len(r) for r in refs)
    # sacrebleu wants reference *streams*; samples with fewer references pad with None.
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n_refs)]
    out = {}
    for n in range(1, max_order + 1):
        if level == 'corpus':
            metric = BLEU(max_ngram_order=n, smooth_method=smooth, tokenize=tokenize,
                          lowercase=lowercase)
            out[f'bleu_{n}'] = metric.corpus_score(preds, streams).score / 100.0
        else:
            metric = BLEU(max_ngram_order=n, smooth_method=smooth, tokenize=tokenize,
                          lowercase=lowercase, effective_order=True)
            scores = [metric.sentence_score(p, r).score for p, r in zip(preds, refs)]
            out[f'bleu_{n}'] = float(np.mean(scores)) / 100.0
    return out


def _bleu_nltk(preds, refs, max_order, level, smoothing):
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu
    method = smoothing or 'method0'
    smooth = getattr(SmoothingFunction(), method, None)
    if smooth is None or not method.startswith('method'):
        raise ValueError(f"nltk smoothing must be 'method0'..'method7', got {smoothing!r}")
    hyp_tok = [p.split() for p in preds]
    ref_tok = [[r.split() for r in rs] for rs in refs]
    out = {}
    with warnings.catch_warnings():
        # nltk warns (and returns 0) for hypotheses without higher-order matches when unsmoothed.
        warnings.simplefilter('ignore', UserWarning)
        for n in range(1, max_order + 1):
            weights = tuple([1.0 / n] * n)
            if level == 'corpus':
                out[f'bleu_{n}'] = float(
                    corpus_bleu(ref_tok, hyp_tok, weights=weights, smoothing_function=smooth))
            else:
                out[f'bleu_{n}'] = float(np.mean([
                    sentence_bleu(r, h, weights=weights, smoothing_function=smooth)
                    for r, h in zip(ref_tok, hyp_tok)
                ]))
    return out


# ----------------------------------------------------------------------------- ROUGE
def rouge(predictions: Sequence[str],
          references: References,
          backend: str = 'rouge-score',
          use_stemmer: bool = False) -> Dict[str, float]:
    """ROUGE F-scores averaged over samples.

    Args:
        predictions: ``N`` generated texts.
        references: ``N`` reference texts (or lists of texts).
        backend: ``'rouge-score'`` (Google's package: ROUGE-1/2/L F1, lower-cased alphanumeric
            tokens, best reference per sample), ``'pltrdy'`` (the ``rouge`` package that CigTime
            and ExpertAF call: case-sensitive whitespace tokens, sentences split on ``'.'``,
            *unique* n-gram overlap, summary-level ROUGE-L; first reference only; an empty
            prediction scores 0 as in CigTime) or ``'coco'`` (pycocoevalcap ROUGE-L on PTB tokens,
            F-measure with beta=1.2, not F1; returns ``rouge_l`` only).
        use_stemmer: Porter stemming, ``rouge-score`` only.

    Returns:
        ``{'rouge_1', 'rouge_2', 'rouge_l'}`` (``'coco'``: ``{'rouge_l'}``).
    """
    preds, refs = check_text_pairs(predictions, references, 'rouge')
    if backend == 'rouge-score':
        try:
            from rouge_score import rouge_scorer
        except ImportError as e:  # pragma: no cover
            raise ImportError('rouge(backend="rouge-score") needs rouge-score: '
                              'pip install rouge-score') from e
        scorer = rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=use_stemmer)
        totals = {'rouge1': 0.0, 'rouge2': 0.0, 'rougeL': 0.0}
        for p, rs in zip(preds, refs):
            s = scorer.score_multi(rs, p)
            for k in totals:
                totals[k] += s[k].fmeasure
        n = len(preds)
        return {'rouge_1': totals['rouge1'] / n, 'rouge_2': totals['rouge2'] / n,
                'rouge_l': totals['rougeL'] / n}
    if backend == 'pltrdy':
        try:
            from rouge import Rouge
        except ImportError as e:  # pragma: no cover
            raise ImportError('rouge(backend="pltrdy") needs the `rouge` package: '
                              'pip install rouge==1.0.1') from e
        scorer = Rouge()
        totals = {'rouge-1': 0.0, 'rouge-2': 0.0, 'rouge-l': 0.0}
        for p, rs in zip(preds, refs):
            p, r = p.strip(), rs[0].strip()
            # The package raises on texts without any token (after splitting on '.'); CigTime
            # scores an empty prediction 0, and an empty reference can only score 0 too.
            if not p.replace('.', '').strip() or not r.replace('.', '').strip():
                continue
            s = scorer.get_scores(p, r)[0]
            for k in totals:
                totals[k] += s[k]['f']
        n = len(preds)
        return {'rouge_1': totals['rouge-1'] / n, 'rouge_2': totals['rouge-2'] / n,
                'rouge_l': totals['rouge-l'] / n}
    if backend == 'coco':
        rouge_cls = _import_pycocoevalcap('rouge.rouge', 'Rouge')
        tp, tr = _ptb_pairs(preds, refs)
        score, _ = rouge_cls().compute_score({i: r for i, r in enumerate(tr)},
                                             {i: [p] for i, p in enumerate(tp)})
        return {'rouge_l': float(score)}
    raise ValueError(f"backend must be 'rouge-score', 'pltrdy' or 'coco', got {backend!r}")


# ----------------------------------------------------------------------------- METEOR
def _ensure_wordnet(nltk_data: Optional[str]) -> None:
    import nltk
    paths = [nltk_data] if nltk_data else []
    paths += [p for p in os.environ.get('MOTIONKIT_NLTK_DATA', '').split(os.pathsep) if p]
    for p in reversed(paths):
        if p not in nltk.data.path:
            # NLTK >= 3.9 only opens files under its data path, so the directory is registered.
            nltk.data.path.insert(0, p)
    try:
        nltk.data.find('corpora/wordnet')
    except LookupError as e:
        raise LookupError(
            'METEOR (nltk) needs WordNet 3.0 under an NLTK data directory. Offline: '
            '`apt-get install -y wordnet-base wordnet-sense-index && python '
            'tools/misc/prepare_wordnet.py --out ~/nltk_data`, then pass nltk_data= or set '
            f'NLTK_DATA. Searched: {list(nltk.data.path)}') from e


def meteor(predictions: Sequence[str],
           references: References,
           variant: str = 'nltk',
           nltk_data: Optional[str] = None,
           ptb: bool = True) -> float:
    """METEOR in ``[0, 1]``; the two published variants give different numbers.

    Args:
        predictions: ``N`` generated texts.
        references: ``N`` reference texts (or lists of texts).
        variant: ``'nltk'``: mean over samples of nltk ``meteor_score`` on whitespace tokens
            (alpha=0.9, beta=3, gamma=0.5, Porter stems + WordNet 3.0 synonyms; CigTime and
            ExpertAF code). ``'coco'``: METEOR 1.5 jar of coco-caption (``-l en -norm``, with its
            paraphrase table) through Java; the corpus score the jar aggregates from all
            sentence statistics (captioning papers).
        nltk_data: directory holding ``corpora/wordnet`` (see ``tools/misc/prepare_wordnet.py``);
            default: ``NLTK_DATA`` / ``MOTIONKIT_NLTK_DATA`` / nltk's default search path.
        ptb: ``'coco'`` only: PTB-tokenise first, as coco-caption's evaluation does.
    """
    preds, refs = check_text_pairs(predictions, references, 'meteor')
    if variant == 'nltk':
        _ensure_wordnet(nltk_data)
        from nltk.translate.meteor_score import meteor_score
        with warnings.catch_warnings():
            # "multilingual functions are not available": irrelevant for English METEOR.
            warnings.simplefilter('ignore', UserWarning)
            scores = [meteor_score([r.split() for r in rs], p.split())
                      for p, rs in zip(preds, refs)]
        return float(np.mean(scores))
    if variant == 'coco':
        if ptb:
            preds, refs = _ptb_pairs(preds, refs)
        scorer = _coco_meteor()
        with _COCO_METEOR_LOCK:
            score, _ = scorer.compute_score({i: r for i, r in enumerate(refs)},
                                            {i: [p] for i, p in enumerate(preds)})
        return float(score)
    raise ValueError(f"variant must be 'nltk' or 'coco', got {variant!r}")


_COCO_METEOR = None
_COCO_METEOR_LOCK = threading.Lock()


def _coco_meteor():
    """One METEOR 1.5 JVM per process (start-up loads the paraphrase table, ~7 s)."""
    global _COCO_METEOR
    if _COCO_METEOR is None:
        _check_java()
        meteor_cls = _import_pycocoevalcap('meteor.meteor', 'Meteor')
        _COCO_METEOR = meteor_cls()
        atexit.register(_close_coco_meteor)
    return _COCO_METEOR


def _close_coco_meteor() -> None:
    global _COCO_METEOR
    scorer, _COCO_METEOR = _COCO_METEOR, None
    if scorer is not None:
        try:
            scorer.meteor_p.stdin.close()
            scorer.meteor_p.kill()
            scorer.meteor_p.wait(timeout=5)
        except Exception:  # pragma: no cover - best effort at exit
            pass


# ----------------------------------------------------------------------------- CIDEr
def cider(predictions: Sequence[str], references: References, ptb: bool = False) -> float:
    """CIDEr-D of coco-caption (pycocoevalcap ``Cider``: n=1..4, sigma=6, x10 scale, document
    frequencies from the references of the evaluated set), mean over samples.

    Args:
        predictions: ``N`` generated texts.
        references: ``N`` reference texts (or lists of texts).
        ptb: PTB-tokenise first (coco-caption pipeline). ExpertAF scores the raw strings
            (``ptb=False``): then tokens are whitespace-split and case-sensitive.
    """
    preds, refs = check_text_pairs(predictions, references, 'cider')
    if ptb:
        preds, refs = _ptb_pairs(preds, refs)
    cider_cls = _import_pycocoevalcap('cider.cider', 'Cider')
    score, _ = cider_cls().compute_score({i: r for i, r in enumerate(refs)},
                                         {i: [p] for i, p in enumerate(preds)})
    return float(score)
