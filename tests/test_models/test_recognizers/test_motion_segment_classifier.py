"""MotionSegmentClassifier: heading/position invariance of its features (hand-checked values), it
learns a separable toy set, predict/tensor/loss modes, bad input; the MAR as the window classifier
of RecognizerEventDetector through its class-label texts."""
import math

import numpy as np
import pytest
import torch

from motionkit.models.recognizers import MotionSegmentClassifier, body_frame_features
from motionkit.structures import MotionDataSample


def _yaw(joints, deg, shift=(0.0, 0.0)):
    a = math.radians(deg)
    r = torch.tensor([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    out = joints @ r.T
    out[..., 0] += shift[0]
    out[..., 2] += shift[1]
    return out


def test_body_frame_features_by_hand_and_invariance():
    # two frames, 3 joints: pelvis at (1, 0.9, 0), hips along +Z (left) -> body frame turns +Z onto +X
    j = torch.zeros(1, 2, 3, 3)
    j[0, :, 0] = torch.tensor([1.0, 0.9, 0.0])
    j[0, :, 1] = torch.tensor([1.0, 0.9, 0.1])
    j[0, :, 2] = torch.tensor([1.0, 0.9, -0.1])
    j[0, 1] += torch.tensor([0.0, 0.0, 0.5])  # moves 0.5 m along +Z = the body's +X
    f = body_frame_features(j)
    assert f.shape == (1, 2, 6 * 3 + 4)
    pose = f[0, 0, :9].reshape(3, 3)
    torch.testing.assert_close(pose[1], torch.tensor([0.1, 0.9, 0.0]))  # left hip on +X
    torch.testing.assert_close(pose[2], torch.tensor([-0.1, 0.9, 0.0]))
    torch.testing.assert_close(f[0, 0, 18:20], torch.tensor([0.5, 0.0]))  # root planar velocity
    assert f[0, 0, 20] == pytest.approx(0.9) and f[0, 0, 21] == pytest.approx(0.0)
    # any heading and floor position give the same features
    torch.manual_seed(0)
    x = torch.randn(2, 12, 22, 3)
    torch.testing.assert_close(body_frame_features(_yaw(x, 73.0, (2.0, -1.5))), body_frame_features(x),
                               atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match=r'\(B, T, J, 3\)'):
        body_frame_features(torch.zeros(2, 12, 66))


def _toy_batch(n=32):
    """Class 0: arms swing up and down; class 1: the body bobs (pelvis height oscillates)."""
    torch.manual_seed(1)
    base = torch.randn(22, 3) * 0.3
    base[1], base[2] = torch.tensor([0.1, 0.9, 0.0]), torch.tensor([-0.1, 0.9, 0.0])
    t = torch.arange(16).float()
    xs, ys = [], []
    for i in range(n):
        j = base.repeat(16, 1, 1).clone() + 0.01 * torch.randn(16, 22, 3)
        if i % 2 == 0:
            j[:, 18:22, 1] += 0.3 * torch.sin(t / 2)[:, None]
        else:
            j[:, :, 1] += 0.2 * torch.sin(t / 2)[:, None]
        xs.append(_yaw(j, 30.0 * i))
        ys.append(i % 2)
    return torch.stack(xs), torch.tensor(ys)


def test_learns_a_separable_toy_set_and_modes():
    torch.manual_seed(0)
    model = MotionSegmentClassifier(num_classes=2, classes=['swing', 'bob'],
                                    arch=dict(channels=16, num_layers=2), dropout=0.0)
    x, y = _toy_batch()
    samples = []
    for label in y.tolist():
        s = MotionDataSample()
        s.set_gt_label(label)
        samples.append(s)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs = dict(motion=x, lengths=torch.full((len(x), ), 16))
    first = None
    for _ in range(40):
        loss = model(inputs, samples, mode='loss')['loss_cls']
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.1 * first
    model.eval()
    out = model(inputs, samples, mode='predict')
    assert [s.pred_label for s in out] == y.tolist()
    torch.testing.assert_close(out[0].pred_score.sum(), torch.tensor(1.0))
    assert model(inputs, mode='tensor').shape == (32, 2)
    # padded frames do not change the logits of a shorter motion
    padded = torch.cat([x[:2], torch.full((2, 8, 22, 3), 50.0)], 1)
    torch.testing.assert_close(model.logits(padded, torch.tensor([16, 16])), model.logits(x[:2]),
                               atol=1e-5, rtol=1e-4)


def test_bad_input_and_config():
    model = MotionSegmentClassifier(num_classes=3, arch='tiny')
    with pytest.raises(ValueError, match=r'\(B, T, 22, 3\)'):
        model.logits(torch.zeros(2, 10, 21, 3))
    x = torch.zeros(1, 10, 22, 3)
    x[0, 3, 4, 0] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        model.logits(x)
    with pytest.raises(KeyError, match='gt_label'):
        model(dict(motion=torch.zeros(1, 10, 22, 3)), [MotionDataSample()], mode='loss')
    with pytest.raises(KeyError, match='unknown arch'):
        MotionSegmentClassifier(arch='huge')
    with pytest.raises(ValueError, match='2 class names'):
        MotionSegmentClassifier(num_classes=3, classes=['a', 'b'])


def test_mar_class_texts_as_the_window_classifier():
    """A tiny MAR (random motion encoder, offline MiniLM text encoder) scores windows by its class
    texts; the detector's probabilities are the softmax of its class cosines / temperature."""
    from motionkit.feedback import RecognizerEventDetector
    from motionkit.registry import MODELS
    try:
        mar = MODELS.build(dict(type='MultimodalActionRecognizer', arch='tiny',
                                class_texts=['jump', 'clap', 'stand']))
    except (OSError, ImportError) as e:  # the offline text encoder's files are missing
        pytest.skip(f'text encoder unavailable: {e}')
    det = RecognizerEventDetector(mar, window=16, stride=8, text_temperature=0.1,
                                  repetition_periods=False)
    assert det.use_texts and det.classes == ['jump', 'clap', 'stand']
    torch.manual_seed(0)
    windows = torch.randn(3, 16, 22, 3).numpy()
    probs = det.window_probabilities(windows)
    with torch.no_grad():
        cos = mar.class_scores(mar.encode_motion(torch.from_numpy(windows), torch.full((3, ), 16)))
    np.testing.assert_allclose(probs, (cos / 0.1).softmax(-1).numpy(), atol=1e-6)
    events = det.detect(np.random.default_rng(0).normal(size=(40, 22, 3)).astype(np.float32))
    assert all(e['label'] in ('jump', 'clap') for e in events)  # 'stand' is dropped
    assert sum(e['end'] - e['start'] for e in events) <= 40
