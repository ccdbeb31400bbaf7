"""Malicious checkpoints, built inside the test, at every motionkit entry point that reads one.

Each payload touches a marker file if any of its code runs. Every entry point must refuse it (or,
for pure data that merely looks like a pickle, return it as inert bytes) and the marker must never
exist. The payloads are the ones a reviewer ran against the old loader, which allowlisted
``builtins.getattr`` for the whole process:

- ``classic``: ``__reduce__`` -> ``os.system``;
- ``getattr_chain``: ``getattr(getattr, '__self__')`` is the ``builtins`` module, ``getattr`` of
  that is ``eval``, handed to ``torch._tensor._rebuild_from_type_v2`` (always allowed by torch),
  which calls it and returns a valid tensor: the load succeeds and the code has run;
- ``history_buffer``: the same ``eval`` smuggled through mmengine's HistoryBuffer state into the
  class-wide statistics table;
- ``unexpected_module``: a global from a module no checkpoint needs (``subprocess.call``);
- ``object_array``: a numpy object array holding the payload;
- ``legacy_nested``: the payload in torch's legacy (non-zip) container of nested pickles.
"""
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from motionkit.utils import CheckpointSecurityError, safe_load, safe_pickle_load
from tests.conftest import REPO_ROOT
from tests.test_tools.test_cigtime_operator_accuracy import _tool as _operator_tool

OLD_CHECKPOINT = REPO_ROOT / 'tests' / 'data' / 'checkpoints' / 'root_direction_toy_iter_20_c9c7a44.pth'
TOY_PLUGIN = REPO_ROOT / 'docs' / 'examples' / 'custom_plugin'
TOY_CONFIG = TOY_PLUGIN / 'configs' / 'root_direction_1xb32-200it_toy.py'


class _Reduce:
    """Pickles as ``fn(*args)``."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class _Build:
    """Pickles as ``cls.__new__(cls)`` followed by ``BUILD(state)``."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    @property
    def __class__(self):  # pickle checks that the object is an instance of the class it names
        return self.cls

    def __reduce_ex__(self, protocol):
        import copyreg
        return copyreg.__newobj__, (self.cls, ), self.state


def _touch_code(marker: Path) -> str:
    return f"__import__('pathlib').Path({str(marker)!r}).touch() or __import__('torch').zeros(2)"


def _eval_via_getattr():
    builtins_module = _Reduce(getattr, (getattr, '__self__'))
    return _Reduce(getattr, (builtins_module, 'eval'))


def payload_classic(marker):
    return {'state_dict': {'w': torch.zeros(2)}, 'meta': _Reduce(os.system, (f'touch {marker}', ))}


def payload_getattr_chain(marker):
    tensor = _Reduce(torch._tensor._rebuild_from_type_v2,
                     (_eval_via_getattr(), torch.Tensor, (_touch_code(marker), ), {}))
    return {'state_dict': {'w': tensor}}


def payload_history_buffer(marker):
    from mmengine.logging import HistoryBuffer
    state = dict(max_length=10, _log_history=np.zeros(1), _count_history=np.ones(1),
                 statistics_methods={'mean': _eval_via_getattr()})
    hub = {'log_scalars': {'loss': _Build(HistoryBuffer, state)}}
    return {'state_dict': {'w': torch.zeros(2)}, 'message_hub': hub}


def payload_unexpected_module(marker):
    return {'state_dict': {'w': torch.zeros(2)}, 'meta': _Reduce(subprocess.call, (['touch', str(marker)], ))}


def payload_object_array(marker):
    arr = np.empty(1, dtype=object)
    arr[0] = _Reduce(os.system, (f'touch {marker}', ))
    return {'state_dict': {'w': torch.zeros(2)}, 'meta': {'history': arr}}


PAYLOADS = {
    'classic': payload_classic,
    'getattr_chain': payload_getattr_chain,
    'history_buffer': payload_history_buffer,
    'unexpected_module': payload_unexpected_module,
    'object_array': payload_object_array,
    'legacy_nested': payload_classic,  # written in the legacy container below
}


def write_payload(kind: str, path: Path, marker: Path) -> Path:
    obj = PAYLOADS[kind](marker)
    torch.save(obj, path, _use_new_zipfile_serialization=(kind != 'legacy_nested'))
    return path


@pytest.fixture(params=sorted(PAYLOADS))
def evil(request, tmp_path):
    marker = tmp_path / 'pwned'
    path = write_payload(request.param, tmp_path / f'evil_{request.param}.pth', marker)
    yield path, marker
    assert not marker.exists(), f'the {request.param} payload ran'


def test_payloads_are_real(tmp_path):
    """The payloads do run when unpickled without weights_only: the tests below can fail."""
    for kind in ('classic', 'getattr_chain', 'unexpected_module', 'object_array'):
        marker = tmp_path / f'ran_{kind}'
        path = write_payload(kind, tmp_path / f'{kind}.pth', marker)
        torch.load(path, weights_only=False)
        assert marker.exists(), kind
    # the getattr chain gets through torch's weights_only loader once getattr is allowlisted,
    # which is what motionkit used to do for the whole process
    marker = tmp_path / 'ran_allowlisted'
    path = write_payload('getattr_chain', tmp_path / 'chain.pth', marker)
    with torch.serialization.safe_globals([getattr]):
        out = torch.load(path, weights_only=True)
    assert marker.exists() and torch.equal(out['state_dict']['w'], torch.zeros(2))


def test_safe_load_refuses(evil):
    path, _ = evil
    with pytest.raises(RuntimeError, match='weights_only=True'):
        safe_load(str(path))


def test_mmengine_load_checkpoint_refuses(evil):
    from mmengine.runner import load_checkpoint

    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with pytest.raises(RuntimeError, match='weights_only=True'):
        load_checkpoint(torch.nn.Linear(2, 2), str(path_of(evil)), map_location='cpu')


def path_of(evil):
    return evil[0]


def test_owned_model_refuses(evil):
    from motionkit.utils.owned_model import build_owned_model
    from tests.test_models.test_editors.tiny_mdm import TINY
    with pytest.raises(RuntimeError, match='weights_only=True'):
        build_owned_model(dict(TINY, type='MDM'), str(path_of(evil)), 'TestMetric')


def test_motion_tokenizer_loader_refuses(evil):
    from motionkit.datagen.tokenize import load_motion_tokenizer
    with pytest.raises(RuntimeError, match='weights_only=True'):
        load_motion_tokenizer(str(REPO_ROOT / 'configs' / 'vqvae' / 'vqvae_tiny_1xb32-2k_synthmotion.py'),
                              str(path_of(evil)))


def test_editor_inferencer_refuses(evil):
    from motionkit.apis import MotionEditorInferencer
    from tests.test_models.test_editors.tiny_mdm import TINY
    with pytest.raises(RuntimeError, match='weights_only=True'):
        MotionEditorInferencer(dict(model=dict(TINY, type='MDM')), weights=str(path_of(evil)))


def test_corrective_instruction_generator_refuses(evil):
    from mmengine.registry import init_default_scope

    from motionkit.registry import MODELS
    from tests.test_models.test_generators.test_corrective_instruction_generator import TEXTS, TOKENIZER
    init_default_scope('motionkit')
    llm = dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
               tokenizer=dict(type='word_level', extra_texts=TEXTS), motion_token_strategy='text',
               codebook_size=16, template='cigtime')
    with pytest.raises(RuntimeError, match='weights_only=True'):
        MODELS.build(dict(type='CorrectiveInstructionGenerator', tokenizer=TOKENIZER, llm=llm,
                          tokenizer_checkpoint=str(path_of(evil))))


def test_plain_torch_load_after_importing_motionkit_refuses(evil):
    """motionkit leaves torch's process-wide allowlist alone: a third party's
    ``torch.load(weights_only=True)`` is exactly as strict after motionkit has loaded a
    checkpoint."""
    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    safe_load(str(OLD_CHECKPOINT))
    names = [str(g) for g in torch.serialization.get_safe_globals()]
    assert not [n for n in names if 'getattr' in n or 'numpy' in n or 'mmengine' in n or 'motionkit' in n]
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path_of(evil), weights_only=True)


def test_transformers_from_pretrained_after_importing_motionkit_refuses(tmp_path):
    from transformers import LlamaConfig, LlamaForCausalLM

    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    safe_load(str(OLD_CHECKPOINT))
    cfg = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2)
    folder = tmp_path / 'model'
    folder.mkdir()
    (folder / 'config.json').write_text(cfg.to_json_string())
    marker = tmp_path / 'pwned'
    state = LlamaForCausalLM(cfg).state_dict()
    state['model.embed_tokens.weight'] = _Reduce(
        torch._tensor._rebuild_from_type_v2,
        (_eval_via_getattr(), torch.Tensor,
         (f"__import__('pathlib').Path({str(marker)!r}).touch() or __import__('torch').zeros(32, 16)", ), {}))
    torch.save(state, folder / 'pytorch_model.bin')
    with pytest.raises(Exception):
        LlamaForCausalLM.from_pretrained(str(folder), use_safetensors=False)
    assert not marker.exists()


def test_history_buffer_cannot_poison_the_class_table(tmp_path):
    from mmengine.logging import HistoryBuffer
    before = dict(HistoryBuffer._statistics_methods)
    path = write_payload('history_buffer', tmp_path / 'hb.pth', tmp_path / 'pwned')
    with pytest.raises(RuntimeError, match='getattr'):
        safe_load(str(path))
    assert HistoryBuffer._statistics_methods == before


def test_getattr_stand_in_names_the_refused_attribute():
    from mmengine.logging import HistoryBuffer

    from motionkit.utils.checkpoint import _checkpoint_getattr
    assert _checkpoint_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(CheckpointSecurityError, match="'register_statistics'"):
        _checkpoint_getattr(HistoryBuffer, 'register_statistics')
    with pytest.raises(CheckpointSecurityError, match="'__self__'"):
        _checkpoint_getattr(getattr, '__self__')


def test_nested_pickle_in_tensor_storage_stays_data(tmp_path):
    """A pickle hidden in a tensor's storage is bytes: it is returned as a uint8 tensor and never
    unpickled."""
    marker = tmp_path / 'pwned'
    inner = pickle.dumps(_Reduce(os.system, (f'touch {marker}', )))
    path = tmp_path / 'nested.pth'
    torch.save({'state_dict': {'w': torch.frombuffer(bytearray(inner), dtype=torch.uint8)}}, path)
    out = safe_load(str(path))
    assert bytes(out['state_dict']['w'].numpy()) == inner
    assert not marker.exists()


def test_checkpoint_written_before_the_fix_still_loads():
    from mmengine.logging import HistoryBuffer
    ckpt = safe_load(str(OLD_CHECKPOINT))
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert type(loss) is HistoryBuffer and len(loss.data[0]) == 20
    assert loss.statistics('mean') == pytest.approx(float(np.mean(loss.data[0])))
    assert ckpt['meta']['iter'] == 20 and sorted(ckpt['state_dict']) == [
        'mlp.0.bias', 'mlp.0.weight', 'mlp.2.bias', 'mlp.2.weight']


def test_numpy_1_spelling_still_loads(tmp_path):
    """numpy 1.x pickles ``numpy.core.multiarray``; rewrite the old fixture that way."""
    src = zipfile.ZipFile(OLD_CHECKPOINT)
    out = tmp_path / 'np1.pth'
    with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray' in data
                data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
            dst.writestr(info, data)
    ckpt = safe_load(str(out))
    assert ckpt['message_hub']['log_scalars']['train/loss'].current() is not None


def test_resume_from_a_checkpoint_written_before_the_fix(tmp_path):
    work = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOY_PLUGIN), str(REPO_ROOT)]))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(TOY_CONFIG), '--work-dir', str(work), '--resume',
         str(OLD_CHECKPOINT), '--cfg-options', 'train_cfg.max_iters=24', 'train_cfg.val_interval=100',
         'default_hooks.checkpoint.interval=4'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 20' in proc.stdout + proc.stderr
    assert (work / 'iter_24.pth').is_file()


@pytest.mark.parametrize('kind', ['classic', 'getattr_chain'])
def test_tools_test_refuses(tmp_path, kind):
    marker = tmp_path / 'pwned'
    ckpt = write_payload(kind, tmp_path / 'evil.pth', marker)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOY_PLUGIN), str(REPO_ROOT)]))
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', str(TOY_CONFIG), str(ckpt), '--work-dir', str(tmp_path / 'work')],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'weights_only=True' in proc.stderr
    assert not marker.exists(), 'the pickle payload ran'


def test_tools_train_resume_refuses(tmp_path):
    marker = tmp_path / 'pwned'
    ckpt = write_payload('getattr_chain', tmp_path / 'evil.pth', marker)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOY_PLUGIN), str(REPO_ROOT)]))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(TOY_CONFIG), '--work-dir', str(tmp_path / 'work'),
         '--resume', str(ckpt)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and 'weights_only=True' in proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize('scheme', ['torchvision://resnet50', 'open-mmlab://resnet50_v1c',
                                    's3://bucket/model.pth', 'pavi://model.pth'])
def test_schemes_without_a_hash_check_are_refused(scheme):
    from mmengine.runner.checkpoint import CheckpointLoader

    from motionkit.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with pytest.raises(RuntimeError, match='motionkit does not load'):
        CheckpointLoader.load_checkpoint(scheme, map_location='cpu')


def test_prediction_pickles_are_read_without_running_code(tmp_path):
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'preds.pkl'
    evil.write_bytes(pickle.dumps([{'pred_instruction': _Reduce(os.system, (f'touch {marker}', ))}]))
    with pytest.raises(pickle.UnpicklingError, match='posix.system|os.system'):
        _operator_tool().load_predictions(str(evil))
    assert not marker.exists()
    # plain data with numpy arrays and scalars, as DumpPredictions writes it, still loads
    good = [{'pred_instruction': 'bow deeper', 'x': np.arange(3.0), 's': np.float32(1.5)}]
    (tmp_path / 'good.pkl').write_bytes(pickle.dumps(good))
    back = safe_pickle_load(str(tmp_path / 'good.pkl'))
    np.testing.assert_array_equal(back[0]['x'], np.arange(3.0))
    assert back[0]['s'] == 1.5 and back[0]['pred_instruction'] == 'bow deeper'
    (tmp_path / 'good.json').write_text(json.dumps([{'pred_instruction': 'a'}]))
    assert _operator_tool().load_predictions(str(tmp_path / 'good.json')) == [{'pred_instruction': 'a'}]


def test_trust_remote_code_from_a_config_is_refused(tmp_path):
    from motionkit.models.llm_heads.backbones import build_backbone
    from motionkit.utils import allow_remote_code
    folder = tmp_path / 'lm'
    folder.mkdir()
    with pytest.raises(PermissionError, match='--trust-remote-code'):
        build_backbone(dict(pretrained=str(folder), trust_remote_code=True))
    from motionkit.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('motionkit')
    with pytest.raises(PermissionError, match='--trust-remote-code'):
        MODELS.build(dict(type='MotionLanguageModel', backbone=dict(preset='tiny-llama'),
                          tokenizer=dict(type='pretrained', path=str(folder), trust_remote_code=True)))
    allow_remote_code()
    try:  # allowed from the command line: the key reaches transformers (which finds no model here)
        with pytest.raises(Exception) as err:
            build_backbone(dict(pretrained=str(folder), trust_remote_code=True))
        assert not isinstance(err.value, PermissionError)
    finally:
        allow_remote_code(False)


def test_train_cli_has_the_trust_remote_code_flag():
    spec = importlib.util.spec_from_file_location('train_tool', REPO_ROOT / 'tools' / 'train.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.parse_args(['x.py', '--trust-remote-code']).trust_remote_code
    assert not tool.parse_args(['x.py']).trust_remote_code
