"""projects/atom/pipeline_synthmotion.py on the generic runner (every stage resolves, the order
follows the data flow, checkpoints reach later stages on their command lines), the results table
from hand-made stage outputs, the LoRA merge back into the stage-2 model, and the AToM configs
(the tiny one from stage 2, the paper-scale one on the meta device)."""
import copy
import json

import pytest
import torch
from mmengine.config import Config

from motionkit.utils.pipeline import load_pipeline
from tests.conftest import REPO_ROOT

PIPELINE = REPO_ROOT / 'projects' / 'atom' / 'pipeline_synthmotion.py'
CONFIGS = REPO_ROOT / 'projects' / 'atom' / 'configs'
S2 = CONFIGS / 'motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py'
PREF = CONFIGS / 'atom-ipo-lora_motiongpt-tiny_1xb32-300_synthmotion.py'


def test_pipeline_resolves_and_passes_checkpoints_on_the_command_line(tmp_path):
    pipe = load_pipeline(str(PIPELINE), work_dir=str(tmp_path), log=lambda m: None)
    order = pipe.order
    for before, after in [('synthmotion', 'vqvae'), ('vqvae', 'pretrain'), ('evaluator', 'pretrain'),
                          ('pretrain', 'sample'), ('prompts', 'sample'), ('segments', 'score'), ('sample', 'score'),
                          ('score', 'pairs'), ('pairs', 'preference_pairs'), ('preference_pairs', 'ipo'),
                          ('ipo', 'merge_ipo'), ('merge_ipo', 'eval_ipo'), ('prompts_test', 'eval_start'),
                          ('eval_ipo', 'escore_ipo'), ('merge_kto', 't2m_kto'), ('escore_ipo', 'table'),
                          ('escore_start', 'table'), ('t2m_dpo', 'table'), ('pairs_ablation', 'ipo_ablation')]:
        assert order.index(before) < order.index(after), (before, after)
    cmd = ' '.join(pipe.command('pretrain'))
    assert f'model.tokenizer_checkpoint={tmp_path}/vqvae/vqvae.pth' in cmd
    assert f'model.llm.tokenizer.corpus=[{tmp_path}/synthmotion]' in cmd
    ipo = ' '.join(pipe.command('ipo'))
    assert f'model.init_checkpoint={tmp_path}/pretrain/pretrain.pth' in ipo
    assert f'train_dataloader.dataset.ann_file={tmp_path}/preference_pairs/pairs.jsonl' in ipo
    assert 'model.loss_type=ipo' in ipo and 'average_log_prob' not in ipo
    dpo = ' '.join(pipe.command('dpo'))
    assert 'model.loss_type=dpo' in dpo and 'model.average_log_prob=False' in dpo
    assert 'model.loss_type=kto' in ' '.join(pipe.command('kto'))
    assert f'{tmp_path}/preference_pairs_ablation/pairs.jsonl' in ' '.join(pipe.command('ipo_ablation'))
    assert '--theta 0 ' in ' '.join(pipe.command('pairs_ablation'))
    score = ' '.join(pipe.command('score'))
    assert f'--detector-checkpoint {tmp_path}/segments/segments.pth' in score
    merge = ' '.join(pipe.command('merge_dpo'))
    assert f'{tmp_path}/dpo/dpo.pth --base-checkpoint {tmp_path}/pretrain/pretrain.pth' in merge
    ev = ' '.join(pipe.command('eval_ipo'))
    assert f'{tmp_path}/merge_ipo/model.pth --prompts {tmp_path}/prompts_test/prompts.jsonl' in ev
    t2m = ' '.join(pipe.command('t2m_ipo'))
    assert f'{tmp_path}/merge_ipo/model.pth' in t2m
    assert f'test_evaluator.0.evaluator_checkpoint={tmp_path}/evaluator/evaluator.pth' in t2m
    assert 'randomness.seed=0' in ' '.join(pipe.command('segments'))
    # per-subtask T2M (table 5): the test split's caption lines of one subtask, 20 generations each
    assert order.index('testsets') < order.index('t2m_ipo_temporal') < order.index('table')
    assert order.index('merge_ipo') < order.index('t2m_ipo_temporal')
    assert f'--data-root {tmp_path}/synthmotion --split test.txt --out {tmp_path}/testsets' in ' '.join(
        pipe.command('testsets'))
    sub = ' '.join(pipe.command('t2m_ipo_temporal'))
    assert f'{tmp_path}/merge_ipo/model.pth' in sub
    for opt in (f'test_dataloader.dataset.filter_cfg.caption_subset={tmp_path}/testsets/temporal.jsonl',
                'model.num_samples=20', 'test_evaluator.0.replications=20', 'test_evaluator.0.mm_num_repeats=20',
                'test_evaluator.0.mm_num_texts=100', 'test_evaluator.0.batch_size=16',
                'test_evaluator.0.diversity_times=10'):
        assert opt in sub, opt
    assert 'caption_subset' not in ' '.join(pipe.command('t2m_ipo'))  # the whole split as before
    assert {f't2m_{r}_{s}' for r in ('start', 'ipo', 'dpo', 'kto', 'ipo_ablation')
            for s in ('integrity', 'temporal', 'frequency')} <= set(pipe.stages['table'].deps)
    for name in order:  # every config a stage names exists
        stage = pipe.stages[name]
        if stage.kind != 'cmd':
            assert (REPO_ROOT / stage.target).is_file(), stage.target
    assert pipe.plan() == order
    # the keys the options set exist in the configs (a typo would add a dead key)
    pref = Config.fromfile(str(PREF))
    assert pref.param_scheduler[0]['end'] == pref.train_cfg.max_iters
    assert pref.model.init_checkpoint and pref.train_dataloader.dataset.ann_file
    s2 = Config.fromfile(str(S2))
    assert s2.test_evaluator[0]['type'] == 'T2MGenerationMetric'
    assert isinstance(s2.model.llm.tokenizer.corpus, list)


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj) if not isinstance(obj, list) else ''.join(json.dumps(r) + '\n' for r in obj))


def _scores(run_scores):
    # (prompt, subtask, [scores])
    return [dict(id=f'{p}-s{k}', prompt_id=p, subtask=sub, score=s)
            for p, sub, ss in run_scores for k, s in enumerate(ss)]


def _table_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('atom_results', REPO_ROOT / 'projects/atom/results_table.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_results_table_reads_the_stage_outputs_and_reports_missing_ones(tmp_path):
    table = _table_module()
    _write(tmp_path / 'escore_start' / 'scores.jsonl',
           _scores([('a', 'integrity', [5, 5]), ('b', 'frequency', [2, 4])]))
    _write(tmp_path / 'escore_ipo' / 'scores.jsonl',
           _scores([('a', 'integrity', [10, 5]), ('b', 'frequency', [4, 4])]))
    # by hand: integrity rewards 7.5; frequency 4; all 23/4 = 5.75
    # win a: (10>5, 10>5, 5=5, 5=5) -> (1 + 1 + .5 + .5) / 4 = .75; win b: (4>2, 4=4, 4>2, 4=4) -> .75
    _write(tmp_path / 't2m_start' / 'metrics.json', {
        't2m/r_precision_top1': 0.25, 't2m/r_precision_top3': 0.5, 't2m/fid': 3.0, 't2m/mm_dist': 4.0,
        't2m/diversity': 5.0, 't2m/gt/r_precision_top1': 0.5, 't2m/gt/r_precision_top3': 0.75,
        't2m/gt/mm_dist': 3.5, 't2m/gt/diversity': 6.0})
    _write(tmp_path / 'testsets' / 'testsets_stats.json', dict(
        caption_lines=501, captions=dict(integrity=33, temporal=66, frequency=63),
        motions=dict(integrity=16, temporal=35, frequency=31)))
    _write(tmp_path / 't2m_start_integrity' / 'metrics.json', {
        't2m/r_precision_top1': 0.125, 't2m/r_precision_top3': 0.375, 't2m/fid': 7.0, 't2m/mm_dist': 5.0,
        't2m/diversity': 4.5, 't2m/multimodality': 2.25, 't2m/gt/r_precision_top1': 0.4,
        't2m/gt/r_precision_top3': 0.7, 't2m/gt/mm_dist': 3.3, 't2m/gt/diversity': 5.5})
    _write(tmp_path / 'pairs' / 'pairs_stats.json', dict(theta=2, table3={
        'integrity': dict(prompts=1, motions=2, pairs=1), 'temporal': dict(prompts=0, motions=0, pairs=0),
        'frequency': dict(prompts=1, motions=2, pairs=0), 'total': dict(prompts=2, motions=4, pairs=1)}))
    _write(tmp_path / 'preference_pairs' / 'pairs.jsonl', [dict(prompt='x', chosen=[1], rejected=[2])])
    text = table.report(tmp_path)
    assert '| AToM: IPO + LoRA | 7.50 | - | 4.00 | 5.75 | 0.750 | - | 0.750 | 0.750 |' in text
    assert '| MotionGPT stage 2 (start) | 5.00 | - | 3.00 | 4.00 | - | - | - | - |' in text
    assert 'missing (escore_dpo/scores.jsonl)' in text and 'missing (t2m_ipo/metrics.json)' in text
    assert '| main | 2 | 1 / 2 / 1 | 0 / 0 / 0 | 1 / 2 / 0 | 2 / 4 / 1 | 1 |' in text
    assert 'missing (pairs_ablation/pairs_stats.json)' in text
    assert '| MotionGPT stage 2 (start) | 0.250 | 0.500 | 3.000 | 4.000 | 5.000 | - |' in text
    # per subtask: the set's size, the real motions (gt rows of the start run), MModality
    assert '| integrity (33 captions / 16 motions) | real motions (test split) | 0.400 | 0.700 | - | 3.300 | 5.500 | - |' \
        in text
    assert '| integrity (33 captions / 16 motions) | MotionGPT stage 2 (start) | 0.125 | 0.375 | 7.000 | 5.000 | 4.500 | 2.250 |' \
        in text
    assert '| temporal (66 captions / 35 motions) | AToM: IPO + LoRA | missing (t2m_ipo_temporal/metrics.json) |' in text
    assert '| real motions (test split) | 0.500 | 0.750 | - | 3.500 | 6.000 | - |' in text
    # two seeds: mean +- sd (ddof 1); a cell only one has says so
    other = tmp_path.parent / (tmp_path.name + '_seed1')
    _write(other / 'escore_start' / 'scores.jsonl', _scores([('a', 'integrity', [7, 7])]))
    both = table.report([tmp_path, other])
    assert 'Mean ± standard deviation over 2 runs' in both
    assert '| MotionGPT stage 2 (start) | 6.00 ± 1.41 | - | 3.00 ± 0.00 (n=1) |' in both


# ---------------------------------------------------------------------------- merge and configs
VQ_TINY = dict(type='MotionVQVAE', feature_dim=263, width=16, code_dim=8, depth=1, vel_weight=0.0,
               quantizer=dict(type='EMAQuantizer', codebook_size=64, code_dim=8))


def test_lora_merge_gives_a_stage2_checkpoint_that_writes_like_the_policy(tmp_path):
    """Stage 2 -> the tiny AToM config's policy (loaded, adapter perturbed, saved) -> merged into a
    MotionTextLM checkpoint, read by the sampling tool: its LM scores motions as the policy does."""
    import importlib.util
    from mmengine.registry import init_default_scope
    from motionkit.registry import MODELS
    init_default_scope('motionkit')
    words = ['a person walks forward then jumps']
    s2_cfg = Config.fromfile(str(S2))
    s2_cfg.model.tokenizer = VQ_TINY
    s2_cfg.model.tokenizer_checkpoint = None
    s2_cfg.model.llm.tokenizer = dict(type='word_level', extra_texts=words)
    torch.manual_seed(0)
    s2 = MODELS.build(s2_cfg.model.to_dict())
    s2_path = tmp_path / 'stage2.pth'
    torch.save(dict(state_dict=s2.state_dict(), meta=dict()), s2_path)
    pref_cfg = Config.fromfile(str(PREF))
    pref_cfg.model.init_checkpoint = str(s2_path)
    pref = MODELS.build(pref_cfg.model.to_dict())
    with torch.no_grad():  # a trained adapter: B != 0
        for name, p in pref.named_parameters():
            if 'lora_B' in name or 'modules_to_save' in name:
                p.add_(0.1 * torch.randn_like(p))
    pref_path = tmp_path / 'ipo.pth'
    torch.save(dict(state_dict=pref.state_dict(), meta=dict()), pref_path)

    spec = importlib.util.spec_from_file_location('merge', REPO_ROOT / 'tools/model_converters/merge_preference_lora.py')
    merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(merge)
    out = tmp_path / 'merged.pth'
    meta = merge.merge(str(PREF), str(pref_path), str(s2_path), str(out))
    assert meta['merged_from']['base_checkpoint'] == str(s2_path)

    spec = importlib.util.spec_from_file_location('sample', REPO_ROOT / 'tools/data/sample_text_to_motion.py')
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    s2_file = tmp_path / 's2.py'
    s2_cfg.dump(str(s2_file))
    merged = sample.build_generator(str(s2_file), str(out))
    prompts, codes = words * 2, [[1, 2, 3], [5, 5]]
    pref.eval()
    want, _ = pref._policy([pref._prompt(p) for p in prompts], [pref.llm.motion_text(c) for c in codes])
    from motionkit.models.llm_heads.sequence_log_probs import lm_sequence_log_probs
    batch = merged.llm.build_batch(prompts, [merged.llm.motion_text(c) for c in codes])
    got, _ = lm_sequence_log_probs(merged.llm.lm, batch, True)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    base, _ = lm_sequence_log_probs(s2.llm.lm.eval(), batch, True)
    assert not torch.allclose(base, want)  # the merge changed the model
    # the VQ-VAE is the stage-2 one
    for k, v in s2.motion_tokenizer.state_dict().items():
        torch.testing.assert_close(merged.motion_tokenizer.state_dict()[k], v)


def test_paper_scale_atom_config_builds_on_meta():
    from mmengine.registry import init_default_scope
    from motionkit.registry import MODELS
    cfg = Config.fromfile(str(CONFIGS / 'atom-ipo-lora_motiongpt-base_1xb32-20e_humanml3d.py'))
    assert cfg.paper_scale
    init_default_scope('motionkit')
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    model_cfg['llm'].update(init_device='meta', tokenizer=None,
                            backbone=dict(preset='flan-t5-base', vocab_size=32128 + 515))
    model = MODELS.build(model_cfg)
    named = list(model.llm.named_parameters())
    # LoRA r 8 on q, v of flan-t5-base's 36 attention blocks: 36 x 2 x (768 x 8 + 8 x 768)
    assert sum(p.numel() for n, p in named if 'lora_' in n) == 36 * 2 * (768 * 8 + 8 * 768)
    assert model.loss_type == 'ipo' and model.beta == 0.1 and model.average_log_prob
    assert cfg.train_dataloader.batch_size == 32 and cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 20 and cfg.param_scheduler[0]['type'] == 'CosineAnnealingLR'
    lora = cfg.model.llm.lora
    assert (lora.r, lora.alpha, lora.dropout) == (8, 16, 0.05)


def test_subtask_t2m_options_restrict_the_stage2_test_set(atom_work_dir, tmp_path):
    """The options of a t2m_<run>_<subtask> stage, parsed as tools/test.py parses them, give the
    stage-2 test dataset exactly the subtask's caption lines that the testsets stage wrote."""
    import argparse
    from mmengine.config import DictAction
    from mmengine.registry import init_default_scope
    from motionkit.datagen.motion_prefer import write_subtask_test_sets
    from motionkit.registry import DATASETS
    init_default_scope('motionkit')
    pipe = load_pipeline(str(PIPELINE), work_dir=str(atom_work_dir), log=lambda m: None)
    stats = write_subtask_test_sets(atom_work_dir / 'synthmotion', atom_work_dir / 'testsets', 'test.txt')
    sub = max(stats['captions'], key=stats['captions'].get)  # the 6-motion test split's largest set
    assert stats['captions'][sub] > 0
    cmd = pipe.command(f't2m_start_{sub}')
    p = argparse.ArgumentParser()
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    opts = p.parse_args(cmd[cmd.index('--cfg-options'):]).cfg_options
    cfg = Config.fromfile(str(S2))
    cfg.merge_from_dict(opts)
    assert cfg.model.num_samples == 20 and cfg.test_evaluator[0]['mm_num_repeats'] == 20
    ds = DATASETS.build(cfg.test_dataloader.dataset.to_dict())
    want = [json.loads(x) for x in (atom_work_dir / 'testsets' / f'{sub}.jsonl').read_text().splitlines()]
    got = sorted((ds.get_data_info(i)['motion_id'], ds.get_data_info(i)['texts'][0]['caption'])
                 for i in range(len(ds)))
    assert got == sorted((r['id'], r['caption']) for r in want)
