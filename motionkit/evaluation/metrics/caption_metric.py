"""Text-generation metric (captions, corrective instructions, feedback) with published presets."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from mmengine.evaluator import BaseMetric

from motionkit.registry import METRICS, MODELS
from motionkit.structures.edit_request import parse_body_part
from ..functional import bleu, cider, meteor, rouge, text_embedding_similarity
from ._fields import get_field
from ._presets import resolve_preset

_UNSET = object()

# Which implementation, tokenisation and averaging each paper's evaluation script uses.
# ``None`` disables a metric. Values are keyword arguments of the functional metric.
CAPTION_PRESETS: Dict[str, Dict[str, Any]] = {
    # CigTime (qhFang/CigTime, scripts/text_eval.py): per-pair nltk sentence_bleu on whitespace
    # tokens with SmoothingFunction().method1 (the paper reports BLEU-4), `rouge` package ROUGE-1 F
    # (printed as ROUGE; 0 for an empty prediction), nltk meteor_score with WordNet, and
    # "CLIP score" = cosine of CLIP ViT-B/32 text embeddings (here: the pluggable text encoder).
    'cigtime': dict(
        bleu=dict(backend='nltk', level='sentence', smoothing='method1'),
        rouge=dict(backend='pltrdy'),
        meteor=dict(variant='nltk'),
        cider=None,
        text_similarity=True),
    # ExpertAF (thechargedneutron/ExpertAF, llava/eval/calculate_generation_metrics.py): nltk
    # corpus_bleu with method4 on whitespace tokens, `rouge` package ROUGE-1/2/L F averaged,
    # pycocoevalcap Cider on the raw strings, nltk meteor_score averaged.
    'expertaf': dict(
        bleu=dict(backend='nltk', level='corpus', smoothing='method4'),
        rouge=dict(backend='pltrdy'),
        meteor=dict(variant='nltk'),
        cider=dict(ptb=False),
        text_similarity=False),
    # coco-caption pipeline (pycocoevalcap): PTB tokens, BLEU-1..4, METEOR 1.5 (Java), ROUGE-L
    # (beta 1.2), CIDEr-D -- what motion-captioning papers report.
    'coco': dict(
        bleu=dict(backend='coco'),
        rouge=dict(backend='coco'),
        meteor=dict(variant='coco'),
        cider=dict(ptb=True),
        text_similarity=False),
    # Library defaults needing no Java, WordNet or weights: sacrebleu corpus BLEU, rouge-score F1.
    'default': dict(
        bleu=dict(backend='sacrebleu', level='corpus'),
        rouge=dict(backend='rouge-score'),
        meteor=None,
        cider=None,
        text_similarity=False),
}


@METRICS.register_module()
class CaptionMetric(BaseMetric):
    """BLEU / ROUGE / METEOR / CIDEr / text-embedding similarity of generated text.

    Args:
        preset: a key of :data:`CAPTION_PRESETS` (``'cigtime'``, ``'expertaf'``, ``'coco'``,
            ``'default'``).
        bleu, rouge, meteor, cider: override the preset's keyword arguments for that metric
            (a dict) or disable it (``None``).
        text_similarity: override whether the text-embedding cosine is computed.
        text_encoder: callable ``list[str] -> (N, D)``, or a config dict built from ``MODELS``;
            default: offline all-MiniLM-L6-v2 (see :mod:`..functional.text_similarity`).
        pred_key: field of the generated text. gt_keys: fields with the reference(s), first found.
        nltk_data: directory holding WordNet for METEOR (nltk).
        strip_body_part: score the text after a leading "Upper body:" / "Lower body:" /
            "Whole body:" (prediction and references): the opening is two words every right-part
            instruction shares, which would lift every n-gram score; whether the part is right is
            reported by the reconstruction and operator metrics instead.

    Output keys (prefix ``caption``): ``bleu_1..4``, ``rouge_1``, ``rouge_2``, ``rouge_l``,
    ``meteor``, ``cider``, ``text_sim``.
    """

    default_prefix = 'caption'

    def __init__(self,
                 preset: str = 'default',
                 bleu: Any = _UNSET,
                 rouge: Any = _UNSET,
                 meteor: Any = _UNSET,
                 cider: Any = _UNSET,
                 text_similarity: Any = _UNSET,
                 text_encoder: Optional[Union[Callable, dict]] = None,
                 pred_key: str = 'pred_text',
                 gt_keys: Sequence[str] = ('gt_texts', 'gt_text'),
                 nltk_data: Optional[str] = None,
                 strip_body_part: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.preset = preset
        self.cfg = resolve_preset('caption', CAPTION_PRESETS, preset, {
            name: value for name, value in (('bleu', bleu), ('rouge', rouge), ('meteor', meteor),
                                            ('cider', cider), ('text_similarity', text_similarity))
            if value is not _UNSET})
        if isinstance(text_encoder, dict):
            text_encoder = MODELS.build(text_encoder)
        self.text_encoder = text_encoder
        self.pred_key = pred_key
        self.gt_keys = list(gt_keys)
        self.nltk_data = nltk_data
        self.strip_body_part = bool(strip_body_part)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = get_field(sample, self.pred_key, 'CaptionMetric')
            refs = get_field(sample, self.gt_keys, 'CaptionMetric')
            if not isinstance(pred, str):
                raise TypeError(f'CaptionMetric: {self.pred_key} must be a str, got '
                                f'{type(pred).__name__}')
            refs = [refs] if isinstance(refs, str) else [str(r) for r in refs]
            if self.strip_body_part:
                pred = parse_body_part(pred)[1]
                refs = [parse_body_part(r)[1] for r in refs]
            self.results.append((pred, refs))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('CaptionMetric: no predictions were collected')
        preds = [p for p, _ in results]
        refs = [r for _, r in results]
        cfg = self.cfg
        out: Dict[str, float] = {}
        if cfg.get('bleu') is not None:
            out.update(bleu(preds, refs, **cfg['bleu']))
        if cfg.get('rouge') is not None:
            out.update(rouge(preds, refs, **cfg['rouge']))
        if cfg.get('meteor') is not None:
            kwargs = dict(cfg['meteor'])
            if kwargs.get('variant', 'nltk') == 'nltk':
                kwargs.setdefault('nltk_data', self.nltk_data)
            out['meteor'] = meteor(preds, refs, **kwargs)
        if cfg.get('cider') is not None:
            out['cider'] = cider(preds, refs, **cfg['cider'])
        if cfg.get('text_similarity'):
            out['text_sim'] = text_embedding_similarity(preds, refs, encoder=self.text_encoder)
        return out
