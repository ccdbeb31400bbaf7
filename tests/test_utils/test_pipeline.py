"""tools/run_pipeline.py and motionkit.utils.pipeline: stages from a config, placeholders, dependency
order, parallel slots, resume, --from, --dry-run, failures, and a real train -> test chain."""
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from motionkit.utils.pipeline import Pipeline, PipelineError, load_pipeline, stage_wall
from tests.conftest import REPO_ROOT

EXAMPLE_DIR = REPO_ROOT / 'docs' / 'examples' / 'custom_plugin'
TOY_CONFIG = EXAMPLE_DIR / 'configs' / 'root_direction_1xb32-200it_toy.py'

# a stage that appends its name and start/end times to a shared log, then writes its output
WRITER = ('import sys, time, pathlib; name, out, log = sys.argv[1:4]; '
          'open(log, "a").write(f"{{name}} start {{time.time()}}\\n"); time.sleep(float(sys.argv[4])); '
          'pathlib.Path(out).write_text(name + " " + " ".join(sys.argv[5:])); '
          'open(log, "a").write(f"{{name}} end {{time.time()}}\\n")')


def _writer(name, out, *extra, sleep=0.0):
    return ['{python}', '-c', WRITER, name, out, '{work_dir}/events.log', str(sleep), *extra]


def _toy(work, slots=2, **over):
    stages = dict(
        a=dict(cmd=_writer('a', '{work_dir}/a.txt', sleep=0.5), outputs=['{work_dir}/a.txt']),
        b=dict(cmd=_writer('b', '{work_dir}/b.txt', sleep=0.5), outputs=['{work_dir}/b.txt']),
        c=dict(cmd=_writer('c', '{work_dir}/c.txt', '{a.out}', '{b.out}'), outputs=['{work_dir}/c.txt']),
    )
    stages.update(over)
    return Pipeline(stages, work, slots=slots, log=lambda msg: None)


def _events(work):
    rows = [line.split() for line in (work / 'events.log').read_text().splitlines()]
    return {(n, what): float(t) for n, what, t in rows}


def test_dependencies_come_from_placeholders_and_run_in_order(tmp_path):
    pipe = _toy(tmp_path)
    assert pipe.deps == {'a': [], 'b': [], 'c': ['a', 'b']}
    pipe.run()
    ev = _events(tmp_path)
    # a and b side by side (two slots), c after both
    assert ev['b', 'start'] < ev['a', 'end'] and ev['a', 'start'] < ev['b', 'end']
    assert ev['c', 'start'] >= max(ev['a', 'end'], ev['b', 'end'])
    assert (tmp_path / 'c.txt').read_text() == f'c {tmp_path}/a.txt {tmp_path}/b.txt'


def test_one_slot_runs_one_stage_at_a_time(tmp_path):
    _toy(tmp_path, slots=1).run()
    ev = _events(tmp_path)
    assert ev['b', 'start'] >= ev['a', 'end']


def test_resume_reuses_done_stages_and_reruns_changed_ones(tmp_path):
    _toy(tmp_path).run()
    assert _toy(tmp_path).plan() == []
    mtime = (tmp_path / 'a.txt').stat().st_mtime_ns
    assert _toy(tmp_path).run() == {}
    assert (tmp_path / 'a.txt').stat().st_mtime_ns == mtime
    # b's command changes: b and c (which reads b) run again, a does not
    changed = _toy(tmp_path, b=dict(cmd=_writer('b', '{work_dir}/b.txt', 'v2'), outputs=['{work_dir}/b.txt']))
    assert changed.plan() == ['b', 'c']
    assert set(changed.run()) == {'b', 'c'}
    assert (tmp_path / 'b.txt').read_text() == 'b v2'
    # an output deleted by hand: that stage and its dependants
    (tmp_path / 'a.txt').unlink()
    assert changed.plan() == ['a', 'c']
    # --from
    changed.run()
    assert changed.plan(['b']) == ['b', 'c']
    with pytest.raises(PipelineError, match="unknown stage 'nope'"):
        changed.plan(['nope'])


def test_failed_stage_names_itself_with_its_log_and_is_not_marked_done(tmp_path):
    bad = ['{python}', '-c', 'import sys; print("the reason it broke"); sys.exit(3)']
    pipe = _toy(tmp_path, slots=1, b=dict(cmd=bad, outputs=['{work_dir}/b.txt']))
    with pytest.raises(PipelineError) as e:
        pipe.run()
    msg = str(e.value)
    assert "stage(s) failed: b" in msg and 'exit 3' in msg and 'the reason it broke' in msg
    assert 'not started: c' in msg
    assert not (tmp_path / 'c.txt').exists()
    assert pipe.plan() == ['b', 'c']  # a is kept
    # exit 0 without the declared output is a failure too
    lazy = _toy(tmp_path, b=dict(cmd=['{python}', '-c', 'pass'], outputs=['{work_dir}/b.txt']))
    with pytest.raises(PipelineError, match=r"'b' finished \(exit 0\) without its outputs"):
        lazy.run()


@pytest.mark.parametrize('stages,match', [
    (dict(a=dict(cmd=['x'], outputs=['{b.out}']), b=dict(cmd=['y'], outputs=['{a.out}'])), 'cycle: a -> b -> a'),
    (dict(a=dict(cmd=['x'], outputs=['o'], deps=['zz'])), "unknown stage 'zz'"),
    (dict(a=dict(cmd=['x'])), 'must declare its outputs'),
    (dict(a=dict(cmd=['x'], train='c.py', outputs=['o'])), 'exactly one of'),
    (dict(a=dict(test='c.py')), "needs 'checkpoint'"),
    (dict(a=dict(cmd=['x'], outputs=['o'], colour='red')), "unknown keys \\['colour'\\]"),
    (dict(a=dict(cmd=['{nope}'], outputs=['o'])), "unknown placeholder '{nope}'"),
    (dict(a=dict(cmd=['x'], outputs=['o']), b=dict(test='c.py', checkpoint='{a.checkpoint}')),
     'only train stages have checkpoints'),
])
def test_bad_pipeline_configs_say_what_is_wrong(tmp_path, stages, match):
    with pytest.raises(PipelineError, match=match):
        p = Pipeline(stages, tmp_path, log=lambda m: None)
        for name in p.order:
            p.command(name), p.outputs(name)


def test_stage_wall_replays_slots_and_dependencies():
    deps = {'c': ['a', 'b']}
    assert stage_wall(['a', 'b', 'c'], dict(a=3, b=5, c=1), deps, slots=2) == 6
    assert stage_wall(['a', 'b', 'c'], dict(a=3, b=5, c=1), deps, slots=1) == 9


def test_cli_dry_run_and_a_real_train_then_test_chain(tmp_path):
    """The pipeline passes the trained checkpoint to the test stage on its command line and the
    training seed through --cfg-options; --dry-run prints commands that run as they are."""
    config = tmp_path / 'toy_pipeline.py'
    config.write_text(textwrap.dedent(f"""
        work_dir = {str(tmp_path / 'default_work')!r}
        slots = 1
        vars = dict(iters=20)
        env = dict(PYTHONPATH={str(EXAMPLE_DIR)!r})
        stages = dict(
            train=dict(train={str(TOY_CONFIG)!r},
                       cfg_options={{'train_cfg.max_iters': '{{iters}}', 'train_cfg.val_interval': 1000,
                                    'default_hooks.checkpoint.interval': '{{iters}}',
                                    'randomness.seed': 3}}),
            test=dict(test={str(TOY_CONFIG)!r}, checkpoint='{{train.checkpoint}}'),
            table=dict(cmd=['{{python}}', '-c',
                            'import json,sys; m=json.load(open(sys.argv[1])); '
                            'open(sys.argv[2],"w").write("accuracy %.1f" % m["direction/accuracy"])',
                            '{{test.metrics}}', '{{work_dir}}/table.md'],
                       outputs=['{{work_dir}}/table.md']),
        )
        results = 'table'
    """))
    work = tmp_path / 'work'
    tool = [sys.executable, 'tools/run_pipeline.py', str(config), '--work-dir', str(work)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    dry = subprocess.run(tool + ['--dry-run'], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert '# train [run]' in dry.stdout and '# test [run]  (after train)' in dry.stdout
    assert f'{work}/train/train.pth' in dry.stdout and 'randomness.seed=3' in dry.stdout
    assert 'train_cfg.max_iters=20' in dry.stdout
    assert not work.exists() or not (work / 'train').exists()

    t0 = time.time()
    out = subprocess.run(tool, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (work / 'train' / 'train.pth').is_file()
    metrics = json.loads((work / 'test' / 'metrics.json').read_text())
    assert 'direction/accuracy' in metrics
    assert f'accuracy {metrics["direction/accuracy"]:.1f}' in out.stdout  # the results stage, printed
    assert '| train |' in out.stdout and 'wall time' in out.stdout
    first = time.time() - t0

    again = subprocess.run(tool, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count('reusing') == 3, again.stdout
    assert 'reused' in again.stdout
    # an override of a pipeline variable changes train's command: everything after it reruns
    rerun = load_pipeline(str(config), work_dir=str(work), options={'vars.iters': 30}, log=lambda m: None)
    assert rerun.plan() == ['train', 'test', 'table']
    assert first < 600
