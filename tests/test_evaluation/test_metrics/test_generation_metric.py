"""T2MGenerationMetric (generated motions through a T2M evaluator) and ControlErrorMetric."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from motionkit.evaluation.metrics import ControlErrorMetric, T2MGenerationMetric, T2MMetric
from motionkit.registry import MODELS

EVAL = dict(type='T2MEvaluator', feature_dim=263, movement_hidden=16, movement_dim=16,
            motion_hidden=16, text_hidden=16, embed_dim=8, word_dim=8, num_word_buckets=64)
WORDS = ['walk/VERB', 'wave/VERB', 'jump/VERB', 'left/ADJ', 'arm/NOUN', 'fast/ADV']


def _stats(tmp_path, dim=263, seed=0):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=dim).astype(np.float32)
    std = (0.5 + rng.random(dim)).astype(np.float32)
    np.save(tmp_path / 'Mean.npy', mean)
    np.save(tmp_path / 'Std.npy', std)
    return mean, std


def _batch(tmp_path, n=40, T=16, pred_from=None, seed=0):
    """A test batch of normalised real motions and samples carrying pred_motion (normalised)."""
    g = torch.Generator().manual_seed(seed)
    motion = torch.randn(n, T, 263, generator=g)
    lengths = torch.randint(8, T + 1, (n, ), generator=g)
    samples = []
    for i in range(n):
        tokens = ['sos/OTHER'] + [WORDS[(i + k) % len(WORDS)] for k in range(3)] + ['eos/OTHER']
        pred = motion[i] if pred_from is None else pred_from[i]
        s = BaseDataElement(metainfo=dict(length=int(lengths[i]), normalized=True,
                                          pred_motion_normalized=True, sent_len=len(tokens),
                                          mean_path=str(tmp_path / 'Mean.npy'),
                                          std_path=str(tmp_path / 'Std.npy'), sample_id=str(i)))
        s.gt_tokens = tokens
        s.pred_motion = pred[:int(lengths[i])]
        samples.append(s)
    return dict(inputs=dict(motion=motion, lengths=lengths)), samples


def _evaluator(tmp_path, mean, std):
    torch.manual_seed(0)
    ev = MODELS.build(EVAL)
    ev.set_feature_stats(mean, std)
    path = tmp_path / 'evaluator.pth'
    torch.save(dict(state_dict=ev.state_dict(), meta=dict()), path)
    return ev.eval(), str(path)


def test_generation_metric_matches_hand_embedded_protocol(tmp_path):
    mean, std = _stats(tmp_path)
    ev, ckpt = _evaluator(tmp_path, mean, std)
    g = torch.Generator().manual_seed(1)
    other = 3 * torch.randn(40, 16, 263, generator=g) + 1  # "generated": another distribution
    batch, samples = _batch(tmp_path, pred_from=other)
    metric = T2MGenerationMetric(evaluator=EVAL, evaluator_checkpoint=ckpt, replications=3,
                                 diversity_times=10, mm_num_texts=0)
    metric.dataset_meta = {}
    metric.process(batch, samples)
    got = metric.compute_metrics(metric.results)

    # by hand: de-normalise with the files' statistics, embed one motion at a time
    ref = T2MMetric(replications=3, diversity_times=10, mm_num_texts=0)
    with torch.no_grad():
        for i, s in enumerate(samples):
            n = s.metainfo['length']
            raw_real = batch['inputs']['motion'][i, :n] * torch.from_numpy(std) + torch.from_numpy(mean)
            raw_pred = other[i, :n] * torch.from_numpy(std) + torch.from_numpy(mean)
            lengths = torch.tensor([n])
            ref.process(None, [dict(text_embedding=ev.encode_text([s.gt_tokens])[0],
                                    gt_motion_embedding=ev.encode_motion(raw_real[None], lengths)[0],
                                    pred_motion_embedding=ev.encode_motion(raw_pred[None], lengths)[0])])
    want = ref.compute_metrics(ref.results)
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-5), key
    assert got['fid'] > 1e-3


def test_generation_metric_real_motions_score_like_ground_truth(tmp_path):
    mean, std = _stats(tmp_path)
    _, ckpt = _evaluator(tmp_path, mean, std)
    batch, samples = _batch(tmp_path)  # pred_motion = the real motion
    metric = T2MGenerationMetric(evaluator=EVAL, evaluator_checkpoint=ckpt, replications=2,
                                 diversity_times=10, mm_num_texts=0, fid_reference='same_batches')
    metric.process(batch, samples)
    out = metric.compute_metrics(metric.results)
    assert out['fid'] == pytest.approx(0.0, abs=1e-3)
    for k in (1, 2, 3):
        assert out[f'r_precision_top{k}'] == pytest.approx(out[f'gt/r_precision_top{k}'])
    assert out['mm_dist'] == pytest.approx(out['gt/mm_dist'], rel=1e-5)


def test_generation_metric_errors(tmp_path):
    mean, std = _stats(tmp_path)
    _, ckpt = _evaluator(tmp_path, mean, std)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        metric = T2MGenerationMetric(evaluator=EVAL, evaluator_checkpoint=str(tmp_path / 'missing.pth'))
        metric.evaluator
    with pytest.raises(ValueError, match='feature statistics'):
        T2MGenerationMetric(evaluator=EVAL).evaluator  # untrained, no stats
    with pytest.raises(ValueError, match='neither a config dict nor a .py'):
        T2MGenerationMetric(evaluator='evaluator.yaml').evaluator
    batch, samples = _batch(tmp_path, n=4)
    metric = T2MGenerationMetric(evaluator=EVAL, evaluator_checkpoint=ckpt)
    samples[2].pred_motion = samples[2].pred_motion.clone()
    samples[2].pred_motion[0, 5] = float('nan')
    with pytest.raises(ValueError, match="pred_motion of sample '2' has NaN"):
        metric.process(batch, samples)
    batch, samples = _batch(tmp_path, n=4)
    samples[1].set_metainfo(dict(mean_path=None))
    with pytest.raises(KeyError, match='mean_path/std_path'):
        metric.process(batch, samples)
    with pytest.raises(KeyError, match='inputs\\["motion"\\]'):
        metric.process(dict(inputs=dict()), samples)


def _straight_motion(shared_data):
    """A real HumanML3D feature sequence with its facing frozen (root rotation velocity 0)."""
    path = sorted((shared_data / 'humanml3d_reference' / 'new_joint_vecs').glob('*.npy'))[0]
    feats = np.load(path).astype(np.float32)[:40]
    feats[:, 0] = 0.0
    return feats


@pytest.mark.parametrize('joints', ['left_wrist', 'root_horizontal'])
def test_control_error_hand_computed(shared_data, tmp_path, joints):
    real = _straight_motion(shared_data)
    T, d = len(real), 0.01
    pred = real.copy()
    pred[:, 2] += d  # 1 cm more forward root velocity every frame, same facing
    # raw features (no normalisation): frame t is displaced by t * d (the root integrates the
    # velocities of frames 0..t-1), the root-relative wrist is unchanged
    s = BaseDataElement(metainfo=dict(length=T))
    s.pred_motion = torch.from_numpy(pred)
    metric = ControlErrorMetric(control_joints=joints)
    metric.process(dict(inputs=dict(motion=torch.from_numpy(real)[None])), [s])
    out = metric.compute_metrics(metric.results)
    assert out['error'] == pytest.approx(1000 * d * (T - 1) / 2, rel=1e-4)
    assert out['error_max'] == pytest.approx(1000 * d * (T - 1), rel=1e-4)
    assert out['error_local'] == pytest.approx(0.0, abs=1e-3)
    if joints == 'left_wrist':
        assert out['error_facing'] == pytest.approx(0.0, abs=1e-6)
        # a wrist moved 2 cm up in the facing frame moves it 2 cm everywhere
        pred2 = real.copy()
        wrist = 4 + 3 * (20 - 1) + 1  # ric block, joint 20 (left_wrist), y
        pred2[:, wrist] += 0.02
        s.pred_motion = torch.from_numpy(pred2)
        metric = ControlErrorMetric(control_joints=joints)
        metric.process(dict(inputs=dict(motion=torch.from_numpy(real)[None])), [s])
        out = metric.compute_metrics(metric.results)
        for key in ('error', 'error_local', 'error_facing', 'error_max'):
            assert out[key] == pytest.approx(20.0, rel=1e-4), key


def test_control_error_exact_copy_and_bad_names(shared_data):
    real = _straight_motion(shared_data)
    s = BaseDataElement(metainfo=dict(length=len(real)))
    s.pred_motion = torch.from_numpy(real)
    metric = ControlErrorMetric(control_joints=['left_wrist', 'right_foot'])
    metric.process(dict(inputs=dict(motion=torch.from_numpy(real)[None])), [s])
    out = metric.compute_metrics(metric.results)
    assert out['error'] == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(KeyError, match='left_wirst'):
        ControlErrorMetric(control_joints='left_wirst')
    with pytest.raises(ValueError, match='no samples'):
        ControlErrorMetric(control_joints='left_wrist').compute_metrics([])


def test_root_and_joint_control_fixes_the_global_position(shared_data):
    """PriorMDM's controlled features of ['root_horizontal', 'left_wrist'] determine the wrist's
    global position: any change to the other features leaves it in place."""
    from motionkit.models.editors.editing import joint_control_mask
    from motionkit.motion import HumanML3DFeatures
    path = sorted((shared_data / 'humanml3d_reference' / 'new_joint_vecs').glob('*.npy'))[0]
    real = np.load(path).astype(np.float32)[:40]
    keep = joint_control_mask(HumanML3DFeatures(), ['root_horizontal', 'left_wrist']).numpy()
    pred = real + np.where(keep, 0.0, np.random.default_rng(0).normal(size=real.shape)).astype(np.float32)
    s = BaseDataElement(metainfo=dict(length=len(real)))
    s.pred_motion = torch.from_numpy(pred)
    for joints, free in ((['root_horizontal', 'left_wrist'], False), ('left_wrist', True)):
        metric = ControlErrorMetric(control_joints=joints)
        metric.process(dict(inputs=dict(motion=torch.from_numpy(real)[None])), [s])
        out = metric.compute_metrics(metric.results)
        if free:  # scored on the wrist alone: its facing-frame position is exact
            assert out['error_facing'] == pytest.approx(0.0, abs=1e-4)
        else:  # root xz and the wrist: exact, in mm
            assert out['error'] < 1e-3 and out['error_max'] < 1e-3


ABS_EVAL = dict(type='T2MEvaluator', feature_dim=66, contact_dims=0, movement_hidden=16,
                movement_dim=16, motion_hidden=16, text_hidden=16, embed_dim=8, word_dim=8,
                num_word_buckets=64)


def test_absolute_coordinate_evaluator_reads_joints_and_keeps_every_channel():
    torch.manual_seed(0)
    ev = MODELS.build(ABS_EVAL).eval()
    assert ev.movement_encoder.conv1[0].in_channels == 66  # no foot-contact channels dropped
    joints = torch.randn(2, 12, 22, 3)
    lengths = torch.tensor([12, 8])
    with torch.no_grad():
        a = ev.encode_motion(joints, lengths)
        b = ev.encode_motion(joints.flatten(2), lengths)
        # the last coordinate counts: changing it changes the embedding
        moved = joints.clone()
        moved[:, :, -1, -1] += 1.0
        c = ev.encode_motion(moved, lengths)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    with pytest.raises(ValueError, match='contact_dims must be in'):
        MODELS.build(dict(ABS_EVAL, contact_dims=66))
    with pytest.raises(ValueError, match=r'motion must be \(B, T, 66\)'):
        ev.encode_motion(torch.randn(2, 12, 21, 3), lengths)


def test_generation_metric_scores_replications_and_their_multimodality(tmp_path):
    """Samples with R independent generations (joints, raw metres): replication r scores the r-th
    generation of every sample, the R generations are MultiModality's repeats, and the CLIP-score
    (MARDM preset) is the mean cosine of caption and generated-motion embeddings."""
    torch.manual_seed(0)
    ev = MODELS.build(ABS_EVAL)
    ev.set_feature_stats(np.zeros(66, np.float32), np.ones(66, np.float32))
    ckpt = tmp_path / 'abs.pth'
    torch.save(dict(state_dict=ev.state_dict(), meta=dict()), ckpt)
    ev.eval()
    n, T, R = 36, 12, 3
    g = torch.Generator().manual_seed(2)
    real = torch.randn(n, T, 22, 3, generator=g)
    gens = torch.randn(n, R, T, 66, generator=g)
    samples = []
    for i in range(n):
        tokens = ['sos/OTHER', WORDS[i % len(WORDS)], WORDS[(i + 1) % len(WORDS)], 'eos/OTHER']
        s = BaseDataElement(metainfo=dict(length=T, sent_len=len(tokens), sample_id=str(i)))
        s.gt_tokens = tokens
        s.pred_motion = gens[i, 0]
        s.pred_motion_replications = gens[i]
        samples.append(s)
    batch = dict(inputs=dict(motion=real, lengths=torch.full((n, ), T)))
    opts = dict(preset='mardm', replications=R, diversity_times=10, mm_num_texts=n,
                mm_num_repeats=R, mm_num_times=2)
    metric = T2MGenerationMetric(evaluator=ABS_EVAL, evaluator_checkpoint=str(ckpt), **opts)
    metric.dataset_meta = {}
    metric.process(batch, samples)
    got = metric.compute_metrics(metric.results)

    ref = T2MMetric(**opts)
    lengths = torch.full((1, ), T)
    with torch.no_grad():
        for i, s in enumerate(samples):
            p = torch.stack([ev.encode_motion(gens[i, r][None], lengths)[0] for r in range(R)])
            ref.process(None, [dict(text_embedding=ev.encode_text([s.gt_tokens])[0],
                                    gt_motion_embedding=ev.encode_motion(real[i:i + 1], lengths)[0],
                                    pred_motion_embedding=p, mm_motion_embeddings=p)])
    want = ref.compute_metrics(ref.results)
    assert set(got) == set(want) and {'clip_score', 'gt/clip_score', 'multimodality'} <= set(got)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-5), key
    # the CLIP-score of replication 0, by hand over the evaluated samples is bounded by [-1, 1]
    assert -1.0 <= got['clip_score'] <= 1.0 and got['multimodality'] > 0
    bad = samples[0]
    bad.pred_motion_replications = gens[0][:, :4]
    metric2 = T2MGenerationMetric(evaluator=ABS_EVAL, evaluator_checkpoint=str(ckpt), **opts)
    with pytest.raises(ValueError, match=r'pred_motion_replications of sample 0 must be \(R, >= 12, 66\)'):
        metric2.process(batch, [bad])


def test_clip_score_comes_from_the_contrastive_evaluator_when_given(tmp_path):
    """The references' CLIP-score is a second, contrastive evaluator's cosine (MotionCLIP); with
    clip_evaluator the CLIP-score is that model's, every other number stays the main evaluator's."""
    torch.manual_seed(0)
    ckpts = {}
    models = {}
    for name, cfg in (('main', ABS_EVAL), ('clip', dict(ABS_EVAL, loss='infonce', embed_dim=6))):
        ev = MODELS.build(cfg)
        ev.set_feature_stats(np.zeros(66, np.float32), np.ones(66, np.float32))
        ckpts[name] = tmp_path / f'{name}.pth'
        torch.save(dict(state_dict=ev.state_dict(), meta=dict()), ckpts[name])
        models[name] = ev.eval()
    n, T = 32, 8
    g = torch.Generator().manual_seed(3)
    real, gen = torch.randn(n, T, 22, 3, generator=g), torch.randn(n, T, 66, generator=g)
    samples = []
    for i in range(n):
        s = BaseDataElement(metainfo=dict(length=T, sample_id=str(i)))
        s.gt_tokens = ['sos/OTHER', WORDS[i % len(WORDS)], 'eos/OTHER']
        s.pred_motion = gen[i]
        samples.append(s)
    batch = dict(inputs=dict(motion=real, lengths=torch.full((n, ), T)))
    opts = dict(preset='mardm', replications=1, diversity_times=10, mm_num_texts=0)
    with_clip = T2MGenerationMetric(evaluator=ABS_EVAL, evaluator_checkpoint=str(ckpts['main']),
                                    clip_evaluator=dict(ABS_EVAL, loss='infonce', embed_dim=6),
                                    clip_evaluator_checkpoint=str(ckpts['clip']), **opts)
    plain = T2MGenerationMetric(evaluator=ABS_EVAL, evaluator_checkpoint=str(ckpts['main']), **opts)
    out = {}
    for name, metric in (('clip', with_clip), ('plain', plain)):
        metric.dataset_meta = {}
        metric.process(batch, samples)
        out[name] = metric.compute_metrics(metric.results)
    with torch.no_grad():
        for name in ('clip', 'main'):
            ev = models[name]
            t = ev.encode_text([s.gt_tokens for s in samples])
            m = ev.encode_motion(gen, torch.full((n, ), T))
            want = torch.nn.functional.cosine_similarity(t, m, dim=-1).mean().item()
            got = out['clip' if name == 'clip' else 'plain']['clip_score']
            assert got == pytest.approx(want, rel=1e-4), name
    assert out['clip']['fid'] == pytest.approx(out['plain']['fid'])
    assert out['clip']['clip_score'] != pytest.approx(out['plain']['clip_score'])


def _abs_evaluator(tmp_path):
    torch.manual_seed(0)
    ev = MODELS.build(ABS_EVAL)
    ev.set_feature_stats(np.zeros(66, np.float32), np.ones(66, np.float32))
    ckpt = tmp_path / 'abs.pth'
    torch.save(dict(state_dict=ev.state_dict(), meta=dict()), ckpt)
    return ev.eval(), str(ckpt)


def test_generation_metric_embeds_each_replication_with_its_own_length(tmp_path):
    """Generations of different lengths (a motion LM's R samples per caption): given as a padded
    (R, T, D) array with pred_motion_replication_lengths, or as a list of (T_r, D), each is
    embedded with its own length (cut to a multiple of the unit length 4); the padding is never
    read (NaN there); replication r of the protocol scores the r-th, MultiModality uses all R."""
    ev, ckpt = _abs_evaluator(tmp_path)
    n, T, R = 34, 20, 3
    g = torch.Generator().manual_seed(5)
    real = torch.randn(n, T, 66, generator=g)
    lens = [[8 + 4 * ((i + r) % 3) + (r == 2) for r in range(R)] for i in range(n)]  # 8..17 frames
    gens = [[torch.randn(m, 66, generator=g) for m in row] for row in lens]
    samples = []
    for i in range(n):
        tokens = ['sos/OTHER', WORDS[i % len(WORDS)], WORDS[(i + 2) % len(WORDS)], 'eos/OTHER']
        s = BaseDataElement(metainfo=dict(length=T, sent_len=len(tokens), sample_id=str(i),
                                          pred_length=lens[i][0]))
        s.gt_tokens = tokens
        s.pred_motion = gens[i][0]
        if i % 2:
            s.pred_motion_replications = list(gens[i])
        else:
            padded = torch.full((R, T, 66), float('nan'))
            for r in range(R):
                padded[r, :lens[i][r]] = gens[i][r]
            s.pred_motion_replications = padded
            s.pred_motion_replication_lengths = torch.tensor(lens[i])
        samples.append(s)
    batch = dict(inputs=dict(motion=real, lengths=torch.full((n, ), T)))
    opts = dict(preset='guo2022', replications=R, diversity_times=10, mm_num_texts=n,
                mm_num_repeats=R, mm_num_times=2)
    metric = T2MGenerationMetric(evaluator=ABS_EVAL, evaluator_checkpoint=ckpt, **opts)
    metric.dataset_meta = {}
    metric.process(batch, samples)
    with torch.no_grad():
        # by hand for sample 2: lengths 16, 8, 13 -> 16, 8, 12 frames
        assert lens[2] == [16, 8, 13]
        want2 = torch.stack([ev.encode_motion(gens[2][r][:m][None], torch.tensor([m]))[0]
                             for r, m in enumerate((16, 8, 12))])
    assert np.allclose(metric.results[2]['pred'], want2.numpy(), atol=1e-5)
    assert np.allclose(metric.results[2]['mm'], want2.numpy(), atol=1e-5)
    got = metric.compute_metrics(metric.results)

    ref = T2MMetric(**opts)
    with torch.no_grad():
        for i, s in enumerate(samples):
            p = torch.stack([ev.encode_motion(gens[i][r][:m - m % 4][None], torch.tensor([m - m % 4]))[0]
                             for r, m in enumerate(lens[i])])
            ref.process(None, [dict(text_embedding=ev.encode_text([s.gt_tokens])[0],
                                    gt_motion_embedding=ev.encode_motion(real[i:i + 1], torch.tensor([T]))[0],
                                    pred_motion_embedding=p, mm_motion_embeddings=p)])
    want = ref.compute_metrics(ref.results)
    assert set(got) == set(want) and 'multimodality' in got
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-5), key

    bad = BaseDataElement(metainfo=dict(length=T, sample_id='x', pred_length=8))
    bad.gt_tokens, bad.pred_motion = ['sos/OTHER', 'eos/OTHER'], gens[0][0]
    bad.pred_motion_replications = torch.zeros(R, T, 66)
    bad.pred_motion_replication_lengths = torch.tensor([8, 30, 8])
    one = dict(inputs=dict(motion=real[:1], lengths=torch.full((1, ), T)))
    with pytest.raises(ValueError, match=r'pred_motion_replication_lengths of sample 0 \(\[8, 30, 8\]\) must give'):
        metric.process(one, [bad])
    bad.pred_motion_replication_lengths = torch.tensor([8, 3, 8])
    with pytest.raises(ValueError, match='generation 1 of pred_motion_replications of sample 0 has fewer than 4'):
        metric.process(one, [bad])
    bad.pred_motion_replications = [torch.zeros(8, 66), torch.zeros(8, 5)]
    del bad.pred_motion_replication_lengths
    with pytest.raises(ValueError, match=r'must be a non-empty list of \(T_r, 66\) generations'):
        metric.process(one, [bad])
