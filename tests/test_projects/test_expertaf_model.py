"""projects/expertaf: the LLM head's configs (paper scale on meta, a tiny Runner train -> test with
the table-1 metrics), the video-NN baseline on a hand-made pool, and the two ExpertAF metrics."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement

from tests.conftest import REPO_ROOT

CFG_DIR = REPO_ROOT / 'projects' / 'expertaf' / 'configs'


def test_paper_config_builds_on_meta_with_llama3_8b_counts():
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CFG_DIR / 'expertaf_llama3-8b-full_8xb4-3e_expertaf.py'))
    assert cfg.paper_scale and cfg.runner_type == 'FlexibleRunner'
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    model_cfg.update(tokenizer=None, init_device='meta', pose_tokenizer_checkpoint=None)
    m = MODELS.build(model_cfg)
    n_lm = sum(p.numel() for p in m.lm.parameters())
    n_pose_rows = m.pose_token_embed.weight.numel() + m.pose_token_head.weight.numel()
    assert n_lm == 8_030_261_248 and n_pose_rows == 2 * 2050 * 4096
    assert m.pose_stream_length == 10 * 35 + 1 == 351  # the reference's token count per stream
    groups = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert groups['pose_token_embed']['lr_mult'] == groups['pose_token_head']['lr_mult'] == 0.1


def test_video_nn_baseline_on_a_hand_made_pool():
    from motionkit.models.llm_heads import VideoNNFeedbackBaseline
    m = VideoNNFeedbackBaseline()
    j = [torch.full((2, 17, 3), float(v)) for v in range(3)]
    pool = [dict(inputs=dict(learner_video=torch.tensor([[1., 0.], [1., 0.]])),
                 data_samples=dict(gt_text='bend knees', gt_expert_joints=j[0])),
            dict(inputs=dict(learner_video=torch.tensor([[0., 1.], [0., 3.]])),
                 data_samples=dict(gt_text='raise arm', gt_expert_joints=j[1])),
            dict(inputs=dict(learner_video=torch.tensor([[-1., 0.]])),
                 data_samples=dict(gt_text='turn hips', gt_expert_joints=j[2]))]
    assert m.set_pool_from_items(pool) == 3
    cands = [dict(inputs=dict(expert_video=torch.tensor([[1., 1.]])), data_samples=dict(sample_id='q0')),
             dict(inputs=dict(expert_video=torch.tensor([[0., -1.]])), data_samples=dict(sample_id='q1'))]
    m.set_candidates_from_items(cands)
    # query 0 mean (0.2, 1) -> closest to item 1; query 1 (-2, -0.1) -> item 2 (cosines checked by hand)
    inputs = dict(learner_video=[torch.tensor([[0.2, 1.]]), torch.tensor([[-2., -0.1]])])
    out = m(inputs, [BaseDataElement(sample_id='q0'), BaseDataElement(sample_id='q1')], mode='predict')
    assert [o.pred_text for o in out] == ['raise arm', 'turn hips'] and [o.nn_index for o in out] == [1, 2]
    assert torch.equal(out[0].pred_expert_joints, j[1])
    q0 = torch.tensor([0.2, 1.]) / torch.tensor([0.2, 1.]).norm()
    expect = torch.stack([q0 @ torch.tensor([1., 1.]) / 2 ** 0.5, q0 @ torch.tensor([0., -1.])])
    torch.testing.assert_close(out[0].pred_retrieval_scores, expect)
    assert out[1].gt_candidate_index == 1
    with pytest.raises(RuntimeError, match='nothing to train'):
        m(inputs, None, mode='loss')


def test_candidate_retrieval_metric_hand_checked():
    from motionkit.evaluation.metrics import CandidateRetrievalMetric
    metric = CandidateRetrievalMetric(ks=(1, 2))
    # ranks (0-based) of the truth: 0, 1, 2.5 (tie of two at positions 2-3), 0
    rows = [([5., 1., 0., 0.], 0), ([1., 3., 0., 0.], 0), ([9., 8., 1., 1.], 3), ([0., 0., 0., 7.], 3)]
    metric.process(None, [dict(pred_retrieval_scores=np.array(s), gt_candidate_index=i) for s, i in rows])
    out = metric.compute_metrics(metric.results)
    assert out['R01'] == pytest.approx(0.5) and out['R02'] == pytest.approx(0.75)
    assert out["MedR"] == pytest.approx(1.5) and out['pool_size'] == 4
    assert CandidateRetrievalMetric().cfg['ks'] == (50, )  # the expertaf preset
    with pytest.raises(ValueError, match='outside the pool'):
        metric.process(None, [dict(pred_retrieval_scores=np.zeros(3), gt_candidate_index=3)])


def test_generated_pose_metric_pa_mpjpe_and_stream_rates():
    from motionkit.evaluation.metrics import GeneratedPoseMetric
    g = np.random.default_rng(0)
    gt = g.normal(size=(2, 17, 3))
    rot = np.array([[0., -1., 0.], [1., 0., 0.], [0., 0., 1.]])
    metric = GeneratedPoseMetric()
    samples = [dict(pred_expert_joints=2.0 * gt @ rot.T + 0.5, gt_expert_joints=gt,  # similarity: PA = 0
                    pred_pose_stream=dict(well_formed=1, fallback=0)),
               dict(pred_expert_joints=gt + np.array([0.01, 0., 0.]) * (np.arange(17) % 2)[:, None],
                    gt_expert_joints=gt, pred_pose_stream=dict(well_formed=0, fallback=1))]
    metric.process(None, samples)
    out = metric.compute_metrics(metric.results)
    from motionkit.evaluation.functional import pa_mpjpe
    expect = np.concatenate([[0.0, 0.0], pa_mpjpe(samples[1]['pred_expert_joints'], gt, reduction='per_frame')])
    assert out['pa_mpjpe'] == pytest.approx(expect.mean(), abs=1e-6) and out['pa_mpjpe'] > 0
    assert out['well_formed'] == 0.5 and out['fallback'] == 0.5


def test_tiny_config_trains_then_tests_with_table1_metrics(tmp_path, monkeypatch):
    from mmengine.runner import Runner
    monkeypatch.syspath_prepend(str(REPO_ROOT / 'projects' / 'expertaf'))
    cfg = Config.fromfile(str(CFG_DIR / 'expertaf_tiny_1xb8-300_toy.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_iters = 4
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.checkpoint.interval = 4
    cfg.test_dataloader.dataset.num_items = 6
    cfg.test_dataloader.batch_size = 3
    cfg.model.max_new_tokens = 4
    cfg.test_evaluator = [dict(type='CaptionMetric', preset='default'),
                          dict(type='CandidateRetrievalMetric', preset='expertaf', ks=(1, 50)),
                          dict(type='GeneratedPoseMetric')]
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert metrics['retrieval/pool_size'] == 6 and metrics['retrieval/R50'] == 1.0
    assert 1.0 <= metrics['retrieval/MedR'] <= 6.0
    assert metrics['pose/pa_mpjpe'] >= 0.0 and 0.0 <= metrics['pose/well_formed'] <= 1.0
    assert 'caption/bleu_4' in metrics or any(k.startswith('caption/') for k in metrics)
