"""Per-sample processing transforms: caption sampling, cropping, normalisation, mirroring.

The caption and cropping rules reproduce the text-to-motion loader of Guo et al. (CVPR 2022,
``Text2MotionDatasetV2`` in EricGuo5513/text-to-motion, reused by MDM, T2M-GPT, MotionGPT, ...),
which every published HumanML3D / KIT-ML number is computed with.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

import numpy as np

from motionkit.motion.statistics import load_mean_std
from motionkit.registry import TRANSFORMS
from .base import BaseTransform

__all__ = ['SampleCaption', 'CropMotion', 'NormalizeMotion', 'MirrorMotion', 'pad_caption_tokens',
           'unit_length_crop_size', 'load_mean_std', 'swap_left_right_words']


def pad_caption_tokens(tokens: Sequence[str], max_text_len: int = 20) -> tuple:
    """Add ``sos``/``eos`` and pad with ``unk`` (or crop) as the T2M evaluator expects.

    Captions shorter than ``max_text_len`` become ``[sos] + tokens + [eos]`` padded with
    ``unk/OTHER`` to ``max_text_len + 2``; longer ones are cut to ``max_text_len`` tokens first.

    Returns:
        ``(tokens, sent_len)``: ``max_text_len + 2`` tokens and the number before the padding.
    """
    tokens = list(tokens)
    if len(tokens) < max_text_len:
        tokens = ['sos/OTHER'] + tokens + ['eos/OTHER']
        sent_len = len(tokens)
        tokens = tokens + ['unk/OTHER'] * (max_text_len + 2 - sent_len)
    else:
        tokens = ['sos/OTHER'] + tokens[:max_text_len] + ['eos/OTHER']
        sent_len = len(tokens)
    return tokens, sent_len


def unit_length_crop_size(length: int, unit_length: int, coin: str) -> int:
    """Crop size of the T2M unit-length rule: a multiple of ``unit_length`` not above ``length``.

    ``coin='single'`` keeps ``(length // unit) * unit`` frames; ``'double'`` one unit fewer, which
    is how Text2MotionDatasetV2 introduces small length variations.
    """
    if length < unit_length:
        raise ValueError(f'cannot crop a {length}-frame motion to a multiple of '
                         f'unit_length={unit_length}')
    units = length // unit_length
    if coin == 'double' and units > 1:
        units -= 1
    elif coin not in ('single', 'double'):
        raise ValueError(f"coin must be 'single' or 'double', got {coin!r}")
    return units * unit_length


@TRANSFORMS.register_module()
class SampleCaption(BaseTransform):
    """Pick one caption of the sample.

    Required keys: ``texts`` (list of dicts with ``caption`` and ``tokens``).
    Added keys: ``text`` (str), ``tokens`` (list[str]), ``sent_len`` (int), ``captions`` (every
    caption, list[str]), ``caption_index``.

    Args:
        test_mode: Take caption ``caption_index`` instead of a random one (deterministic).
        caption_index: Caption used in test mode (clipped to the number of captions).
        max_text_len: Pad/crop the ``word/POS`` tokens to ``max_text_len + 2`` with sos/eos/unk as
            the T2M evaluator expects (20 in the protocol); ``None`` keeps the raw tokens.
    """

    def __init__(self, test_mode: bool = False, caption_index: int = 0,
                 max_text_len: Optional[int] = 20) -> None:
        if max_text_len is not None and max_text_len < 1:
            raise ValueError(f'max_text_len must be >= 1 or None, got {max_text_len}')
        self.test_mode = test_mode
        self.caption_index = caption_index
        self.max_text_len = max_text_len

    def transform(self, results: dict) -> dict:
        texts = results.get('texts')
        if not texts:
            raise ValueError(
                f'SampleCaption: sample {results.get("sample_id", "?")!r} '
                f'({results.get("text_path") or results.get("motion_path", "?")}) has no captions; '
                'build the dataset with texts, or drop SampleCaption from the pipeline')
        if self.test_mode:
            index = min(self.caption_index, len(texts) - 1)
        else:
            index = int(np.random.randint(len(texts)))
        chosen = texts[index]
        tokens = list(chosen.get('tokens', []))
        sent_len = len(tokens)
        if self.max_text_len is not None:
            tokens, sent_len = pad_caption_tokens(tokens, self.max_text_len)
        results['text'] = chosen['caption']
        results['tokens'] = tokens
        results['sent_len'] = sent_len
        results['captions'] = [t['caption'] for t in texts]
        results['caption_index'] = index
        return results


@TRANSFORMS.register_module()
class CropMotion(BaseTransform):
    """Crop the motion (and joints) in time: T2M unit-length rule, then a maximum length.

    Following Text2MotionDatasetV2, the length is first cut to a multiple of ``unit_length``:
    with ``unit_length < 10`` a coin picks 'single' (prob. 2/3, ``(T // u) * u`` frames) or
    'double' (prob. 1/3, one unit fewer); the window start is uniform over the valid offsets.
    A motion still longer than ``max_length`` is then cut to a random ``max_length`` window.

    Required keys: ``motion`` and/or ``joints`` (the ``keys`` argument).
    Updated keys: those arrays, ``length``. Added: ``crop_start`` (offset within the loaded window).

    Args:
        max_length: Longest output, in frames (196 in the HumanML3D protocol); ``None`` = no limit.
        unit_length: Output lengths are multiples of it (4 in the protocol); ``None`` or 1 skips
            the unit rule.
        test_mode: Deterministic: always 'single' and a window starting at frame 0. Note that the
            published T2M evaluation keeps the random rule at test time (with fixed seeds and
            repeated runs); use ``test_mode=False`` to reproduce those numbers.
        keys: Arrays to crop with the same window.
    """

    def __init__(self, max_length: Optional[int] = 196, unit_length: Optional[int] = 4,
                 test_mode: bool = False, keys: Sequence[str] = ('motion', 'joints')) -> None:
        if max_length is not None and max_length < 1:
            raise ValueError(f'max_length must be >= 1 or None, got {max_length}')
        if unit_length is not None and unit_length < 1:
            raise ValueError(f'unit_length must be >= 1 or None, got {unit_length}')
        self.max_length = max_length
        self.unit_length = unit_length
        self.test_mode = test_mode
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        present = [k for k in self.keys if k in results]
        if not present:
            raise KeyError(f'CropMotion: none of {self.keys} in the results of sample '
                           f'{results.get("sample_id", "?")!r}')
        length = len(results[present[0]])
        for key in present[1:]:
            if len(results[key]) != length:
                raise ValueError(f'CropMotion: {present[0]} has {length} frames but {key} has '
                                 f'{len(results[key])} (sample {results.get("sample_id", "?")!r})')
        size = length
        if self.unit_length is not None and self.unit_length > 1:
            if self.test_mode or self.unit_length >= 10:
                coin = 'single'
            else:
                # 'single' twice, 'double' once, as in Text2MotionDatasetV2.
                coin = ('single', 'single', 'double')[np.random.randint(3)]
            try:
                size = unit_length_crop_size(length, self.unit_length, coin)
            except ValueError as err:
                raise ValueError(f'CropMotion: sample {results.get("sample_id", "?")!r}: '
                                 f'{err}') from None
        if self.max_length is not None and size > self.max_length:
            size = self.max_length
        start = 0 if self.test_mode else int(np.random.randint(length - size + 1))
        for key in present:
            results[key] = results[key][start:start + size]
        results['length'] = size
        results['crop_start'] = int(results.get('crop_start', 0)) + start
        return results


@TRANSFORMS.register_module()
class NormalizeMotion(BaseTransform):
    """Z-normalise motion features: ``(x - mean) / std`` with the dataset's statistics.

    The statistics come from (first match): ``mean``/``std`` values, ``mean_path``/``std_path``
    files, or ``results['mean_path']``/``results['std_path']`` set by the dataset from its
    ``Mean.npy``/``Std.npy``.

    Required keys: ``keys`` (default ``motion`` ``(T, D)``).
    Added keys: ``normalized=True``.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None, mean_path: Optional[str] = None,
                 std_path: Optional[str] = None, keys: Sequence[str] = ('motion', )) -> None:
        if (mean is None) != (std is None):
            raise ValueError('NormalizeMotion: give both mean and std, or neither')
        if (mean_path is None) != (std_path is None):
            raise ValueError('NormalizeMotion: give both mean_path and std_path, or neither')
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        if self.std is not None:
            if self.mean.shape != self.std.shape or self.mean.ndim != 1:
                raise ValueError(f'NormalizeMotion: mean and std must be 1-D of equal length, got '
                                 f'{self.mean.shape} and {self.std.shape}')
            if (self.std <= 0).any() or not np.isfinite(self.std).all():
                raise ValueError('NormalizeMotion: std must be finite and > 0')
        self.mean_path = mean_path
        self.std_path = std_path
        self.keys = tuple(keys)

    def _stats(self, results: dict) -> tuple:
        if self.mean is not None:
            return self.mean, self.std
        mean_path, std_path = self.mean_path, self.std_path
        if mean_path is None:
            mean_path, std_path = results.get('mean_path'), results.get('std_path')
        if mean_path is None or std_path is None:
            raise ValueError(
                'NormalizeMotion: no statistics: pass mean/std or mean_path/std_path, or use a '
                f'dataset with Mean.npy/Std.npy (sample {results.get("sample_id", "?")!r} has '
                'no mean_path/std_path)')
        return load_mean_std(mean_path, std_path)

    def transform(self, results: dict) -> dict:
        if results.get('normalized'):
            raise ValueError(f'NormalizeMotion: sample {results.get("sample_id", "?")!r} is '
                             'already normalised (two NormalizeMotion in the pipeline?)')
        mean, std = self._stats(results)
        for key in self.keys:
            if key not in results:
                raise KeyError(f'NormalizeMotion: {key!r} not in the results of sample '
                               f'{results.get("sample_id", "?")!r}')
            x = results[key]
            if x.shape[-1] != mean.shape[0]:
                raise ValueError(f'NormalizeMotion: {key} has width {x.shape[-1]} but the '
                                 f'statistics have {mean.shape[0]} '
                                 f'({self.mean_path or results.get("mean_path")})')
            results[key] = ((x - mean) / std).astype(np.float32)
        results['normalized'] = True
        return results


_LEFT_RIGHT_WORDS = {
    'left': 'right', 'right': 'left',
    'clockwise': 'counterclockwise', 'counterclockwise': 'clockwise',
    'anticlockwise': 'clockwise', 'counter-clockwise': 'clockwise',
}
_WORD_RE = re.compile(r'\b(' + '|'.join(sorted((re.escape(w) for w in _LEFT_RIGHT_WORDS),
                                                key=len, reverse=True)) + r')\b', re.IGNORECASE)


def swap_left_right_words(text: str) -> str:
    """Swap 'left'/'right' (and clockwise/counterclockwise) in a caption, keeping the case.

    HumanML3D builds its mirrored ``M*`` samples the same way: the motion is reflected in the
    x = 0 plane and the sides named in the caption are exchanged.
    """

    def repl(match: re.Match) -> str:
        word = match.group(0)
        new = _LEFT_RIGHT_WORDS[word.lower()]
        if word.isupper():
            return new.upper()
        if word[0].isupper():
            return new[0].upper() + new[1:]
        return new

    return _WORD_RE.sub(repl, text)


def _swap_token(token: str) -> str:
    word, sep, pos = token.partition('/')
    return swap_left_right_words(word) + sep + pos


def _motion_function(name: str):
    """``motionkit.motion.<name>``, imported on first use (motion maths is a separate layer)."""
    import motionkit.motion
    fn = getattr(motionkit.motion, name, None)
    if fn is None:
        raise ImportError(f'MirrorMotion needs motionkit.motion.{name}, which this installation '
                          'of motionkit does not provide')
    return fn


@TRANSFORMS.register_module()
class MirrorMotion(BaseTransform):
    """Left/right mirror augmentation: reflect the motion in x = 0 and swap sides in the text.

    Features are mirrored with :func:`motionkit.motion.mirror_features` (which knows the
    representation's layout), joints with :func:`motionkit.motion.mirror_joints`; both are imported
    when first used.

    Required keys: ``motion`` and/or ``joints``. Optional: ``texts``, ``text``, ``tokens``,
    ``captions``, ``representation`` / ``skeleton`` (taken from the dataset metainfo).
    Added keys: ``mirrored`` (bool).

    Args:
        prob: Probability of mirroring a sample.
        swap_text: Exchange left/right words in the captions and tokens of a mirrored sample.
        representation: Representation name for ``mirror_features``; ``None`` takes
            ``results['representation']``.
        skeleton: Skeleton name for ``mirror_joints``; ``None`` takes ``results['skeleton']``.
    """

    def __init__(self, prob: float = 0.5, swap_text: bool = True,
                 representation: Optional[str] = None, skeleton: Optional[str] = None) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.swap_text = swap_text
        self.representation = representation
        self.skeleton = skeleton

    def transform(self, results: dict) -> dict:
        if self.prob < 1.0 and np.random.rand() >= self.prob:
            results['mirrored'] = bool(results.get('mirrored', False))
            return results
        if 'motion' in results:
            mirror_features = _motion_function('mirror_features')
            rep = self.representation or results.get('representation')
            if rep is None:
                raise ValueError('MirrorMotion: no representation given and none in the results '
                                 f'of sample {results.get("sample_id", "?")!r}')
            if results.get('normalized'):
                raise ValueError('MirrorMotion must run before NormalizeMotion (the mirror is '
                                 'defined on raw features)')
            results['motion'] = np.asarray(mirror_features(results['motion'], rep),
                                           dtype=np.float32)
        if 'joints' in results:
            mirror_joints = _motion_function('mirror_joints')
            skel = self.skeleton or results.get('skeleton')
            if skel is None:
                raise ValueError('MirrorMotion: no skeleton given and none in the results of '
                                 f'sample {results.get("sample_id", "?")!r}')
            results['joints'] = np.asarray(mirror_joints(results['joints'], skel),
                                           dtype=np.float32)
        if self.swap_text:
            if 'texts' in results:
                results['texts'] = [
                    dict(t, caption=swap_left_right_words(t['caption']),
                         tokens=[_swap_token(tok) for tok in t.get('tokens', [])])
                    for t in results['texts']
                ]
            if 'text' in results:
                results['text'] = swap_left_right_words(results['text'])
            if 'captions' in results:
                results['captions'] = [swap_left_right_words(c) for c in results['captions']]
            if 'tokens' in results:
                results['tokens'] = [_swap_token(tok) for tok in results['tokens']]
        results['mirrored'] = not bool(results.get('mirrored', False))
        return results
