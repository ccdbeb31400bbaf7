# CoAMD / MAR on SynthMotion, every stage in one command (tools/run_pipeline.py; format:
# docs/pipelines.md):
#
#   python tools/run_pipeline.py projects/coamd/pipeline_synthmotion.py [--work-dir DIR] [--dry-run]
#
# 1. synthmotion  the 1,000-motion SynthMotion build (the configs' own copy lives in the cache)
#    labels       action classes from SynthMotion's captions (POS route, balanced K-means, K = its
#                 own 30 classes) and their adjusted Rand index against SynthMotion's own labels
# 2. ae           the multimodal autoencoder (eq. 2) on absolute joints
#    mar          the multimodal action recognizer (eq. 1, joint + bone + motion streams)
#    mar_joint    the same recognizer on the joint stream only (table 7's J row)
#    evaluator    the in-house T2M evaluator on absolute joint coordinates (tables 1 / 8's metrics)
#    clip_evaluator  the same towers trained contrastively: the CLIP-score's model
# 3. generator    the masked autoregressive flow-matching generator over the autoencoder's latents
# 4. test_mar, test_mar_joint   recognition (multi-label mAP) and retrieval (R@k) on the test split
#    test_evaluator  the T2M evaluator's own R-precision and retrieval on the same split
#    sample_*     test-split generations, `replications` independent ones per prompt, scored by the
#                 evaluator (R-precision, FID, MM-Dist, Diversity, CLIP-score, MultiModality):
#                 unguided (w/o MAR), guided every step (eq. 6-8), guided by the joints-only MAR,
#                 guided once at the end (table 8's w/o autoregression)
#    edit_*       temporal editing of the test motions with the same generator: inpainting,
#                 outpainting, prefix, suffix (table 6), scored the same way
#    probe        linear probe on the real Bandai Namco clips (and SynthMotion train -> test): MAR
#                 embeddings vs raw joints
# 5. render       GIFs of the same test prompts: real | unguided | guided | guided once (render/)
#    table        projects/coamd/results_table.py over the stage outputs -> <work_dir>/results.md
#
# Stage outputs reach later stages on their command lines (--cfg-options), never through the
# environment; every command `--dry-run` prints can be run by hand.
work_dir = 'work_dirs/coamd_tiny'
slots = 2
threads = 1
# training iterations of the tiny configs (a smoke run: --cfg-options vars.ae_iters=20 vars.mar_iters=20
# vars.generator_iters=20 vars.evaluator_iters=20 vars.replications=2), and the independent
# generations of the test split per sampling variant (the protocol's 20 cost 4x the budget here)
vars = dict(seed=0, shared='../shared/data', ae_iters=2000, mar_iters=600, generator_iters=2000,
            evaluator_iters=1000, replications=3)

_c = 'projects/coamd/configs/'
_seed = {'randomness.seed': '{seed}'}


def _iters(name):
    return {'train_cfg.max_iters': '{%s_iters}' % name, **_seed}

_gen = _c + 'coamd_tiny_1xb32-2k_synthmotion.py'


def _sample(config, recognizer=None, task=None):
    opts = {'model.tokenizer_checkpoint': '{ae.checkpoint}', 'model.num_replications': '{replications}',
            'randomness.seed': '{seed}'}
    if task is not None:  # temporal editing of the test motions (table 6)
        opts['model.predict_task'] = task
    if recognizer is not None:
        opts['model.recognizer_checkpoint'] = '{%s.checkpoint}' % recognizer
    # test evaluators: 0 DumpPredictions, 1 T2MGenerationMetric
    opts['test_evaluator.0.out_file_path'] = '{dir}/predictions.pkl'
    opts['test_evaluator.1.evaluator_checkpoint'] = '{evaluator.checkpoint}'
    opts['test_evaluator.1.replications'] = '{replications}'
    opts['test_evaluator.1.clip_evaluator_checkpoint'] = '{clip_evaluator.checkpoint}'
    return dict(test=_c + config, checkpoint='{generator.checkpoint}', cfg_options=opts)


stages = dict(
    synthmotion=dict(cmd=['{python}', 'tools/data/make_synthmotion.py', '--num', '1000', '--seed', '{seed}',
                          '--quiet', '--out', '{work_dir}/synthmotion'],
                     outputs=['{work_dir}/synthmotion/manifest.json']),
    labels=dict(cmd=['{python}', 'tools/data/build_action_classes.py', '{synthmotion.dir}', '--k', '30',
                     '--route', 'pos', '--seed', '{seed}', '--ari', '--quiet', '--out', '{work_dir}/labels'],
                outputs=['{work_dir}/labels/manifest.json']),
    ae=dict(train=_c + 'coamd-ae_tiny_1xb32-2k_synthmotion.py', cfg_options=_iters('ae')),
    mar=dict(train=_c + 'mar_tiny_1xb32-1k_synthmotion.py', cfg_options=_iters('mar')),
    # the generator is on the longest path (ae -> generator -> sampling): it runs as soon as the
    # autoencoder is done
    generator=dict(train=_gen, cfg_options={'model.tokenizer_checkpoint': '{ae.checkpoint}',
                                            **_iters('generator')}),
    mar_joint=dict(train=_c + 'mar-joint_tiny_1xb32-1k_synthmotion.py', cfg_options=_iters('mar')),
    evaluator=dict(train=_c + 't2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py', cfg_options=_iters('evaluator')),
    clip_evaluator=dict(train=_c + 't2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion.py',
                        cfg_options=_iters('evaluator')),
    test_mar=dict(test=_c + 'mar_tiny_1xb32-1k_synthmotion.py', checkpoint='{mar.checkpoint}'),
    test_mar_joint=dict(test=_c + 'mar-joint_tiny_1xb32-1k_synthmotion.py', checkpoint='{mar_joint.checkpoint}'),
    test_evaluator=dict(test=_c + 't2m-evaluator-abs_tiny_1xb32-2k_synthmotion.py',
                        checkpoint='{evaluator.checkpoint}'),
    test_clip_evaluator=dict(test=_c + 't2m-evaluator-abs-clip_tiny_1xb32-2k_synthmotion.py',
                             checkpoint='{clip_evaluator.checkpoint}'),
    sample_unguided=_sample('coamd_tiny_1xb32-2k_synthmotion.py'),
    sample_guided=_sample('coamd-guided_tiny_1xb32-2k_synthmotion.py', 'mar'),
    sample_guided_joints=_sample('coamd-guided-joints_tiny_1xb32-2k_synthmotion.py', 'mar_joint'),
    sample_guided_once=_sample('coamd-guided-once_tiny_1xb32-2k_synthmotion.py', 'mar'),
    # table 6: the same generator edits the test motions (unguided; kept frames exactly the input's)
    **{f'edit_{task}': _sample('coamd_tiny_1xb32-2k_synthmotion.py', task=task)
       for task in ('inpainting', 'outpainting', 'prefix', 'suffix')},
    probe=dict(cmd=['{python}', 'tools/analysis_tools/linear_probe.py', '--config',
                    _c + 'mar_tiny_1xb32-1k_synthmotion.py', '--checkpoint', '{mar.checkpoint}',
                    '--bandai', '{shared}/bandai_namco_motion_samples', '--synthmotion', '1000',
                    '--synthmotion-root', '{synthmotion.dir}', '--no-progress',
                    '--out', '{work_dir}/probe/probe.json'],
               outputs=['{work_dir}/probe/probe.json']),
    render=dict(cmd=['{python}', 'projects/coamd/render_samples.py', '{work_dir}', '--num', '3', '--still',
                     '--out', '{work_dir}/render'],
                outputs=['{work_dir}/render/index.json'],
                deps=['sample_unguided', 'sample_guided', 'sample_guided_once']),
    table=dict(cmd=['{python}', 'projects/coamd/results_table.py', '{work_dir}', '--out',
                    '{work_dir}/results.md'],
               outputs=['{work_dir}/results.md'],
               deps=['labels', 'test_mar', 'test_mar_joint', 'test_evaluator', 'test_clip_evaluator',
                     'sample_unguided', 'sample_guided',
                     'sample_guided_joints', 'sample_guided_once', 'edit_inpainting', 'edit_outpainting',
                     'edit_prefix', 'edit_suffix', 'probe']),
)
results = 'table'
