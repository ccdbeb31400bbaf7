from types import SimpleNamespace

import torch

from motionkit.engine.hooks import NumericEnvironmentHook


def test_logs_and_stores_the_environment_in_checkpoint_meta():
    logs = []
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2), logger=SimpleNamespace(info=logs.append))
    hook = NumericEnvironmentHook()
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        hook.before_run(runner)
        checkpoint = dict(meta=dict(seed=0))
        hook.before_save_checkpoint(runner, checkpoint)
    finally:
        torch.set_num_threads(old)
    assert logs and logs[0].startswith('numeric environment: ') and '"num_threads": 1' in logs[0]
    env = checkpoint['meta']['numeric_env']
    assert checkpoint['meta']['seed'] == 0
    assert env['num_threads'] == 1 and env['device'] == 'cpu' and env['torch'] == torch.__version__
