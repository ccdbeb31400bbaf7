# ExpertAF (Ashutosh et al., CVPR 2025) on SynthMotion learner/expert videos, every stage in one
# command (tools/run_pipeline.py; format: docs/pipelines.md):
#
#   python tools/run_pipeline.py projects/expertaf/pipeline_synthmotion.py [--work-dir DIR] [--dry-run]
#   python tools/run_pipeline.py projects/expertaf/pipeline_synthmotion_smoke.py     # tiny iteration counts
#
# 1. wordnet      WordNet 3.0 for METEOR (nltk) from the Debian packages, into the motionkit cache
#    synthmotion  SynthMotion motions (the PoseTokenizer's poses) + learner/expert pairs rendered as videos
# 2. pairs        ExpertAF's pair builder (sec. 3.2; keyword route): regions, pairing, PA-MPJPE
#                 temporal alignment of the expert window (search +-1 s), top-5 train / top-1 test
#    pairs_noalign  the same without the temporal alignment (--search-s 0: the expert window is the
#                 one centred on the expert's comment; the "w/o alignment" ablation's training pairs)
#    features     the frozen tiny-ViT video features of every video (the InternVideo2 stand-in)
#    pct          the PCT PoseTokenizer (tiny preset) on the SynthMotion motions' poses
# 3. expertaf     the model (ExpertFeedbackModel: video + PCT pose tokens, commentary and pose generation
#                 mixed), and the variants: no_video, no_pose, global_pose, no_align (trained on
#                 pairs_noalign, tested on the aligned test pairs), llava_ft_pose (pose as text tokens)
#    contrastive_nn  the contrastively fine-tuned video nearest-neighbour baseline
# 4. test_*       the three tasks on the test split (commentary BLEU-4 / METEOR / ROUGE-L, retrieval
#                 R@50 / MedR over the test experts, generated-pose PA-MPJPE to the expert's, and the
#                 learner's own pose as the "no correction" reference); video_nn (nothing to train);
#                 test_pct (the tokenizer's reconstruction PA-MPJPE: the floor of a generated pose)
# 5. table        projects/expertaf/results_table.py -> <work_dir>/results.md
#
# Stage outputs reach later stages on their command lines (--cfg-options), never through the
# environment; every command `--dry-run` prints can be run by hand.
work_dir = 'work_dirs/expertaf_tiny'
slots = 2
threads = 1
# seed: the training seed of every trained stage (the data, video encoder and PoseTokenizer stay
# fixed at data_seed so that seeds compare models on the same pairs); motions / feedback: the
# SynthMotion build (feedback = learner/expert pairs rendered as videos; about 15 % test)
vars = dict(seed=0, data_seed=0, motions=200, feedback=150, pct_iters=1000, iters=600, nn_iters=300)

_c = 'projects/expertaf/configs/'
_model = _c + 'expertaf_tiny_1xb8-300_synthmotion.py'
_pct = 'configs/pose_tokenizer/pose-tokenizer_tiny_1xb256-2k_synthmotion.py'


def _data(pairs='pairs', splits=('train', 'test')):
    """Data folders of a config: the pair build, the feature cache, the vocabulary corpus (the
    training split's comments) and WordNet of METEOR."""
    opts = {}
    for split in splits:
        opts[f'{split}_dataloader.dataset.data_root'] = '{%s.dir}' % pairs
        opts[f'{split}_dataloader.dataset.pipeline.0.cache_dir'] = '{features.dir}'
    opts['test_evaluator.0.nltk_data'] = '{cache}/nltk_data'
    return opts


def _llm(config, pairs='pairs'):
    opts = _data(pairs, ('train', ))
    opts.update({'model.tokenizer.corpus': '[{%s.dir}/executions.jsonl]' % pairs,
                 'model.pose_tokenizer_checkpoint': '{pct.checkpoint}',
                 'train_cfg.max_iters': '{iters}', 'randomness.seed': '{seed}'})
    opts.pop('test_evaluator.0.nltk_data')
    return dict(train=_c + config, cfg_options=opts, deps=['features'])


def _test_llm(stage, config, train_pairs='pairs'):
    # the test split is always the aligned build's (no_align differs only in its training pairs);
    # the vocabulary is rebuilt from the training build's corpus, as at training time
    opts = _data('pairs', ('test', ))
    opts.update({'model.tokenizer.corpus': '[{%s.dir}/executions.jsonl]' % train_pairs,
                 'model.pose_tokenizer_checkpoint': '{pct.checkpoint}', 'randomness.seed': '{seed}'})
    return dict(test=_c + config, checkpoint='{%s.checkpoint}' % stage, cfg_options=opts, deps=['wordnet'])


def _nn_pool():
    return {'custom_hooks.0.train_pool.data_root': '{pairs.dir}',
            'custom_hooks.0.train_pool.pipeline.0.cache_dir': '{features.dir}'}


stages = dict(
    wordnet=dict(cmd=['{python}', 'tools/misc/prepare_wordnet.py', '--out', '{cache}/nltk_data'],
                 outputs=['{cache}/nltk_data/corpora/wordnet/lexnames']),
    synthmotion=dict(cmd=['{python}', 'tools/data/make_synthmotion.py', '--num', '{motions}', '--num-feedback',
                          '{feedback}', '--num-triplets', '0', '--render', '--seed', '{data_seed}', '--quiet',
                          '--out', '{work_dir}/synthmotion'],
                     outputs=['{work_dir}/synthmotion/manifest.json']),
    pairs=dict(cmd=['{python}', 'tools/data/build_expertaf_pairs.py', '--synthmotion', '{synthmotion.dir}',
                    '--route', 'keyword', '--quiet', '--out', '{work_dir}/pairs'],
               outputs=['{work_dir}/pairs/manifest.json']),
    pairs_noalign=dict(cmd=['{python}', 'tools/data/build_expertaf_pairs.py', '--synthmotion', '{synthmotion.dir}',
                            '--route', 'keyword', '--search-s', '0', '--quiet', '--out', '{work_dir}/pairs_noalign'],
                       outputs=['{work_dir}/pairs_noalign/manifest.json']),
    features=dict(cmd=['{python}', 'tools/data/extract_video_features.py', '{synthmotion.dir}/synthmotion/feedback',
                       '--cache-dir', '{work_dir}/features', '--config', _c + 'video-features_tiny-vit_synthmotion.py',
                       '--quiet', '--report', '{work_dir}/features/report.json'],
                  outputs=['{work_dir}/features/report.json']),
    pct=dict(train=_pct, cfg_options={
        'train_dataloader.dataset.synthmotion': 'None', 'train_dataloader.dataset.data_roots': '[{synthmotion.dir}]',
        'val_dataloader.dataset.synthmotion': 'None', 'val_dataloader.dataset.data_roots': '[{synthmotion.dir}]',
        'train_cfg.max_iters': '{pct_iters}', 'train_cfg.val_interval': '{pct_iters}',
        'param_scheduler.1.end': '{pct_iters}', 'randomness.seed': '{data_seed}'}),
    # the longest chains first: every LLM variant waits for the tokenizer and the features
    expertaf=_llm('expertaf_tiny_1xb8-300_synthmotion.py'),
    no_align=_llm('expertaf_tiny_1xb8-300_synthmotion.py', pairs='pairs_noalign'),
    no_video=_llm('expertaf-no-video_tiny_1xb8-300_synthmotion.py'),
    no_pose=_llm('expertaf-no-pose_tiny_1xb8-300_synthmotion.py'),
    global_pose=_llm('expertaf-global-pose_tiny_1xb8-300_synthmotion.py'),
    llava_ft_pose=_llm('expertaf-llava-ft-pose_tiny_1xb8-300_synthmotion.py'),
    contrastive_nn=dict(train=_c + 'video-nn-contrastive_tiny_1xb16-300_synthmotion.py',
                        cfg_options={**_data('pairs', ('train', )), **_nn_pool(), 'train_cfg.max_iters': '{nn_iters}',
                                     'randomness.seed': '{seed}'}),
    test_pct=dict(test=_pct, checkpoint='{pct.checkpoint}', cfg_options={
        'test_dataloader.dataset.synthmotion': 'None', 'test_dataloader.dataset.data_roots': '[{synthmotion.dir}]'}),
    test_expertaf=_test_llm('expertaf', 'expertaf_tiny_1xb8-300_synthmotion.py'),
    test_no_align=_test_llm('no_align', 'expertaf_tiny_1xb8-300_synthmotion.py', train_pairs='pairs_noalign'),
    test_no_video=_test_llm('no_video', 'expertaf-no-video_tiny_1xb8-300_synthmotion.py'),
    test_no_pose=_test_llm('no_pose', 'expertaf-no-pose_tiny_1xb8-300_synthmotion.py'),
    test_global_pose=_test_llm('global_pose', 'expertaf-global-pose_tiny_1xb8-300_synthmotion.py'),
    test_llava_ft_pose=_test_llm('llava_ft_pose', 'expertaf-llava-ft-pose_tiny_1xb8-300_synthmotion.py'),
    video_nn=dict(test=_c + 'video-nn_tiny_synthmotion.py', checkpoint='none',
                  cfg_options={**_data('pairs', ('test', )), **_nn_pool()}, deps=['wordnet']),
    test_contrastive_nn=dict(test=_c + 'video-nn-contrastive_tiny_1xb16-300_synthmotion.py',
                             checkpoint='{contrastive_nn.checkpoint}',
                             cfg_options={**_data('pairs', ('test', )), **_nn_pool()}, deps=['wordnet']),
    table=dict(cmd=['{python}', 'projects/expertaf/results_table.py', '{work_dir}', '--out', '{work_dir}/results.md',
                    '--json', '{work_dir}/results.json'],
               outputs=['{work_dir}/results.md'],
               deps=['test_pct', 'test_expertaf', 'test_no_align', 'test_no_video', 'test_no_pose', 'test_global_pose',
                     'test_llava_ft_pose', 'video_nn', 'test_contrastive_nn', 'pairs_noalign']),
)
results = 'table'
