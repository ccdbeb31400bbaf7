import hashlib
import numpy as np
import pytest
import torch

from motionkit.utils import safe_load, verify_sha256


def test_mmengine_checkpoint_objects_load_with_weights_only(tmp_path):
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer()
    buf.update(1.5)
    ckpt = {'state_dict': {'w': torch.ones(3)},
            'message_hub': {'log_scalars': {'loss': buf}},
            'meta': {'np_scalar': np.float64(2.0), 'np_array': np.arange(3)}}
    path = tmp_path / 'ok.pth'
    torch.save(ckpt, path)
    loaded = safe_load(str(path))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['meta']['np_scalar'] == 2.0
    np.testing.assert_array_equal(loaded['meta']['np_array'], np.arange(3))


def test_sha256_in_file_name_is_verified(tmp_path):
    path = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    good = tmp_path / f'model-{digest[:8]}.pth'
    path.rename(good)
    assert verify_sha256(str(good)) == digest
    assert torch.equal(safe_load(str(good))['state_dict']['w'], torch.ones(2))

    bad = tmp_path / 'model-deadbeef.pth'
    good.rename(bad)
    with pytest.raises(ValueError, match='sha256 mismatch for .*model-deadbeef.pth'):
        safe_load(str(bad))


def test_sha256_sidecar_and_explicit_hash(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'state_dict': {}}, path)
    (tmp_path / 'weights.pth.sha256').write_text('0' * 64 + '  weights.pth\n')
    with pytest.raises(ValueError, match='sha256 mismatch'):
        safe_load(str(path))
    (tmp_path / 'weights.pth.sha256').unlink()
    with pytest.raises(ValueError, match='expected sha256 must be'):
        verify_sha256(str(path), 'xyz')
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert safe_load(str(path), sha256=digest) == {'state_dict': {}}


def test_safetensors_checkpoint(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / 'w.safetensors'
    save_file({'layer.weight': torch.arange(4.0)}, str(path))
    out = safe_load(str(path))
    assert torch.equal(out['state_dict']['layer.weight'], torch.arange(4.0))


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_load(str(tmp_path / 'nope.pth'))
