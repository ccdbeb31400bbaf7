import numpy as np
import pytest
import torch

from motionkit.models.tokenizers import (format_motion_tokens, motion_special_tokens,
                                         parse_motion_tokens)


def test_decimal_form_is_cigtime_plain_ids():
    assert format_motion_tokens([12, 7, 7, 301]) == '12 7 7 301'
    assert format_motion_tokens(torch.tensor([0, 5]), codebook_size=512) == '0 5'
    assert format_motion_tokens(np.array([3], dtype=np.int16)) == '3'
    assert parse_motion_tokens('12 7 7 301') == [12, 7, 7, 301]
    # any whitespace separates
    assert parse_motion_tokens(' 12\t7\n7  301 ', codebook_size=512) == [12, 7, 7, 301]


def test_motiongpt_form_and_markers():
    text = format_motion_tokens([12, 7], 'motiongpt', codebook_size=512)
    assert text == '<motion_id_512><motion_id_12><motion_id_7><motion_id_513>'
    custom = format_motion_tokens([1], 'motiongpt', 512, start_token='<som>', end_token='<eom>')
    assert custom == '<som><motion_id_1><eom>'
    assert parse_motion_tokens(custom, 'motiongpt', 512, '<som>', '<eom>') == [1]
    # surrounding words of an LLM answer are ignored
    answer = f'Sure! Here it is: {text} Hope this helps.'
    assert parse_motion_tokens(answer, 'motiongpt', 512) == [12, 7]
    vocab = motion_special_tokens(4)
    assert vocab == ['<motion_id_0>', '<motion_id_1>', '<motion_id_2>', '<motion_id_3>',
                     '<motion_id_4>', '<motion_id_5>', '<motion_id_6>']
    assert motion_special_tokens(2, '<som>', '<eom>')[-2:] == ['<som>', '<eom>']


@pytest.mark.parametrize('style', ['decimal', 'motiongpt'])
def test_round_trip(style):
    rng = np.random.default_rng(0)
    for length in (1, 5, 49):
        ids = rng.integers(0, 64, size=length).tolist()
        text = format_motion_tokens(ids, style, codebook_size=64)
        assert parse_motion_tokens(text, style, codebook_size=64) == ids


def test_malformed_text_raises_clear_errors():
    with pytest.raises(ValueError, match=r"word 2 is 'x7'"):
        parse_motion_tokens('1 2 x7 4')
    with pytest.raises(ValueError, match=r'id 64 at word 1 is outside the codebook \[0, 64\)'):
        parse_motion_tokens('3 64', codebook_size=64)
    with pytest.raises(ValueError, match='non-negative integer'):
        parse_motion_tokens('3 -1')
    with pytest.raises(ValueError, match='no token id'):
        parse_motion_tokens('   ')
    with pytest.raises(ValueError, match='start marker'):
        parse_motion_tokens('<motion_id_1><motion_id_65>', 'motiongpt', 64)
    with pytest.raises(ValueError, match='end marker'):
        parse_motion_tokens('<motion_id_64><motion_id_1>', 'motiongpt', 64)
    with pytest.raises(ValueError, match="unexpected text 'oops'"):
        parse_motion_tokens('<motion_id_64><motion_id_1>oops<motion_id_65>', 'motiongpt', 64)
    with pytest.raises(ValueError, match=r'<motion_id_70> .* outside the codebook'):
        parse_motion_tokens('<motion_id_64><motion_id_70><motion_id_65>', 'motiongpt', 64)
    with pytest.raises(ValueError, match='unknown motion token text style'):
        parse_motion_tokens('1', 'json')
    with pytest.raises(ValueError, match='codebook_size'):
        format_motion_tokens([1], 'motiongpt')
    with pytest.raises(ValueError, match=r'in \[0, 8\)'):
        format_motion_tokens([1, 8], codebook_size=8)
    with pytest.raises(ValueError, match='no text form'):
        format_motion_tokens(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match='integers'):
        format_motion_tokens(torch.tensor([1.5]))


def test_lenient_parsing_of_generated_text():
    assert parse_motion_tokens('1 two 3 99', codebook_size=10, strict=False) == [1, 3]
    text = '<motion_id_64><motion_id_1> junk <motion_id_80><motion_id_2>'
    assert parse_motion_tokens(text, 'motiongpt', 64, strict=False) == [1, 2]
