"""A word-level tokenizer "trained on the dataset's text" for tiny language models.

The vocabulary is every word of the given corpus fields (lower-cased; words and punctuation split
as ``\\w+|[^\\w\\s]``), plus the words of the prompt template, the decimal motion-token ids
``0..K-1`` and the special tokens, sorted so the same corpus always gives the same ids. It is
wrapped as a Hugging Face ``PreTrainedTokenizerFast`` (``tokenizers`` WordLevel model), so every HF
model and ``generate`` work with it unchanged.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable, List, Optional, Sequence

__all__ = ['SPECIAL_TOKENS', 'split_words', 'build_word_vocab', 'make_word_tokenizer', 'detokenize']

SPECIAL_TOKENS = ('<pad>', '<s>', '</s>', '<unk>')
_WORD = re.compile(r'\w+|[^\w\s]')


def split_words(text: str) -> List[str]:
    """``"Raise your left arm, higher!"`` -> ``['raise', 'your', 'left', 'arm', ',', 'higher', '!']``."""
    return _WORD.findall(text.lower())


def detokenize(text: str) -> str:
    """Undo the spaces the word-level decoder puts before punctuation (``"arm , higher ."`` ->
    ``"arm, higher."``; ``"don ' t"`` -> ``"don't"``; ``"sit - down"`` -> ``"sit-down"``: the
    pre-tokenizer splits hyphenated words, and instruction text has no spaced dashes)."""
    text = re.sub(r"\s*'\s*", "'", text)
    text = re.sub(r'(?<=\w)\s*-\s*(?=\w)', '-', text)
    text = re.sub(r'\s+([,.!?;:])', r'\1', text)
    return text.strip()


def _folder_captions(root: str, splits: Optional[Sequence[str]] = None) -> Iterable[str]:
    """Captions of a HumanML3D-layout folder (SynthMotion builds too): ``texts/<id>.txt`` lines
    ``caption#tokens#start#end``, for the ids listed in ``<split>.txt`` of each split in
    ``splits`` (default ``all.txt``)."""
    ids = []
    for split in (splits or ('all', )):
        listing = os.path.join(root, f'{split}.txt')
        if not os.path.isfile(listing):
            raise FileNotFoundError(f'word-level tokenizer: corpus folder {root} has no {split}.txt '
                                    '(expected the HumanML3D layout: <split>.txt + texts/)')
        with open(listing, encoding='utf-8') as f:
            ids += [line.strip() for line in f if line.strip()]
    for mid in ids:
        path = os.path.join(root, 'texts', f'{mid}.txt')
        if not os.path.isfile(path):
            raise FileNotFoundError(f'word-level tokenizer: {path} not found (listed in {root})')
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    yield line.split('#', 1)[0]


def _corpus_texts(path: str, fields: Sequence[str], splits: Optional[Sequence[str]] = None) -> Iterable[str]:
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        yield from _folder_captions(path, splits)
        return
    if not os.path.isfile(path):
        raise FileNotFoundError(f'word-level tokenizer: corpus file not found: {path}')
    with open(path, encoding='utf-8') as f:
        if path.endswith('.jsonl'):
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f'word-level tokenizer: {path}:{n} is not JSON ({err})') from None
                if splits is not None and rec.get('split') not in splits:
                    continue  # e.g. only the training split's words: no test text in the vocabulary
                for key in fields:
                    value = rec.get(key)
                    if isinstance(value, str):
                        yield value
                    elif isinstance(value, (list, tuple)):
                        yield from (v for v in value if isinstance(v, str))
        else:
            yield from f


def build_word_vocab(corpus: Sequence[str] = (), fields: Sequence[str] = ('instructions', ),
                     extra_texts: Sequence[str] = (), num_ids: int = 0,
                     splits: Optional[Sequence[str]] = None) -> List[str]:
    """Deterministic vocabulary: specials first, then the sorted words of the corpus files (jsonl
    fields of the records whose ``split`` is in ``splits`` when given, plain text lines, or the
    captions of a HumanML3D-layout folder's ``splits``) and
    ``extra_texts``, then the ids ``'0'..str(num_ids - 1)``."""
    words = set()
    for path in corpus:
        for text in _corpus_texts(path, fields, splits):
            words.update(split_words(text))
    for text in extra_texts:
        words.update(split_words(text))
    ids = [str(k) for k in range(int(num_ids))]
    words -= set(ids) | set(SPECIAL_TOKENS)
    return list(SPECIAL_TOKENS) + sorted(words) + ids


def make_word_tokenizer(vocab: Sequence[str], added_tokens: Optional[Sequence[str]] = None):
    """A ``PreTrainedTokenizerFast`` over ``vocab`` (lower-casing, word/punctuation split)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast
    if len(set(vocab)) != len(vocab):
        raise ValueError('word-level tokenizer: the vocabulary has duplicate entries')
    missing = [t for t in SPECIAL_TOKENS if t not in vocab]
    if missing:
        raise ValueError(f'word-level tokenizer: the vocabulary lacks the special tokens {missing}')
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(vocab)}, unk_token='<unk>'))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token='<pad>', bos_token='<s>',
                                   eos_token='</s>', unk_token='<unk>')
    if added_tokens:
        fast.add_tokens(list(added_tokens))
    return fast
