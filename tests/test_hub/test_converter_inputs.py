"""The converters' reader of official files: a file that asks for objects motionkit does not build
is refused, naming them, and nothing in it runs."""
import pytest
import torch

from motionkit.hub.converters import ConversionError, load_official
from tests.test_utils.test_checkpoint_security import PAYLOADS


@pytest.mark.parametrize('kind,named', [('classic', 'system'), ('getattr_chain', 'builtins.getattr')])
def test_official_file_with_foreign_objects_is_refused_by_name(tmp_path, kind, named):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'official.pth'
    torch.save(PAYLOADS[kind](marker), path)
    with pytest.raises(ConversionError, match=f'holds objects motionkit does not build:.*{named}'):
        load_official(str(path), ('state_dict', ), 'official checkpoint')
    assert not marker.exists()


def test_truncated_file_says_so(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save({'state_dict': {'w': torch.zeros(100)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ConversionError, match='truncated download, or not a torch file'):
        load_official(str(path), ('state_dict', ), 'official checkpoint')
