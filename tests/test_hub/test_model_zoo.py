"""model_zoo.md is generated from the metafiles; every config a metafile names builds; the
download tool lists and fetches by name."""
import importlib.util
import textwrap

import pytest

from motionkit.hub import MetafileError, load_model_index
from tests.conftest import REPO_ROOT


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'_misc_{name}',
                                                  REPO_ROOT / 'tools' / 'misc' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_zoo_md_is_up_to_date():
    gen = _tool('gen_model_zoo')
    expected = gen.render()
    current = (REPO_ROOT / 'model_zoo.md').read_text()
    assert current == expected, 'model_zoo.md is out of date: run python tools/misc/gen_model_zoo.py'


def test_out_of_date_check_fails(tmp_path):
    gen = _tool('gen_model_zoo')
    out = tmp_path / 'model_zoo.md'
    out.write_text(gen.render() + '\n| a row added by hand |\n')
    assert gen.main(['--check', '--out', str(out)]) == 1
    assert gen.main(['--out', str(out)]) == 0
    assert gen.main(['--check', '--out', str(out)]) == 0


def test_index_models_are_unique_and_official_ones_are_honest():
    models = load_model_index()['Models']
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names))
    for m in models:
        if m.get('Weights'):
            # a URL with no published hash says so (Sha256: null) and explains the file
            assert 'Sha256' in m, m['Name']
            assert m.get('Sha256') or m.get('Weights Note'), m['Name']
        else:
            assert m.get('Command') or m.get('Weights Note'), m['Name']
    assert 'cigtime-pair-features_tiny_synthmotion' in names
    assert 'mdm_trans-enc-512_official_humanml3d' in names


def test_every_metafile_config_builds(monkeypatch, request):
    # CigTime configs read their stage outputs from $CIGTIME_WORK_DIR: the small work dir the
    # config tests use, with a random tokenizer where a stage checkpoint is missing
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from motionkit.utils import register_all_modules
    from tests.test_configs import _fill_missing_checkpoints
    register_all_modules(init_default_scope=False)
    monkeypatch.setenv('CIGTIME_WORK_DIR', str(request.getfixturevalue('cigtime_work_dir')))
    with DefaultScope.overwrite_default_scope('motionkit'):
        for model in load_model_index()['Models']:
            if model.get('Config') and 'cigtime' in model['Config']:
                _fill_missing_checkpoints(Config.fromfile(str(REPO_ROOT / model['Config'])))
    gen = _tool('gen_model_zoo')
    assert gen.check_configs() == []


def _index(tmp_path, body):
    (tmp_path / 'metafile.yml').write_text(textwrap.dedent(body))
    index = tmp_path / 'model-index.yml'
    index.write_text('Import:\n  - metafile.yml\n')
    return str(index)


def test_metafile_config_that_does_not_build_is_reported(tmp_path):
    bad = tmp_path / 'bad_config.py'
    bad.write_text("model = dict(type='NoSuchModel')\n")
    index = _index(tmp_path, f"""
        Models:
          - Name: broken
            Config: {bad}
          - Name: missing
            Config: configs/nowhere.py
    """)
    problems = _tool('gen_model_zoo').check_configs(index)
    assert len(problems) == 2
    assert "'broken'" in problems[0] and 'NoSuchModel' in problems[0]
    assert "'missing'" in problems[1] and 'no such file' in problems[1]


def test_metafile_errors(tmp_path):
    with pytest.raises(MetafileError, match="duplicate model name 'x'"):
        load_model_index(_index(tmp_path, """
            Models:
              - Name: x
              - Name: x
        """))
    with pytest.raises(MetafileError, match="unknown keys \\['Wieghts'\\]"):
        load_model_index(_index(tmp_path, """
            Models:
              - Name: y
                Wieghts: https://example.org/y.pth
        """))
    with pytest.raises(MetafileError, match='In Collection: Nope'):
        load_model_index(_index(tmp_path, """
            Models:
              - Name: z
                In Collection: Nope
        """))


def test_download_tool_list_and_fetch(file_server, cache, tmp_path, capsys):
    import hashlib
    data = b'weights' * 1000
    url, sha = file_server.add('/zoo/toy.pth', data)
    index = _index(tmp_path, f"""
        Models:
          - Name: toy
            Weights: {url}
            Sha256: {sha}
          - Name: built_here
            Command: python tools/train.py toy.py
    """)
    tool = _tool('download')
    assert tool.main(['--list', '--index', index]) == 0
    listing = capsys.readouterr().out
    assert 'toy' in listing and sha[:12] in listing and 'local build' in listing
    assert tool.main(['toy', '--index', index, '--dest', str(tmp_path / 'out'),
                      '--no-progress']) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    assert path.startswith(str(tmp_path / 'out')) and open(path, 'rb').read() == data
    assert hashlib.sha256(open(path, 'rb').read()).hexdigest() == sha
    assert tool.main(['built_here', '--index', index]) == 1
    assert 'no published weights URL' in capsys.readouterr().err
    # the real index lists the official entries; a Drive link explains how to fetch it by hand
    assert tool.main(['--list']) == 0
    assert 'mdm_trans-enc-512_official_humanml3d' in capsys.readouterr().out
    assert tool.main(['mdm_trans-enc-512_official_humanml3d', '--allow-unpinned']) == 1
    assert 'gdown' in capsys.readouterr().err
