"""projects/expertaf/pipeline_synthmotion.py on the generic runner: every stage resolves, the order
respects the data flow, each trained checkpoint and data folder reaches the stages that need it on
their command lines; the results table reads hand-made stage outputs; and the SynthMotion data path
(PackExpertAFInputs, float poses encoded by the model's PoseTokenizer) gives what the model expects."""
import importlib.util
import json

import numpy as np
import pytest
import torch

from motionkit.utils.pipeline import load_pipeline
from tests.conftest import REPO_ROOT

PIPELINE = REPO_ROOT / 'projects' / 'expertaf' / 'pipeline_synthmotion.py'
SMOKE = REPO_ROOT / 'projects' / 'expertaf' / 'pipeline_synthmotion_smoke.py'
CONFIGS = REPO_ROOT / 'projects' / 'expertaf' / 'configs'


def _table():
    spec = importlib.util.spec_from_file_location('expertaf_results', REPO_ROOT / 'projects/expertaf/results_table.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pipeline_resolves_and_passes_checkpoints_on_the_command_line(tmp_path):
    pipe = load_pipeline(str(PIPELINE), work_dir=str(tmp_path), log=lambda m: None)
    order = pipe.order
    for before, after in [('synthmotion', 'pairs'), ('synthmotion', 'features'), ('synthmotion', 'pct'),
                          ('pct', 'expertaf'), ('features', 'expertaf'), ('pairs_noalign', 'no_align'),
                          ('expertaf', 'test_expertaf'), ('no_align', 'test_no_align'), ('wordnet', 'video_nn'),
                          ('contrastive_nn', 'test_contrastive_nn'), ('test_expertaf', 'table'), ('video_nn', 'table'),
                          ('test_pct', 'table')]:
        assert order.index(before) < order.index(after), (before, after)
    w = str(tmp_path)
    train = ' '.join(pipe.command('expertaf'))
    assert f'model.pose_tokenizer_checkpoint={w}/pct/pct.pth' in train
    assert f'train_dataloader.dataset.data_root={w}/pairs ' in train
    assert f'train_dataloader.dataset.pipeline.0.cache_dir={w}/features' in train
    assert f'model.tokenizer.corpus=[{w}/pairs/executions.jsonl]' in train
    assert 'train_cfg.max_iters=600' in train and 'randomness.seed=0' in train
    # w/o alignment trains on the unaligned build and is tested on the aligned test pairs
    assert f'train_dataloader.dataset.data_root={w}/pairs_noalign ' in ' '.join(pipe.command('no_align'))
    test = ' '.join(pipe.command('test_no_align'))
    assert f'{w}/no_align/no_align.pth' in test and f'test_dataloader.dataset.data_root={w}/pairs ' in test
    assert '--search-s 0' in ' '.join(pipe.command('pairs_noalign'))
    assert f'--synthmotion {w}/synthmotion' in ' '.join(pipe.command('pairs'))
    nn = ' '.join(pipe.command('video_nn'))
    assert f'custom_hooks.0.train_pool.data_root={w}/pairs ' in nn and ' none ' in nn
    assert 'test_evaluator.0.nltk_data=' in nn
    assert f'{w}/contrastive_nn/contrastive_nn.pth' in ' '.join(pipe.command('test_contrastive_nn'))
    for name in order:  # every config a stage names exists
        stage = pipe.stages[name]
        if stage.kind != 'cmd':
            assert (REPO_ROOT / stage.target).is_file(), stage.target
    assert pipe.plan() == order
    assert pipe.dry_run().count('[run]') == len(order)
    smoke = load_pipeline(str(SMOKE), work_dir=str(tmp_path), log=lambda m: None)
    assert 'train_cfg.max_iters=10' in ' '.join(smoke.command('expertaf'))
    assert smoke.order == order


def test_feature_config_of_the_extraction_and_of_the_datasets_agree():
    """The cache key hashes the encoder / sampling dicts: the extraction config and every dataset
    that reads the cache must spell them the same."""
    from mmengine.config import Config
    ext = Config.fromfile(str(CONFIGS / 'video-features_tiny-vit_synthmotion.py'))
    want = dict(encoder=ext.encoder.to_dict(), sampling=ext.sampling.to_dict())
    for name in ('expertaf_tiny_1xb8-300_synthmotion.py', 'video-nn_tiny_synthmotion.py',
                 'video-nn-contrastive_tiny_1xb16-300_synthmotion.py'):
        cfg = Config.fromfile(str(CONFIGS / name))
        loaders = [cfg.test_dataloader.dataset.pipeline[0]]
        if cfg.get('train_dataloader'):
            loaders.append(cfg.train_dataloader.dataset.pipeline[0])
        for hook in cfg.get('custom_hooks', []):
            if hook.get('train_pool'):
                loaders.append(hook.train_pool.pipeline[0])
        for t in loaders:
            assert t.type == 'LoadCachedVideoFeatures'
            assert dict(encoder=t.encoder.to_dict(), sampling=t.sampling.to_dict()) == want, name


def test_results_table_reads_the_stage_outputs_and_reports_missing_ones(tmp_path):
    table = _table()

    def write(stage, metrics):
        (tmp_path / stage).mkdir(parents=True, exist_ok=True)
        (tmp_path / stage / 'metrics.json').write_text(json.dumps(metrics))

    common = {'retrieval/pool_size': 20.0, 'learner_pose/pa_mpjpe': 30.0}
    write('test_expertaf', {'caption/bleu_4': 0.25, 'caption/meteor': 0.5, 'caption/rouge_l': 0.375,
                            'retrieval/R01': 0.1, 'retrieval/R05': 0.3, 'retrieval/R50': 1.0, 'retrieval/MedR': 3.0,
                            'pose/pa_mpjpe': 25.0, 'pose/well_formed': 0.75, **common})
    write('video_nn', {'caption/bleu_4': 0.125, 'caption/meteor': 0.625, 'caption/rouge_l': 0.25,
                       'retrieval/R50': 1.0, 'retrieval/MedR': 2.0, 'pose/pa_mpjpe': 40.0, **common})
    write('test_no_align', {'caption/bleu_4': 0.2, 'retrieval/MedR': 4.0, 'pose/pa_mpjpe': 27.0, **common})
    write('test_pct', {'joint/pa_mpjpe': 12.5})
    (tmp_path / 'pairs').mkdir()
    (tmp_path / 'pairs' / 'statistics.json').write_text(json.dumps(
        {'pairs_per_split': {'train': 100, 'val': 2, 'test': 20}, 'pa_mpjpe_mm': {'all_pairs': {'mean': 50.25}}}))
    text = table.report([tmp_path])
    assert ('| ExpertAF (video + PCT pose tokens) | 25.0 | 50.0 | 37.5 | 10.0 | 30.0 | 100.0 | 3.0 | 25.0 | 75 |'
            in text)
    assert '| Video-feature NN (InternVideo2-NN analogue, frozen tiny ViT) | 12.5 | 62.5 | 25.0 | - | - | 100.0 | 2.0 |' in text
    assert 'missing (test_no_pose/metrics.json)' in text
    assert "| no correction: the learner's own pose | - | - | - | - | - | - | - | 30.0 | - |" in text
    assert '| PoseTokenizer reconstruction, SynthMotion test poses (floor) | - | - | - | - | - | - | - | 12.5 | - |' in text
    assert 'pool of 20 test experts' in text
    # the checks follow the numbers: BLEU-4 yes, METEOR no, MedR no (3 > 2), pose yes (25 < 30)
    assert 'ExpertAF above the video NN on BLEU-4: yes (25.00 vs 12.50)' in text
    assert 'ExpertAF above the video NN on METEOR: no (50.00 vs 62.50)' in text
    assert 'ExpertAF below the video NN on MedR: no (3.00 vs 2.00)' in text
    assert "than the learner's own pose (PA-MPJPE): yes (25.00 vs 30.00 mm)" in text
    assert 'BLEU-4 25.00 -> 20.00 (worse)' in text and 'PA-MPJPE (mm) 25.00 -> 27.00 (worse)' in text
    assert '| pairs | 100 | 2 | 20 | 50.2 |' in text and 'missing (pairs_noalign/statistics.json)' in text
    # two seeds: mean +- sd (ddof 1); a cell present in one run only says so
    other = tmp_path.parent / (tmp_path.name + '_seed1')
    (other / 'test_expertaf').mkdir(parents=True)
    (other / 'test_expertaf' / 'metrics.json').write_text(json.dumps({'caption/bleu_4': 0.35, **common}))
    both = table.report([tmp_path, other])
    assert 'Mean ± standard deviation over 2 runs' in both
    assert '| ExpertAF (video + PCT pose tokens) | 30.0 ± 7.1 | 50.0 (n=1) |' in both


def test_pack_expertaf_inputs_picks_linspace_poses_and_the_model_encodes_them():
    from motionkit.datasets.transforms import PackExpertAFInputs
    from motionkit.registry import MODELS
    rng = np.random.default_rng(0)
    learner, expert = rng.normal(size=(40, 17, 3)), rng.normal(size=(40, 17, 3))
    res = dict(learner_pose=learner, expert_pose=expert, learner_video_features=np.ones((8, 192)),
               expert_video_features=np.zeros((8, 192)), commentary='Bend your knees.', pair_id='P000001_0',
               activity='squat')
    out = PackExpertAFInputs(num_pose_frames=4)(res)
    picked = [0, 13, 26, 39]  # round(linspace(0, 39, 4))
    assert torch.allclose(out['inputs']['expert_pose'], torch.from_numpy(expert[picked]).float())
    ds = out['data_samples']
    root = expert[picked][:, [11, 12]].mean(1, keepdims=True)
    assert np.allclose(ds.gt_expert_joints.numpy(), expert[picked] - root, atol=1e-6)
    assert ds.gt_text == 'Bend your knees.' and ds.sample_id == 'P000001_0'
    assert out['inputs']['learner_video'].shape == (8, 192)
    with pytest.raises(ValueError, match='fewer than num_pose_frames'):
        PackExpertAFInputs(num_pose_frames=50)(dict(res))
    with pytest.raises(KeyError, match='LoadCachedVideoFeatures'):
        PackExpertAFInputs()({k: v for k, v in res.items() if k != 'expert_video_features'})
    # the model turns the float joints into the codes its PoseTokenizer gives for them
    pct = dict(type='PoseTokenizer', num_joints=17, root_joints=(11, 12), num_tokens=4, codebook_size=16,
               code_dim=8, hidden_dim=16, num_blocks=1, token_hidden=8, channel_hidden=16)
    model = MODELS.build(dict(type='ExpertFeedbackModel', backbone=dict(preset='tiny-llama'),
                              tokenizer=dict(type='word_level', extra_texts=['bend your knees']),
                              pose_tokenizer=pct, video_dim=192, num_pose_frames=4, max_new_tokens=4))
    codes = model.pose_codes(out['inputs']['expert_pose'])
    assert codes.dtype == torch.long and codes.shape == (4, 4)
    assert torch.equal(codes, model.pose_tokenizer.encode(out['inputs']['expert_pose']))
    assert torch.equal(model.pose_codes(codes), codes)  # integer codes pass through
    with pytest.raises(ValueError, match=r'\(F, 17, 3\) joints'):
        model.pose_codes(torch.zeros(4, 16, 3))
    losses = model.loss({k: [v] for k, v in out['inputs'].items()}, [ds])
    assert set(losses) == {'loss_commentary', 'loss_pose'} and all(torch.isfinite(v) for v in losses.values())


def test_zero3_paper_config_builds_on_meta_with_llama3_8b_counts():
    from mmengine.config import Config
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIGS / 'expertaf_llama3-8b-full-zero3_8xb4-3e_expertaf.py'))
    assert cfg.paper_scale and cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy.type == 'DeepSpeedStrategy' and cfg.strategy.zero_optimization.stage == 3
    assert set(cfg.strategy) == {'type', 'fp16', 'bf16', 'zero_optimization', 'gradient_clipping'}  # no FSDP keys
    assert cfg.optim_wrapper.type == 'DeepSpeedOptimWrapper'
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['pose_token_head']['lr_mult'] == 0.1
    model_cfg = cfg.model.to_dict()
    model_cfg.update(tokenizer=None, init_device='meta', pose_tokenizer_checkpoint=None)
    m = MODELS.build(model_cfg)
    assert sum(p.numel() for p in m.lm.parameters()) == 8_030_261_248
