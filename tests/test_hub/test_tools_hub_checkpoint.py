"""``tools/test.py CONFIG motionkit://NAME`` and ``--allow-unpinned`` against a local HTTP server."""
import hashlib
import importlib.util
import io
import textwrap

import pytest
import torch

from motionkit.hub import UnpinnedHashError, cache_path
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / 'docs' / 'examples' / 'custom_plugin'
CONFIG = str(EXAMPLE / 'configs' / 'root_direction_1xb32-200it_toy.py')


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', REPO_ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def checkpoint_bytes(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import my_motion_plugin
    torch.manual_seed(0)
    model = my_motion_plugin.RootDirectionClassifier(num_frames=16, hidden=32)
    # a recognisable weight, so that the test can tell the checkpoint was the one loaded
    state = {k: torch.full_like(v, 0.125) for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save({'state_dict': state, 'meta': {}}, buf)
    return buf.getvalue()


@pytest.fixture
def loaded(monkeypatch):
    """Record every file safe_load reads and the weight it found."""
    from motionkit.utils import checkpoint as ckpt_mod
    seen = []
    real = ckpt_mod.safe_load

    def spy(path, **kwargs):
        out = real(path, **kwargs)
        seen.append((path, next(iter(out['state_dict'].values())).flatten()[0].item()))
        return out

    monkeypatch.setattr(ckpt_mod, 'safe_load', spy)
    return seen


def test_tools_test_loads_motionkit_name(file_server, cache, tmp_path, monkeypatch,
                                         checkpoint_bytes, loaded):
    url, sha = file_server.add('/zoo/root_direction.pth', checkpoint_bytes)
    meta = tmp_path / 'metafile.yml'
    meta.write_text(textwrap.dedent(f"""
        Models:
          - Name: root_direction_toy
            Config: {CONFIG}
            Weights: {url}
            Sha256: {sha}
    """))
    index = tmp_path / 'model-index.yml'
    index.write_text('Import:\n  - metafile.yml\n')
    monkeypatch.setattr('motionkit.hub.metafiles.DEFAULT_INDEX', str(index))
    metrics = _tool('test').main([CONFIG, 'motionkit://root_direction_toy',
                                  '--work-dir', str(tmp_path / 'work')])
    assert 'accuracy' in ''.join(metrics)
    assert loaded == [(cache_path(url), 0.125)]


def test_tools_test_unpinned_url_needs_the_flag(file_server, cache, tmp_path, capfd,
                                                checkpoint_bytes, loaded):
    url, sha = file_server.add('/zoo/unpinned.pth', checkpoint_bytes)
    tool = _tool('test')
    with pytest.raises(UnpinnedHashError, match='--allow-unpinned'):
        tool.main([CONFIG, url, '--work-dir', str(tmp_path / 'w1')])
    assert loaded == []
    tool.main([CONFIG, url, '--allow-unpinned', '--work-dir', str(tmp_path / 'w2')])
    assert loaded == [(cache_path(url), 0.125)]
    assert sha in capfd.readouterr().err
    assert sha == hashlib.sha256(checkpoint_bytes).hexdigest()


def test_official_name_is_refused_with_its_converter(cache):
    from mmengine.runner.checkpoint import CheckpointLoader

    from motionkit.hub import DownloadError, register_checkpoint_schemes, resolve_checkpoint
    register_checkpoint_schemes()
    with pytest.raises(DownloadError, match='tools/model_converters/mdm_official.py'):
        CheckpointLoader.load_checkpoint('motionkit://mdm_trans-enc-512_official_humanml3d')
    with pytest.raises(DownloadError, match='t2m_evaluator_official.py'):
        resolve_checkpoint('motionkit://t2m-evaluator_official_humanml3d', allow_unpinned=True)


def test_tools_train_allow_unpinned_resolves_load_from(file_server, cache, tmp_path, capfd):
    from mmengine.config import Config
    url, sha = file_server.add('/zoo/init.pth', b'not read here')
    tool = _tool('train')
    cfg = Config(dict(load_from=url, work_dir=str(tmp_path)))
    args = tool.parse_args([CONFIG, '--allow-unpinned'])
    assert tool.merge_args(cfg, args).load_from == cache_path(url)
    assert sha in capfd.readouterr().err
    cfg = Config(dict(load_from=url, work_dir=str(tmp_path)))
    assert tool.merge_args(cfg, tool.parse_args([CONFIG])).load_from == url  # the runner decides
