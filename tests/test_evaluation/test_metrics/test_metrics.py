import os
import pickle

import numpy as np
import pytest
import torch

from motionkit.evaluation.functional import diversity, fid, mm_dist, multimodality, r_precision
from motionkit.evaluation.metrics import (CAPTION_PRESETS, RETRIEVAL_PRESETS, T2M_PRESETS,
                                          CaptionMetric, JointErrorMetric, RecognitionMetric,
                                          RetrievalMetric, T2MMetric)
from motionkit.registry import METRICS

PREDS = ['a person walks forward and then turns left.', 'someone jumps twice', '']
REFS = ['a man walks forward then turns left.', 'someone hops twice', 'a person waves']


def _letters(texts):
    out = np.zeros((len(texts), 26))
    for i, t in enumerate(texts):
        for ch in t:
            if 'a' <= ch <= 'z':
                out[i, ord(ch) - 97] += 1
    return out + 1e-3


def _run(metric, samples, batch=2):
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i:i + batch])
    pickle.dumps(metric.results)  # what collect_results gathers across ranks must pickle
    return metric.evaluate(len(samples))


def test_registry_builds_every_metric():
    for name in ('CaptionMetric', 'JointErrorMetric', 'RecognitionMetric', 'RetrievalMetric',
                 'T2MMetric', 'DumpPredictions'):
        cfg = dict(type=name)
        if name == 'DumpPredictions':
            cfg['out_file_path'] = 'x.pkl'
        assert type(METRICS.build(cfg)).__name__ == name
    with pytest.raises(ValueError, match='unknown caption preset'):
        CaptionMetric(preset='nope')
    with pytest.raises(ValueError, match='unknown T2MMetric options'):
        T2MMetric(replication=3)


def test_caption_cigtime_preset_equals_its_script(wordnet_dir):
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from nltk.translate.meteor_score import meteor_score
    from rouge import Rouge
    metric = CaptionMetric(preset='cigtime', text_encoder=_letters, nltk_data=wordnet_dir)
    out = _run(metric, [dict(pred_text=p, gt_texts=[r]) for p, r in zip(PREDS, REFS)])
    sm = SmoothingFunction()
    bleu4 = np.mean([sentence_bleu([r.split()], p.split(), smoothing_function=sm.method1)
                     for p, r in zip(PREDS, REFS)])
    rouge1 = np.mean([0 if not p else Rouge().get_scores(p, r)[0]['rouge-1']['f']
                      for p, r in zip(PREDS, REFS)])
    met = np.mean([meteor_score([r.split()], p.split()) for p, r in zip(PREDS, REFS)])
    assert out['caption/bleu_4'] == pytest.approx(bleu4)
    assert out['caption/rouge_1'] == pytest.approx(rouge1)
    assert out['caption/meteor'] == pytest.approx(met)
    e = _letters(PREDS)
    g = _letters(REFS)
    cos = (e * g).sum(1) / np.linalg.norm(e, axis=1) / np.linalg.norm(g, axis=1)
    assert out['caption/text_sim'] == pytest.approx(cos.mean())


def test_caption_expertaf_preset_equals_its_script(wordnet_dir):
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
    from pycocoevalcap.cider.cider import Cider
    preds, refs = PREDS[:2], REFS[:2]
    metric = CaptionMetric(preset='expertaf', nltk_data=wordnet_dir)
    out = _run(metric, [dict(pred_text=p, gt_text=r) for p, r in zip(preds, refs)])
    bleu4 = corpus_bleu([[r.split()] for r in refs], [p.split() for p in preds],
                        smoothing_function=SmoothingFunction().method4)
    cider, _ = Cider().compute_score({i: [r] for i, r in enumerate(refs)},
                                     {i: [p] for i, p in enumerate(preds)})
    assert out['caption/bleu_4'] == pytest.approx(bleu4)
    assert out['caption/cider'] == pytest.approx(cider)
    assert set(CAPTION_PRESETS) >= {'cigtime', 'expertaf', 'coco', 'default'}


def test_caption_bad_inputs():
    metric = CaptionMetric()
    with pytest.raises(KeyError, match='pred_text'):
        metric.process(None, [dict(gt_texts=['a'])])
    with pytest.raises(ValueError, match='no predictions'):
        metric.compute_metrics([])


def test_joint_error_metric_lengths_and_averages():
    gt = np.zeros((4, 3, 3))
    a = dict(pred_joints=torch.from_numpy(gt + [0.001, 0, 0]), gt_joints=gt, length=4)
    b = dict(pred_joints=gt + [0.004, 0, 0], gt_joints=gt, length=2)  # frames 2-3 are padding
    b['pred_joints'][2:] = 9.0
    out = _run(JointErrorMetric(), [a, b])
    assert out['joint/mpjpe'] == pytest.approx((4 * 1 + 2 * 4) / 6)
    out = _run(JointErrorMetric(average='motion'), [a, b])
    assert out['joint/mpjpe'] == pytest.approx(2.5)
    assert out['joint/pa_mpjpe'] == pytest.approx(0.0, abs=1e-6)  # pure translations
    with pytest.raises(ValueError, match='length=9'):
        JointErrorMetric().process(None, [dict(a, length=9)])


def test_recognition_metric():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    samples = [dict(pred_score=torch.tensor(s), gt_label=torch.tensor([y]))
               for s, y in zip(scores, [1, 1, 0])]
    out = _run(RecognitionMetric(topk=(1, 2)), samples)
    assert out == {'recognition/top1': pytest.approx(1 / 3), 'recognition/top2': pytest.approx(2 / 3)}
    ml = [dict(pred_score=s, gt_labels=lab) for s, lab in zip(scores, [[1], [0, 1], [2]])]
    out = _run(RecognitionMetric(preset='multilabel'), ml)
    assert 0 < out['recognition/mAP'] <= 1
    assert out['recognition/top1'] == pytest.approx(1.0)  # every top class is one of the labels
    # with training counts: hit accuracy per bucket (3 classes: no head, class 0 medium, 1 and 2
    # tail); tail: samples 0 ({1}), 1 ({0, 1}), 2 ({2}) have a tail label; sample 1's top class is
    # the medium class 0, so it is no tail hit: 2 / 3
    out = _run(RecognitionMetric(preset='multilabel', class_counts=[10, 5, 1]), ml)
    assert np.isnan(out['recognition/head_acc']) and out['recognition/medium_acc'] == pytest.approx(1.0)
    assert out['recognition/tail_acc'] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match='class_counts'):
        RecognitionMetric(preset='longtail')


def test_retrieval_metric_tmr_preset():
    rng = np.random.default_rng(0)
    n = 70
    text = rng.normal(size=(n, 8))
    samples = [dict(text_embedding=t, motion_embedding=t + rng.normal(size=8),
                    sentence_embedding=t, motion_id=f'{i:05d}') for i, t in enumerate(text)]
    subset = [f'{i:05d}' for i in range(0, n, 2)]
    with pytest.warns(UserWarning, match='subset_ids'):
        RetrievalMetric(preset='tmr').compute_metrics(
            [dict(id=s['motion_id'], text=s['text_embedding'], motion=s['motion_embedding'],
                  sentence=s['sentence_embedding']) for s in samples])
    out = _run(RetrievalMetric(preset='tmr', subset_ids=subset), samples)
    for proto in ('all', 'threshold_0.95', 'dissimilar', 'batch32'):
        assert 0 <= out[f'retrieval/{proto}/t2m/R01'] <= out[f'retrieval/{proto}/t2m/R10'] <= 1
    # the dissimilar subset is exactly the sub-matrix of the listed ids
    from motionkit.evaluation.functional import cosine_similarity_matrix, directional_metrics
    sel = np.arange(0, n, 2)
    t = np.stack([s['text_embedding'] for s in samples])
    m = np.stack([s['motion_embedding'] for s in samples])
    sub = directional_metrics(cosine_similarity_matrix(t[sel], m[sel]))
    assert out['retrieval/dissimilar/m2t/R03'] == pytest.approx(sub['m2t/R03'])
    out = _run(RetrievalMetric(preset='expertaf'), samples)
    assert set(out) == {'retrieval/all/t2m/R50', 'retrieval/all/t2m/MedR'}
    assert RETRIEVAL_PRESETS['tmr']['threshold'] == 0.95


def _t2m_samples(n, d=8, reps=2, mm_texts=40, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = rng.normal(size=d)
        s = dict(text_embedding=t, gt_motion_embedding=t + 0.5 * rng.normal(size=d),
                 pred_motion_embedding=t + 0.8 * rng.normal(size=(reps, d)))
        if i < mm_texts:
            s['mm_motion_embeddings'] = t + rng.normal(size=(30, d))
        out.append(s)
    return out


def test_t2m_metric_momask_protocol_replayed_by_hand():
    samples = _t2m_samples(100)
    metric = T2MMetric(preset='momask', replications=2, diversity_times=50,
                       small_set_diversity_times=20, mm_num_texts=32, eval_gt=False)
    out = _run(metric, samples)
    # replay the protocol with the functional API and the same random stream
    text = np.stack([s['text_embedding'] for s in samples])
    gt = np.stack([s['gt_motion_embedding'] for s in samples])
    pred = np.stack([s['pred_motion_embedding'] for s in samples])
    mm = np.stack([s['mm_motion_embeddings'] for s in samples[:32]])
    rng = np.random.default_rng(0)
    rows = {k: [] for k in ('fid', 'diversity', 'r_precision_top1', 'mm_dist', 'multimodality')}
    for rep in range(2):
        idx = rng.permutation(100)[:96]
        p = pred[idx, rep]
        rows['r_precision_top1'].append(r_precision(text[idx], p)[0])
        rows['mm_dist'].append(mm_dist(text[idx], p))
        rows['fid'].append(fid(p, gt[idx]))
        rows['diversity'].append(diversity(p, 50, rng))
        rows['multimodality'].append(multimodality(mm, 10, rng))
    for key, vals in rows.items():
        assert out[f't2m/{key}'] == pytest.approx(np.mean(vals)), key
        assert out[f't2m/{key}_ci95'] == pytest.approx(1.96 * np.std(vals) / np.sqrt(2)), key


def test_t2m_presets_and_bad_inputs():
    assert T2M_PRESETS['guo2022']['replications'] == 20
    assert T2M_PRESETS['momask']['mm_num_texts'] == 96
    mdm = T2MMetric(preset='mdm')
    # num_samples_limit=1000 -> 1000 // 32 + 1 = 32 batches
    assert len(mdm._evaluated(4384, np.random.default_rng(0))) == 1024
    assert len(T2MMetric(preset='t2mgpt')._evaluated(4384, np.random.default_rng(0))) == 4384 - 0
    with pytest.raises(ValueError, match='fewer than one R-precision batch'):
        _run(T2MMetric(), _t2m_samples(20))
    bad = _t2m_samples(64, reps=1)
    bad[5]['pred_motion_embedding'] = np.full(8, np.nan)
    with pytest.raises(ValueError, match='NaN'):
        _run(T2MMetric(replications=1, diversity_times=10), bad)
    # perfect generations: R-precision of pred == that of gt, FID 0 against the same batches
    same = _t2m_samples(64, reps=1, mm_texts=0)
    for s in same:
        s['pred_motion_embedding'] = s['gt_motion_embedding']
    with pytest.warns(UserWarning):
        out = _run(T2MMetric(preset='t2mgpt', replications=2, small_set_diversity_times=10), same)
    assert out['t2m/fid'] == pytest.approx(0.0, abs=1e-6)
    assert out['t2m/r_precision_top3'] == pytest.approx(out['t2m/gt/r_precision_top3'])
    assert 't2m/multimodality' not in out


def _ddp_worker(rank, world, port, path, samples):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        metrics = [CaptionMetric(preset='default'), T2MMetric(replications=2, diversity_times=20)]
        mine = samples[rank::world]  # DefaultSampler's interleaved split
        res = []
        for metric in metrics:
            metric.process(None, mine)
            res.append(metric.evaluate(len(samples)))
        if rank == 0:
            with open(path, 'wb') as f:
                pickle.dump(res, f)
    finally:
        dist.destroy_process_group()


def make_gather_samples():
    """70 samples with captions and T2M embeddings (deterministic; also used by the torchrun
    worker in tests/data/scripts/metric_gather_worker.py)."""
    samples = _t2m_samples(70, mm_texts=0)
    for s, p, r in zip(samples, PREDS * 30, REFS * 30):
        s.update(pred_text=p or 'x', gt_texts=[r])
    return samples


@pytest.mark.slow  # two gloo processes (~10 s)
def test_metrics_gather_across_two_ranks(tmp_path):
    import socket
    import torch.multiprocessing as mp
    samples = make_gather_samples()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    path = str(tmp_path / 'out.pkl')
    mp.spawn(_ddp_worker, args=(2, port, path, samples), nprocs=2, join=True)
    with open(path, 'rb') as f:
        ddp = pickle.load(f)
    single = [_run(CaptionMetric(preset='default'), samples),
              _run(T2MMetric(replications=2, diversity_times=20), samples)]
    for a, b in zip(ddp, single):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k]), k


@pytest.mark.slow  # two processes under torchrun (~15 s)
def test_metrics_gather_under_torchrun(tmp_path):
    import socket
    import subprocess
    import sys
    from tests.conftest import REPO_ROOT
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    out = tmp_path / 'out.pkl'
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={port}', 'tests/data/scripts/metric_gather_worker.py', str(out)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, 'rb') as f:
        ddp = pickle.load(f)
    assert ddp['world'] == 2
    samples = make_gather_samples()
    single = [_run(CaptionMetric(preset='default'), samples),
              _run(T2MMetric(replications=2, diversity_times=20), samples)]
    for a, b in zip(ddp['results'], single):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k]), k


def test_one_preset_mechanism_for_every_metric():
    from motionkit.evaluation.metrics import (CAPTION_PRESETS, RECOGNITION_PRESETS, RETRIEVAL_PRESETS, T2M_PRESETS,
                                              CaptionMetric, RecognitionMetric, RetrievalMetric, T2MMetric)
    from motionkit.evaluation.metrics._presets import resolve_preset
    presets = {'p': dict(a=1, b=dict(c=2))}
    cfg = resolve_preset('toy', presets, 'p', dict(a=3))
    assert cfg == dict(a=3, b=dict(c=2))
    cfg['b']['c'] = 9
    assert presets['p']['b']['c'] == 2  # a deep copy: the preset table never changes
    with pytest.raises(ValueError, match=r"unknown toy preset 'q'; choose from \['p'\]"):
        resolve_preset('toy', presets, 'q')
    with pytest.raises(ValueError, match=r"unknown ToyMetric options \['z'\]"):
        resolve_preset('toy', presets, 'p', dict(z=1), owner='ToyMetric')
    for cls, table, kind in ((CaptionMetric, CAPTION_PRESETS, 'caption'),
                             (RecognitionMetric, RECOGNITION_PRESETS, 'recognition'),
                             (RetrievalMetric, RETRIEVAL_PRESETS, 'retrieval'), (T2MMetric, T2M_PRESETS, 'T2M')):
        with pytest.raises(ValueError, match=f'unknown {kind} preset .*choose from {sorted(table)}'.replace('[', r'\[')
                           .replace(']', r'\]')):
            cls(preset='no-such-preset')
    assert RecognitionMetric(preset='default', topk=(1, 2)).cfg['topk'] == (1, 2)
    assert T2MMetric(preset='guo2022', replications=3).cfg['replications'] == 3


def test_clip_score_hand_computed():
    from motionkit.evaluation.functional import clip_score
    t = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    m = np.array([[1.0, 1.0], [0.0, -1.0], [4.0, 3.0]])
    # cosines: 1/sqrt(2), -1, 24/25
    assert clip_score(t, m) == pytest.approx((2 ** -0.5 - 1.0 + 0.96) / 3)
    with pytest.raises(ValueError, match='zero norm'):
        clip_score(t, np.zeros_like(m))
    with pytest.raises(ValueError, match='differ in shape'):
        clip_score(t, m[:2])


def test_t2m_metric_mardm_preset_reports_clip_score():
    from motionkit.evaluation.metrics import T2MMetric
    rng = np.random.default_rng(0)
    text = rng.normal(size=(32, 4))
    pred = text + 0.1 * rng.normal(size=(32, 4))
    metric = T2MMetric(preset='mardm', replications=2, diversity_times=10, mm_num_texts=0)
    metric.dataset_meta = {}
    for t, p in zip(text, pred):
        metric.process(None, [dict(text_embedding=t, gt_motion_embedding=t, pred_motion_embedding=p)])
    out = metric.compute_metrics(metric.results)
    cos = (text * pred).sum(1) / np.linalg.norm(text, axis=1) / np.linalg.norm(pred, axis=1)
    assert out['clip_score'] == pytest.approx(cos.mean())  # one batch of 32: every sample
    assert out['gt/clip_score'] == pytest.approx(1.0)
    plain = T2MMetric(preset='guo2022', replications=2, diversity_times=10, mm_num_texts=0)
    plain.dataset_meta = {}
    plain.process(None, [dict(text_embedding=t, gt_motion_embedding=t, pred_motion_embedding=p)
                         for t, p in zip(text, pred)])
    assert 'clip_score' not in plain.compute_metrics(plain.results)


def test_dump_predictions_leaves_out_excluded_fields(tmp_path):
    from mmengine.structures import BaseDataElement
    out = tmp_path / 'pred.pkl'
    metric = METRICS.build(dict(type='DumpPredictions', out_file_path=str(out),
                                exclude_keys=('pred_motion_replications', )))
    s = BaseDataElement(metainfo=dict(sample_id='a'))
    s.pred_motion = torch.ones(4, 66)
    s.pred_motion_replications = torch.ones(3, 4, 66)
    metric.process(None, [s])
    metric.compute_metrics(metric.results)
    from motionkit.utils import safe_pickle_load
    rows = safe_pickle_load(out)
    assert 'pred_motion' in rows[0] and 'pred_motion_replications' not in rows[0]
    assert rows[0]['sample_id'] == 'a'


def test_t2m_metric_multimodality_with_fewer_repeats_than_pairs_warns_and_uses_fewer(monkeypatch):
    from motionkit.evaluation.functional import multimodality
    from motionkit.evaluation.metrics import T2MMetric
    rng = np.random.default_rng(1)
    mm = rng.normal(size=(32, 3, 4))
    metric = T2MMetric(preset='mardm', replications=1, diversity_times=10, mm_num_texts=32)
    metric.dataset_meta = {}
    for i in range(32):
        metric.process(None, [dict(text_embedding=mm[i, 0], gt_motion_embedding=mm[i, 0],
                                   pred_motion_embedding=mm[i, 0], mm_motion_embeddings=mm[i])])
    import motionkit.evaluation.metrics.t2m_metric as t2m_module
    seen = []

    def spy(features, times, rng):  # the real function, recording what the metric asks of it
        seen.append((np.asarray(features).shape, times))
        return multimodality(features, times, rng)

    monkeypatch.setattr(t2m_module, 'multimodality', spy)
    with pytest.warns(UserWarning, match='3 generations per text allow 2 MultiModality pairs'):
        out = metric.compute_metrics(metric.results)
    # all 32 texts, their 3 repeats, and 2 pairs (the most a draw without replacement allows)
    assert seen == [((32, 3, 4), 2)]
    assert np.isfinite(out['multimodality']) and out['multimodality'] > 0
    with pytest.raises(ValueError, match='more repeats per text'):
        multimodality(mm, 3)
