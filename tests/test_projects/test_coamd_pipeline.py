"""projects/coamd/pipeline_synthmotion.py on the generic runner: every stage resolves, the order
respects the data flow, each trained checkpoint reaches the stages that need it on their command
lines; and the results table reads what the stages write (here: small hand-made stage outputs)."""
import json
import pickle

import numpy as np
import pytest

from motionkit.utils.pipeline import load_pipeline
from tests.conftest import REPO_ROOT

PIPELINE = REPO_ROOT / 'projects' / 'coamd' / 'pipeline_synthmotion.py'


def test_pipeline_resolves_and_passes_checkpoints_on_the_command_line(tmp_path):
    pipe = load_pipeline(str(PIPELINE), work_dir=str(tmp_path), log=lambda m: None)
    order = pipe.order
    for before, after in [('synthmotion', 'labels'), ('ae', 'generator'), ('generator', 'sample_guided'),
                          ('mar', 'sample_guided'), ('mar_joint', 'sample_guided_joints'), ('mar', 'probe'),
                          ('probe', 'table'), ('sample_guided_once', 'table')]:
        assert order.index(before) < order.index(after), (before, after)
    cmd = ' '.join(pipe.command('sample_guided'))
    assert f'model.recognizer_checkpoint={tmp_path}/mar/mar.pth' in cmd
    assert f'model.tokenizer_checkpoint={tmp_path}/ae/ae.pth' in cmd
    assert f'{tmp_path}/generator/generator.pth' in cmd
    assert f'test_evaluator.0.out_file_path={tmp_path}/sample_guided/predictions.pkl' in cmd
    assert f'{tmp_path}/mar_joint/mar_joint.pth' in ' '.join(pipe.command('sample_guided_joints'))
    assert 'randomness.seed=0' in ' '.join(pipe.command('mar'))
    for name in order:  # every config a stage names exists
        stage = pipe.stages[name]
        if stage.kind != 'cmd':
            assert (REPO_ROOT / stage.target).is_file(), stage.target
    assert pipe.plan() == order  # nothing done yet
    text = pipe.dry_run()
    assert text.count('[run]') == len(order)
    # the stages are ordinary configs: the sampling variants' evaluator is the dump the table reads
    from mmengine.config import Config
    for name in ('sample_unguided', 'sample_guided', 'sample_guided_joints', 'sample_guided_once'):
        cfg = Config.fromfile(str(REPO_ROOT / pipe.stages[name].target))
        assert cfg.test_evaluator[0]['type'] == 'DumpPredictions'
        assert cfg.test_evaluator[1]['type'] == 'T2MGenerationMetric'
        assert cfg.test_evaluator[1]['preset'] == 'mardm'
        cmd = ' '.join(pipe.command(name))
        assert f'test_evaluator.1.evaluator_checkpoint={tmp_path}/evaluator/evaluator.pth' in cmd
        assert 'model.num_replications=3 ' in cmd and 'test_evaluator.1.replications=3' in cmd
        assert f'test_evaluator.1.clip_evaluator_checkpoint={tmp_path}/clip_evaluator/clip_evaluator.pth' in cmd


def test_results_table_reads_the_stage_outputs_and_reports_missing_ones(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('coamd_results', REPO_ROOT / 'projects/coamd/results_table.py')
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    (tmp_path / 'test_mar').mkdir()
    (tmp_path / 'test_mar' / 'metrics.json').write_text(json.dumps({
        'recognition/mAP': 0.5, 'recognition/top1': 0.625, 'recognition/head_acc': 0.75,
        'recognition/medium_acc': 0.5, 'recognition/tail_acc': 0.25, 'retrieval/all/t2m/R01': 0.25, 'retrieval/all/t2m/R05': 0.75,
        'retrieval/all/m2t/R01': 0.125, 'retrieval/all/m2t/R05': 0.5}))
    # two generated motions: a still one and one moving 0.1 m per frame on every joint (2 m/s at 20 fps)
    still = np.zeros((10, 22, 3))
    moving = np.zeros((10, 22, 3))
    moving[:, :, 0] = 0.1 * np.arange(10)[:, None]
    (tmp_path / 'sample_unguided').mkdir()
    with open(tmp_path / 'sample_unguided' / 'predictions.pkl', 'wb') as f:
        pickle.dump([dict(pred_joints=still, gt_joints=moving, gt_text='a person walks'),
                     dict(pred_joints=moving, gt_joints=moving, gt_text='a person waves')], f)
    (tmp_path / 'sample_unguided' / 'metrics.json').write_text(json.dumps({
        't2m/r_precision_top1': 0.25, 't2m/r_precision_top3': 0.5, 't2m/fid': 3.0, 't2m/mm_dist': 4.0,
        't2m/diversity': 5.0, 't2m/clip_score': 0.125, 't2m/multimodality': 1.5,
        't2m/gt/r_precision_top1': 0.5, 't2m/gt/r_precision_top3': 0.75, 't2m/gt/mm_dist': 3.5,
        't2m/gt/diversity': 6.0, 't2m/gt/clip_score': 0.25}))
    text = table.report(tmp_path, with_scores=False)
    assert ('| MAR, joint + bone + motion | 50.0 | 62.5 | 75.0 | 50.0 | 25.0 | 25.0 | 75.0 | 12.5 | 50.0 '
            '| - | - |') in text
    assert 'missing (test_mar_joint/metrics.json)' in text
    assert 'missing (test_evaluator/metrics.json)' in text
    assert 'missing (test_clip_evaluator/metrics.json)' in text
    assert '| CoAMD w/o MAR (unguided) | 0.250 | 0.500 | 3.00 | 4.00 | 5.00 | 0.125 | 1.50 | - | - | 1.00 |' in text
    # the real motions' row: the evaluator's gt numbers and the ground truth's joint speed
    assert '| real motions (test split) | 0.500 | 0.750 | - | 3.50 | 6.00 | 0.250 | - | - | - | 2.00 |' in text
    assert 'Generation, test prompts (2)' in text
    assert 'missing (sample_guided/metrics.json)' in text
    assert 'missing (labels/manifest.json)' in text and 'missing (probe/probe.json)' in text
    assert table.mean_joint_speed([moving]) == pytest.approx(2.0)
    # two seeds: mean +- sd (ddof 1) of every cell
    other = tmp_path.parent / (tmp_path.name + '_seed1')
    (other / 'test_mar').mkdir(parents=True)
    (other / 'test_mar' / 'metrics.json').write_text(json.dumps({'recognition/mAP': 0.7}))
    both = table.report([tmp_path, other], with_scores=False)
    assert 'Mean ± standard deviation over 2 runs' in both
    assert '| MAR, joint + bone + motion | 60.0 ± 14.1 | 62.5 ± 0.0 (n=1) |' in both


def test_mar_bucket_weights_are_synthmotion_design_weights():
    """The head / medium / tail buckets of the MAR configs follow SynthMotion's long-tail design."""
    from mmengine.config import Config
    from motionkit.synthmotion import ClassDistribution
    cfg = Config.fromfile(str(REPO_ROOT / 'projects/coamd/configs/mar_tiny_1xb32-1k_synthmotion.py'))
    design = ClassDistribution().to_list()
    assert [c['name'] for c in design] == list(cfg.synthmotion_classes)
    assert list(cfg.test_evaluator[0]['class_counts']) == [round(c['weight'] * 1e4) for c in design]


def test_render_samples_writes_side_by_side_gifs(tmp_path):
    import importlib.util
    from PIL import Image
    spec = importlib.util.spec_from_file_location('coamd_render', REPO_ROOT / 'projects/coamd/render_samples.py')
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    rng = np.random.default_rng(0)
    for stage in ('sample_unguided', 'sample_guided'):
        (tmp_path / stage).mkdir()
        with open(tmp_path / stage / 'predictions.pkl', 'wb') as f:
            pickle.dump([dict(sample_id=f'm{i}', gt_text='a person walks', pred_joints=rng.normal(size=(6, 22, 3)),
                              gt_joints=rng.normal(size=(8, 22, 3))) for i in range(2)], f)
    paths = render.render(tmp_path, tmp_path / 'out', num=1, still=True, width=64)
    assert [p.name for p in paths] == ['m0.gif', 'm0.png']
    index = json.loads((tmp_path / 'out' / 'index.json').read_text())
    assert index['files'] == ['m0.gif', 'm0.png'] and index['panels'] == ['real', 'w/o MAR', 'MAR guidance']
    gif = Image.open(paths[0])
    assert gif.size == (3 * 64, 64) and gif.n_frames == 8  # real | w/o MAR | guided; longest motion
    with pytest.raises(KeyError, match="no sample 'zz'"):
        render.render(tmp_path, tmp_path / 'out', ids=['zz'])
    with pytest.raises(FileNotFoundError, match='run the pipeline first'):
        render.render(tmp_path / 'nowhere', tmp_path / 'out')


def test_results_table_checks_the_frames_editing_keeps(tmp_path):
    import importlib.util
    import torch
    from motionkit.models.diffusion.temporal_editing import temporal_edit_keep_mask
    spec = importlib.util.spec_from_file_location('coamd_results', REPO_ROOT / 'projects/coamd/results_table.py')
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(40, 22, 3))
    keep = temporal_edit_keep_mask('prefix', torch.tensor([40]), 40, 4)[0].numpy()
    assert keep.any() and not keep.all()
    edited = gt.copy()
    edited[~keep] += 1.0  # regenerated frames differ, kept frames are the input's
    assert table.kept_frame_error_mm([dict(pred_joints=edited, gt_joints=gt)], 'prefix') == 0.0
    moved = edited.copy()
    moved[np.nonzero(keep)[0][0], 3, 1] += 0.01  # one kept coordinate off by 1 cm
    assert table.kept_frame_error_mm([dict(pred_joints=moved, gt_joints=gt)], 'prefix') == pytest.approx(10.0)
    (tmp_path / 'edit_prefix').mkdir()
    with open(tmp_path / 'edit_prefix' / 'predictions.pkl', 'wb') as f:
        pickle.dump([dict(pred_joints=edited, gt_joints=gt)], f)
    text = table.report(tmp_path, with_scores=False)
    assert '| prefix | - | - | - | - | - | - | - | 0.00 |' in text
    assert 'missing (edit_suffix/metrics.json)' in text
