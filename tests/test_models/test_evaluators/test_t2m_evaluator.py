import zlib

import pytest
import torch

from motionkit.models.evaluators.t2m_evaluator import (POS_CATEGORIES, T2MEvaluator,
                                                       hashed_word_id)
from motionkit.structures import MotionDataSample


def _tiny(**kwargs):
    cfg = dict(feature_dim=12, movement_hidden=16, movement_dim=16, motion_hidden=16,
               text_hidden=16, embed_dim=8, word_dim=8, num_word_buckets=64)
    cfg.update(kwargs)
    return T2MEvaluator(**cfg)


def test_pos_categories_and_hashed_ids():
    model = _tiny()
    ids, pos, lengths = model.tokenize([['sos/OTHER', 'a/DET', 'person/NOUN', 'walks/VERB',
                                         'left/ADV', 'eos/OTHER', 'unk/OTHER']])
    cats = [POS_CATEGORIES[i] for i in pos[0].argmax(-1).tolist()]
    # VIP classes take precedence over the tag: 'walks' is an action word, 'left' a location
    assert cats == ['OTHER', 'DET', 'NOUN', 'Act_VIP', 'Loc_VIP', 'OTHER', 'OTHER']
    assert lengths.tolist() == [6], 'trailing unk padding is not part of the caption'
    assert ids[0, :2].tolist() == [1, 3 + zlib.crc32(b'a') % 61]
    assert hashed_word_id('person', 64) == 3 + zlib.crc32(b'person') % 61
    with pytest.raises(ValueError, match='not "word/POS"'):
        model.tokenize([['person']])


def test_hinge_loss_hand_computed():
    model = _tiny(margin=10.0)
    text = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    motion = torch.zeros(2, 2)
    losses = model.matching_loss(text, motion)  # batch of 2: the shift is always 1
    # positive distances 0 and 5 -> mean(0, 25) / 2; negatives (zeros again): (10-0)^2, (10-5)^2
    assert losses['loss_pos'].item() == pytest.approx(6.25)
    assert losses['loss_neg'].item() == pytest.approx(31.25)


def test_infonce_loss_is_symmetric_cross_entropy():
    model = _tiny(loss='infonce', temperature=1.0)
    text = torch.eye(3)
    motion = torch.eye(3)
    logits = torch.eye(3)  # cosine of unit vectors
    expected = torch.nn.functional.cross_entropy(logits, torch.arange(3))
    assert model.matching_loss(text, motion)['loss_infonce'].item() == pytest.approx(
        expected.item())


def test_padded_batch_encodes_like_each_motion_alone():
    torch.manual_seed(0)
    model = _tiny().eval()
    a, b = torch.randn(40, 12), torch.randn(64, 12)
    batch = torch.zeros(2, 64, 12)
    batch[0, :40], batch[1] = a, b
    with torch.no_grad():
        both = model.encode_motion(batch, torch.tensor([40, 64]))
        alone_a = model.encode_motion(a[None], torch.tensor([40]))
        alone_b = model.encode_motion(b[None], torch.tensor([64]))
    torch.testing.assert_close(both[0], alone_a[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[1], alone_b[0], atol=1e-5, rtol=1e-5)


def test_statistics_are_saved_and_validated(tmp_path):
    model = _tiny(mean=[1.0] * 12, std=[2.0] * 12)
    assert 'mean' in model.state_dict() and 'std' in model.state_dict()
    with pytest.raises(ValueError, match=r'\(12,\)'):
        _tiny(mean=[0.0] * 5, std=[1.0] * 5)
    with pytest.raises(ValueError, match='NaN'):
        model.encode_motion(torch.full((1, 8, 12), float('nan')), torch.tensor([8]))
    with pytest.raises(ValueError, match=r'\(B, T, 12\)'):
        model.encode_motion(torch.zeros(1, 8, 10), torch.tensor([8]))


def test_learns_to_match_toy_pairs():
    """Eight captions, each paired with its own motion pattern: after training, every caption is
    closest to its own motion (R@1 = 1), which is false for the untrained model."""
    torch.manual_seed(0)
    words = ['walks', 'runs', 'jumps', 'kicks', 'waves', 'squats', 'bows', 'claps']
    tokens = [['sos/OTHER', 'a/DET', 'person/NOUN', f'{w}/VERB', 'eos/OTHER'] for w in words]
    t = torch.arange(32).float() / 20
    motions = torch.stack([torch.sin(t[:, None] * 3 * (i + 1) + torch.arange(12) * i)
                           for i in range(8)])
    lengths = torch.full((8, ), 32)
    # 1024 buckets: with 64, 'squats' and 'claps' share a hashed id and could not be told apart
    model = _tiny(loss='infonce', temperature=0.1, num_word_buckets=1024)
    samples = [MotionDataSample(gt_tokens=tok, metainfo=dict(sent_len=len(tok))) for tok in tokens]

    def top1():
        model.eval()
        with torch.no_grad():
            text, motion = model({'motion': motions, 'lengths': lengths}, samples, mode='tensor')
        model.train()
        return (torch.cdist(text, motion).argmin(-1) == torch.arange(8)).float().mean().item()

    before = top1()
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = model({'motion': motions, 'lengths': lengths}, samples, mode='loss')['loss_infonce']
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert top1() == 1.0 and before < 1.0
