import os

import numpy as np
import pytest

from motionkit.utils import atomic_save_npy, atomic_write_bytes, atomic_write_text

def test_atomic_writes_round_trip(tmp_path):
    atomic_write_text(tmp_path / 'a' / 'x.txt', 'hello')
    assert (tmp_path / 'a' / 'x.txt').read_text() == 'hello'
    atomic_save_npy(tmp_path / 'y.npy', np.arange(5, dtype=np.int16))
    np.testing.assert_array_equal(np.load(tmp_path / 'y.npy'), np.arange(5))
    assert oct(os.stat(tmp_path / 'y.npy').st_mode & 0o777) != oct(0o600)

def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'z.bin'
    atomic_write_bytes(target, b'old')

    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # cannot be written: fails mid-way
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['z.bin']
    with pytest.raises(ValueError):
        atomic_save_npy(tmp_path / 'o.npy', np.array([object()]))  # pickles are refused
    assert not (tmp_path / 'o.npy').exists()
