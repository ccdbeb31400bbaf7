import numpy as np
import pytest

import motionkit.motion
from motionkit.datasets.transforms import (CropMotion, MirrorMotion, NormalizeMotion,
                                           SampleCaption, pad_caption_tokens,
                                           swap_left_right_words, unit_length_crop_size)

TEXTS = [
    dict(caption='a man walks.', tokens=['a/DET', 'man/NOUN', 'walk/VERB']),
    dict(caption='someone strolls.', tokens=['someone/PRON', 'stroll/VERB']),
    dict(caption='a person walks slowly.', tokens=['a/DET', 'person/NOUN', 'walk/VERB',
                                                   'slowly/ADV']),
]


# ---------------------------------------------------------------------------- captions
def test_pad_caption_tokens_short_and_long():
    tokens, sent_len = pad_caption_tokens(['a/DET', 'man/NOUN', 'walk/VERB'], 20)
    assert sent_len == 5 and len(tokens) == 22
    assert tokens[:5] == ['sos/OTHER', 'a/DET', 'man/NOUN', 'walk/VERB', 'eos/OTHER']
    assert tokens[5:] == ['unk/OTHER'] * 17
    long = [f'w{i}/NOUN' for i in range(25)]
    tokens, sent_len = pad_caption_tokens(long, 20)
    assert sent_len == 22 and tokens[1:21] == long[:20] and tokens[-1] == 'eos/OTHER'
    # exactly max_text_len tokens: cropped branch, no unk
    tokens, sent_len = pad_caption_tokens(long[:20], 20)
    assert sent_len == 22 and 'unk/OTHER' not in tokens


def test_sample_caption_test_mode_and_random():
    out = SampleCaption(test_mode=True)(dict(texts=TEXTS))
    assert out['text'] == 'a man walks.' and out['sent_len'] == 5 and len(out['tokens']) == 22
    assert out['captions'] == [t['caption'] for t in TEXTS]
    out = SampleCaption(test_mode=True, caption_index=7, max_text_len=None)(dict(texts=TEXTS))
    assert out['text'] == 'a person walks slowly.' and out['tokens'] == TEXTS[2]['tokens']
    np.random.seed(0)
    seen = {SampleCaption()(dict(texts=TEXTS))['caption_index'] for _ in range(60)}
    assert seen == {0, 1, 2}


def test_sample_caption_without_texts():
    with pytest.raises(ValueError, match=r"sample '000123' .*has no captions"):
        SampleCaption()(dict(texts=[], sample_id='000123', motion_path='x/000123.npy'))


# ---------------------------------------------------------------------------- cropping
def test_unit_length_crop_size():
    assert unit_length_crop_size(199, 4, 'single') == 196
    assert unit_length_crop_size(199, 4, 'double') == 192
    assert unit_length_crop_size(40, 4, 'single') == 40
    assert unit_length_crop_size(40, 4, 'double') == 36
    assert unit_length_crop_size(5, 4, 'double') == 4  # never below one unit
    with pytest.raises(ValueError, match='cannot crop a 3-frame motion'):
        unit_length_crop_size(3, 4, 'single')


def test_crop_test_mode_is_deterministic():
    x = np.arange(199 * 2, dtype=np.float32).reshape(199, 2)
    j = np.arange(199 * 3 * 3, dtype=np.float32).reshape(199, 3, 3)
    out = CropMotion(test_mode=True)(dict(motion=x.copy(), joints=j.copy()))
    assert out['length'] == 196 and out['crop_start'] == 0
    np.testing.assert_array_equal(out['motion'], x[:196])
    np.testing.assert_array_equal(out['joints'], j[:196])


def test_crop_random_follows_coin_rule():
    x = np.arange(198, dtype=np.float32)[:, None]
    np.random.seed(0)
    sizes = []
    for _ in range(1500):
        out = CropMotion()(dict(motion=x.copy()))
        size, start = out['length'], out['crop_start']
        assert out['motion'].shape == (size, 1)
        assert 0 <= start <= 198 - size
        np.testing.assert_array_equal(out['motion'][:, 0], np.arange(start, start + size))
        sizes.append(size)
    sizes = np.array(sizes)
    assert set(sizes.tolist()) == {196, 192}
    # 'double' is drawn with probability 1/3 in Text2MotionDatasetV2
    assert 0.29 < np.mean(sizes == 192) < 0.38


def test_crop_max_length_and_no_unit():
    x = np.arange(150, dtype=np.float32)[:, None]
    np.random.seed(1)
    out = CropMotion(max_length=100)(dict(motion=x.copy()))
    assert out['length'] == 100 and out['motion'][0, 0] == out['crop_start']
    out = CropMotion(max_length=None, unit_length=None)(dict(motion=x[:37].copy()))
    assert out['length'] == 37
    out = CropMotion(max_length=None, unit_length=10, test_mode=False)(dict(motion=x[:37].copy()))
    assert out['length'] == 30  # unit_length >= 10: always 'single'


def test_crop_errors():
    with pytest.raises(KeyError, match='none of'):
        CropMotion()(dict(sample_id='s'))
    with pytest.raises(ValueError, match='motion has 10 frames but joints has 9'):
        CropMotion()(dict(motion=np.zeros((10, 2)), joints=np.zeros((9, 3, 3))))
    with pytest.raises(ValueError, match="sample 'abc': cannot crop a 3-frame motion"):
        CropMotion()(dict(motion=np.zeros((3, 2)), sample_id='abc'))


# ---------------------------------------------------------------------------- normalisation
def test_normalize_values_from_args_and_files(tmp_path):
    x = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]], np.float32)
    out = NormalizeMotion(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 0.5])(dict(motion=x.copy()))
    np.testing.assert_allclose(out['motion'], [[0, 0, 0], [1.0, 1.0, 12.0]])
    assert out['normalized'] is True
    np.save(tmp_path / 'm.npy', np.array([1.0, 2.0, 3.0], np.float32))
    np.save(tmp_path / 's.npy', np.array([2.0, 4.0, 0.5], np.float32))
    out = NormalizeMotion()(dict(motion=x.copy(), mean_path=str(tmp_path / 'm.npy'),
                                 std_path=str(tmp_path / 's.npy')))
    np.testing.assert_allclose(out['motion'], [[0, 0, 0], [1.0, 1.0, 12.0]])


def test_normalize_errors(tmp_path):
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match='already normalised'):
        NormalizeMotion(mean=[0, 0, 0], std=[1, 1, 1])(dict(motion=x, normalized=True))
    with pytest.raises(ValueError, match='motion has width 3 but the statistics have 4'):
        NormalizeMotion(mean=[0] * 4, std=[1] * 4)(dict(motion=x))
    with pytest.raises(ValueError, match='std must be finite and > 0'):
        NormalizeMotion(mean=[0, 0], std=[1, 0])
    with pytest.raises(ValueError, match='give both mean and std'):
        NormalizeMotion(mean=[0, 0])
    with pytest.raises(FileNotFoundError, match=r'mean file not found: .*absent\.npy'):
        NormalizeMotion(mean_path=str(tmp_path / 'absent.npy'),
                        std_path=str(tmp_path / 'absent2.npy'))(dict(motion=x))
    np.save(tmp_path / 'nanmean.npy', np.array([0, np.nan, 0], np.float32))
    np.save(tmp_path / 'ones.npy', np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r'nanmean\.npy: mean contains NaN'):
        NormalizeMotion(mean_path=str(tmp_path / 'nanmean.npy'),
                        std_path=str(tmp_path / 'ones.npy'))(dict(motion=x))


# ---------------------------------------------------------------------------- mirroring
def test_swap_left_right_words():
    assert swap_left_right_words('Left hand turns clockwise, then RIGHT leg.') == \
        'Right hand turns counterclockwise, then LEFT leg.'
    assert swap_left_right_words('turns counterclockwise; leftover bright') == \
        'turns clockwise; leftover bright'


@pytest.fixture
def fake_mirror(monkeypatch):
    """Stand-ins that record their calls, so the wiring is tested independently of the maths."""
    calls = []

    def mirror_features(x, rep):
        calls.append(('features', rep))
        return -x

    def mirror_joints(x, skeleton):
        calls.append(('joints', skeleton))
        return x[..., ::-1]

    monkeypatch.setattr(motionkit.motion, 'mirror_features', mirror_features, raising=False)
    monkeypatch.setattr(motionkit.motion, 'mirror_joints', mirror_joints, raising=False)
    return calls


def test_mirror_wiring(fake_mirror):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    j = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    results = dict(motion=x.copy(), joints=j.copy(), representation='HumanML3DFeatures',
                   skeleton='t2m22', text='raise the left arm', tokens=['left/ADJ', 'arm/NOUN'],
                   texts=[dict(caption='raise the left arm', tokens=['left/ADJ'])],
                   captions=['raise the left arm', 'right foot kicks'])
    out = MirrorMotion(prob=1.0)(results)
    np.testing.assert_array_equal(out['motion'], -x)
    np.testing.assert_array_equal(out['joints'], j[..., ::-1])
    assert fake_mirror == [('features', 'HumanML3DFeatures'), ('joints', 't2m22')]
    assert out['text'] == 'raise the right arm' and out['tokens'] == ['right/ADJ', 'arm/NOUN']
    assert out['texts'][0] == dict(caption='raise the right arm', tokens=['right/ADJ'])
    assert out['captions'] == ['raise the right arm', 'left foot kicks']
    assert out['mirrored'] is True
    out = MirrorMotion(prob=0.0)(dict(motion=x.copy(), representation='X'))
    np.testing.assert_array_equal(out['motion'], x)
    assert out['mirrored'] is False and len(fake_mirror) == 2


def test_mirror_probability_and_errors(fake_mirror):
    np.random.seed(0)
    flips = [MirrorMotion(prob=0.5)(dict(motion=np.ones((1, 1)), representation='r'))['mirrored']
             for _ in range(400)]
    assert 0.4 < np.mean(flips) < 0.6
    with pytest.raises(ValueError, match='before NormalizeMotion'):
        MirrorMotion(prob=1.0)(dict(motion=np.ones((1, 1)), representation='r', normalized=True))
    with pytest.raises(ValueError, match='no representation'):
        MirrorMotion(prob=1.0)(dict(motion=np.ones((1, 1))))
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        MirrorMotion(prob=1.5)


def test_mirror_real_motion_twice_is_identity(shared_data):
    """With motion-geom's mirror functions: mirroring a real motion twice gives it back."""
    if not hasattr(motionkit.motion, 'mirror_features'):
        pytest.skip('motionkit.motion does not export mirror_features / mirror_joints yet')
    ref = shared_data / 'humanml3d_reference'
    x = np.load(ref / 'new_joint_vecs' / '012314.npy')
    j = np.load(ref / 'new_joints' / '012314.npy')
    t = MirrorMotion(prob=1.0)
    once = t(dict(motion=x.copy(), joints=j.copy(), representation='HumanML3DFeatures',
                  skeleton='t2m22'))
    assert not np.allclose(once['motion'], x)
    np.testing.assert_allclose(once['joints'][:, 0, 0], -j[:, 0, 0])  # pelvis x is reflected
    twice = t(dict(once))
    np.testing.assert_allclose(twice['motion'], x, atol=1e-5)
    np.testing.assert_allclose(twice['joints'], j, atol=1e-6)
    assert twice['mirrored'] is False
