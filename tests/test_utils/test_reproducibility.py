"""motionkit.utils.reproducibility: the numeric environment record and the bit-level state-dict
comparison, checked by hand."""
import torch

from motionkit.utils.reproducibility import compare_state_dicts, numeric_environment


def test_identical_state_dicts():
    a = dict(w=torch.tensor([1.0, 2.0]), n=torch.tensor([float('nan')]), step=3)
    b = dict(w=torch.tensor([1.0, 2.0]), n=torch.tensor([float('nan')]), step=3)
    out = compare_state_dicts(a, b)
    assert out == dict(identical=True, num_entries=3, differing=[], only_in_a=[], only_in_b=[])


def test_differences_are_listed_with_their_size():
    a = dict(w=torch.tensor([1.0, 2.0]), zero=torch.tensor(0.0), ids=torch.tensor([1, 2]),
             half=torch.zeros(2), shape=torch.zeros(2), step=3, gone=torch.ones(1))
    b = dict(w=torch.tensor([1.0, 2.5]), zero=torch.tensor(-0.0), ids=torch.tensor([1, 2]),
             half=torch.zeros(2, dtype=torch.float16), shape=torch.zeros(3), step=4, new=1)
    out = compare_state_dicts(a, b)
    assert not out['identical'] and out['num_entries'] == 8
    # 0.0 and -0.0 are equal numbers but not the same bits: a rerun that flips a sign is no rerun
    assert out['differing'] == [('half', None), ('shape', None), ('step', None), ('w', 0.5),
                                ('zero', 0.0)]
    assert out['only_in_a'] == ['gone'] and out['only_in_b'] == ['new']


def test_a_last_bit_difference_counts():
    x = torch.tensor([1.0])
    y = torch.nextafter(x, torch.tensor([2.0]))
    out = compare_state_dicts(dict(x=x), dict(x=y))
    assert out['differing'] == [('x', float(y - x))] and float(y - x) == 2.0 ** -23


def test_numeric_environment_is_plain_and_current():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        env = numeric_environment()
        assert env['num_threads'] == 1 and env['device'] == 'cpu'
        assert env['torch'] == torch.__version__
        assert env['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
        assert env['deterministic_algorithms'] is torch.are_deterministic_algorithms_enabled()
        # plain Python only: checkpoint meta must load with weights_only=True
        assert all(v is None or type(v) in (str, int, bool) for v in env.values())
    finally:
        torch.set_num_threads(old)
