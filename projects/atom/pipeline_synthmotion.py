# AToM (Han et al., CVPR 2025) on SynthMotion, every stage in one command (tools/run_pipeline.py;
# format: docs/pipelines.md):
#
#   python tools/run_pipeline.py projects/atom/pipeline_synthmotion.py [--work-dir DIR] [--dry-run]
#   # the smoke preset (minutes):
#   python tools/run_pipeline.py projects/atom/pipeline_synthmotion.py --work-dir work_dirs/atom_smoke \
#       --cfg-options vars.num_motions=800 vars.vqvae_iters=100 vars.evaluator_iters=100 \
#       vars.segment_iters=100 vars.pretrain_iters=150 vars.num_prompts=12 vars.num_samples=4 \
#       vars.pref_iters=20 vars.eval_prompts=8 vars.eval_samples=4 vars.diversity_times=50
#
# 1. synthmotion   the SynthMotion build every stage reads (HumanML3D layout + programs)
# 2. vqvae         MotionGPT stage 1: the tiny VQ-VAE (64 codes)
#    evaluator     the tiny T2M evaluator (R-precision, FID, MM-Dist, Diversity of generations)
#    segments      the segment classifier of the learned event detector (RecognizerEventDetector):
#                  the offline scorer's eyes, since generated motions have no program
# 3. pretrain      MotionGPT stage 2: the tiny T5 text-to-motion LM (the model AToM aligns)
# 4. prompts       MotionPrefer prompts (sec. 3.1) from the train split's programs, offline templates
#    prompts_test  held-out prompts from the test split's programs (evaluation)
# 5. sample        num_samples motions per prompt from the stage-2 model (sec. 3.2)
#    score         table 4's rules on the events the detector finds (offline stand-in for GPT-4V)
#    pairs         algorithm 1: (winner, loser) with a score gap > theta; table 3
#    preference_pairs  the pairs with their motion-token ids (PreferenceDataset)
# 6. ipo, dpo, kto the LoRA policy from the stage-2 weights, IPO (eq. 8) and the DPO / KTO rows
#    pairs_ablation .. ipo_ablation  IPO on pairs with theta = theta_ablation (table 6's threshold row)
#    merge_*       each adapter merged back into a stage-2 checkpoint (one model format downstream)
# 7. eval_* / escore_*  eval_samples motions per held-out prompt from each model, scored the same way:
#                  mean reward per subtask, win rate against the starting model
#    t2m_*         T2M metrics of each model on SynthMotion's test captions (tools/test.py), one
#                  generation per caption
#    testsets      the subtask test sets: the test split's caption lines sorted by MotionPrefer's
#                  filter rules (caption_subtask) into <subtask>.jsonl
#    t2m_*_<subtask>  T2M metrics of each model per subtask (table 5): the test dataset restricted to
#                  the subtask's caption lines (filter_cfg=dict(caption_subset=...)), mm_samples
#                  generations per caption (AToM: 20): replication r scores the r-th generation, and
#                  the 20 are MultiModality's repeats; R-precision batches of subtask_batch_size and
#                  subtask_diversity_times Diversity pairs (SynthMotion's subtask sets are small)
# 8. table         projects/atom/results_table.py -> <work_dir>/results.md (with the per-subtask T2M table)
#
# Stage outputs reach later stages on their command lines (--cfg-options or arguments), never
# through the environment; every command `--dry-run` prints can be run by hand.
work_dir = 'work_dirs/atom_tiny'
slots = 2
threads = 1
vars = dict(seed=0, num_motions=1000, vqvae_iters=2000, evaluator_iters=2000, segment_iters=1000,
            pretrain_iters=2000, num_prompts=100, num_samples=4, temperature=1.0, theta=2,
            theta_ablation=0, pref_iters=300, eval_prompts=50, eval_samples=4, diversity_times=100,
            mm_samples=20, subtask_batch_size=16, subtask_diversity_times=10)

_c = 'projects/atom/configs/'
_S1 = _c + 'motiongpt-s1-vqvae_tiny_1xb32-2k_synthmotion.py'
_S2 = _c + 'motiongpt-s2-pretrain_tiny-t5_1xb32-2k_synthmotion.py'
_PREF = _c + 'atom-ipo-lora_motiongpt-tiny_1xb32-300_synthmotion.py'
_SEG = _c + 'segment-classifier_tcn-tiny_1xb64-1k_synthmotion.py'
_EVAL = 'configs/t2m_evaluator/t2m-evaluator_tiny_1xb32-2k_synthmotion.py'
_MP = 'tools/data/build_motion_prefer.py'
_SAMPLE = 'tools/data/sample_text_to_motion.py'
_seed = {'randomness.seed': '{seed}'}


def _data_root(*loaders):
    return {f'{d}_dataloader.dataset.data_root': '{synthmotion.dir}' for d in loaders}


# the stage-2 model's build-dependent keys: its VQ-VAE, its vocabulary, its data and evaluator
_S2_OPTS = {'model.tokenizer_checkpoint': '{vqvae.checkpoint}',
            'model.llm.tokenizer.corpus': '[{synthmotion.dir}]',
            'test_evaluator.0.evaluator_checkpoint': '{evaluator.checkpoint}',
            **_data_root('train', 'test')}


def _sample(checkpoint, prompts, out, num):
    return dict(cmd=['{python}', _SAMPLE, 'sample', _S2, checkpoint, '--prompts', prompts, '--data-root',
                     '{synthmotion.dir}', '--num-samples', num, '--temperature', '{temperature}', '--seed',
                     '{seed}', '--quiet', '--out', out, '--cfg-options',
                     'model.llm.tokenizer.corpus=[{synthmotion.dir}]'],
                outputs=[out + '/index.json'])


def _score(motions, out):
    return dict(cmd=['{python}', _MP, 'score', '--motions', motions, '--scorer', 'oracle', '--detector-config',
                     _SEG, '--detector-checkpoint', '{segments.checkpoint}', '--quiet', '--out', out],
                outputs=[out + '/scores.jsonl'])


def _preference(pairs, loss, extra=None):
    opts = {'model.init_checkpoint': '{pretrain.checkpoint}', 'train_dataloader.dataset.ann_file': pairs,
            'model.loss_type': loss, 'train_cfg.max_iters': '{pref_iters}', 'param_scheduler.0.end': '{pref_iters}',
            'default_hooks.checkpoint.interval': '{pref_iters}', **_seed}
    if loss != 'ipo':  # DPO and KTO on summed log-probabilities (their papers); IPO averages (AToM)
        opts['model.average_log_prob'] = False
    opts.update(extra or {})
    return dict(train=_PREF, cfg_options=opts)


def _merge(run):
    out = '{work_dir}/merge_%s/model.pth' % run
    return dict(cmd=['{python}', 'tools/model_converters/merge_preference_lora.py', _PREF,
                     '{%s.checkpoint}' % run, '--base-checkpoint', '{pretrain.checkpoint}', '--out', out],
                outputs=[out])


def _t2m(checkpoint):
    # diversity_times: Guo et al.'s draws need more test motions than the smoke preset has
    return dict(test=_S2, checkpoint=checkpoint,
                cfg_options=dict(_S2_OPTS, **_seed, **{'test_evaluator.0.diversity_times': '{diversity_times}'}))


def _t2m_subtask(checkpoint, subtask):
    # one test run per subtask: the SynthMotion test split restricted to the subtask's caption lines,
    # mm_samples generations per caption (AToM sec. 4: 20 per text for MModality), which are also
    # the protocol's replications (guo2022: 20); MultiModality on the preset's first 100 texts
    opts = {'test_dataloader.dataset.filter_cfg.caption_subset': '{testsets.dir}/%s.jsonl' % subtask,
            'model.num_samples': '{mm_samples}', 'test_evaluator.0.replications': '{mm_samples}',
            'test_evaluator.0.mm_num_texts': 100, 'test_evaluator.0.mm_num_repeats': '{mm_samples}',
            'test_evaluator.0.batch_size': '{subtask_batch_size}',
            'test_evaluator.0.diversity_times': '{subtask_diversity_times}'}
    return dict(test=_S2, checkpoint=checkpoint, cfg_options=dict(_S2_OPTS, **_seed, **opts))


# the fine-tuned models: (stage, its pairs)
_RUNS = ('ipo', 'dpo', 'kto', 'ipo_ablation')
_SUBTASKS = ('integrity', 'temporal', 'frequency')

stages = dict(
    synthmotion=dict(cmd=['{python}', 'tools/data/make_synthmotion.py', '--num', '{num_motions}', '--seed',
                          '{seed}', '--quiet', '--out', '{work_dir}/synthmotion'],
                     outputs=['{work_dir}/synthmotion/manifest.json']),
    vqvae=dict(train=_S1, cfg_options={'train_cfg.max_iters': '{vqvae_iters}', **_seed,
                                       **_data_root('train', 'val', 'test')}),
    # no validation: the last weights (SynthMotion's val split is too small for R-precision batches of
    # 32 in the smoke preset)
    evaluator=dict(train=_EVAL, cfg_options={'train_cfg.max_iters': '{evaluator_iters}',
                                             'train_cfg.val_interval': 1000000, **_seed,
                                             **_data_root('train', 'val', 'test')}),
    segments=dict(train=_SEG, cfg_options={'train_cfg.max_iters': '{segment_iters}', **_seed,
                                           **_data_root('train', 'val', 'test')}),
    pretrain=dict(train=_S2, cfg_options={'train_cfg.max_iters': '{pretrain_iters}', **_seed, **_S2_OPTS}),
    prompts=dict(cmd=['{python}', _MP, 'prompts', '--data-root', '{synthmotion.dir}', '--source', 'programs',
                      '--split', 'train.txt', '--num', '{num_prompts}', '--seed', '{seed}', '--route', 'template',
                      '--quiet', '--out', '{work_dir}/prompts'],
                 outputs=['{work_dir}/prompts/prompts.jsonl']),
    prompts_test=dict(cmd=['{python}', _MP, 'prompts', '--data-root', '{synthmotion.dir}', '--source', 'programs',
                           '--split', 'test.txt', '--num', '{eval_prompts}', '--seed', '{seed}', '--route',
                           'template', '--quiet', '--out', '{work_dir}/prompts_test'],
                      outputs=['{work_dir}/prompts_test/prompts.jsonl']),
    sample=_sample('{pretrain.checkpoint}', '{prompts.out}', '{work_dir}/sample', '{num_samples}'),
    score=_score('{sample.dir}', '{work_dir}/score'),
    pairs=dict(cmd=['{python}', _MP, 'pairs', '--scores', '{score.out}', '--theta', '{theta}', '--out',
                    '{work_dir}/pairs'],
               outputs=['{work_dir}/pairs/pairs.jsonl']),
    preference_pairs=dict(cmd=['{python}', _SAMPLE, 'pairs', '--pairs', '{pairs.out}', '--motions', '{sample.dir}',
                               '--out', '{work_dir}/preference_pairs/pairs.jsonl'],
                          outputs=['{work_dir}/preference_pairs/pairs.jsonl']),
    ipo=_preference('{preference_pairs.out}', 'ipo'),
    dpo=_preference('{preference_pairs.out}', 'dpo'),
    kto=_preference('{preference_pairs.out}', 'kto'),
    pairs_ablation=dict(cmd=['{python}', _MP, 'pairs', '--scores', '{score.out}', '--theta', '{theta_ablation}',
                             '--out', '{work_dir}/pairs_ablation'],
                        outputs=['{work_dir}/pairs_ablation/pairs.jsonl']),
    preference_pairs_ablation=dict(cmd=['{python}', _SAMPLE, 'pairs', '--pairs', '{pairs_ablation.out}',
                                        '--motions', '{sample.dir}', '--out',
                                        '{work_dir}/preference_pairs_ablation/pairs.jsonl'],
                                   outputs=['{work_dir}/preference_pairs_ablation/pairs.jsonl']),
    ipo_ablation=_preference('{preference_pairs_ablation.out}', 'ipo'),
    eval_start=_sample('{pretrain.checkpoint}', '{prompts_test.out}', '{work_dir}/eval_start', '{eval_samples}'),
    escore_start=_score('{eval_start.dir}', '{work_dir}/escore_start'),
    t2m_start=_t2m('{pretrain.checkpoint}'),
    testsets=dict(cmd=['{python}', _MP, 'testsets', '--data-root', '{synthmotion.dir}', '--split', 'test.txt',
                       '--out', '{work_dir}/testsets'],
                  outputs=['{work_dir}/testsets/testsets_stats.json'] +
                  ['{work_dir}/testsets/%s.jsonl' % _s for _s in _SUBTASKS]),
)
for _s in _SUBTASKS:
    stages[f't2m_start_{_s}'] = _t2m_subtask('{pretrain.checkpoint}', _s)
for _run in _RUNS:
    stages[f'merge_{_run}'] = _merge(_run)
    stages[f'eval_{_run}'] = _sample('{merge_%s.out}' % _run, '{prompts_test.out}', '{work_dir}/eval_%s' % _run,
                                     '{eval_samples}')
    stages[f'escore_{_run}'] = _score('{eval_%s.dir}' % _run, '{work_dir}/escore_%s' % _run)
    stages[f't2m_{_run}'] = _t2m('{merge_%s.out}' % _run)
    for _s in _SUBTASKS:
        stages[f't2m_{_run}_{_s}'] = _t2m_subtask('{merge_%s.out}' % _run, _s)
stages['table'] = dict(cmd=['{python}', 'projects/atom/results_table.py', '{work_dir}', '--out',
                            '{work_dir}/results.md'],
                       outputs=['{work_dir}/results.md'],
                       deps=['pairs', 'pairs_ablation', 'escore_start', 't2m_start', 'testsets'] +
                       [f'{k}_{r}' for r in _RUNS for k in ('escore', 't2m')] +
                       [f't2m_{r}_{s}' for r in ('start', ) + _RUNS for s in _SUBTASKS])
results = 'table'
