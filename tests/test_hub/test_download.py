import hashlib
import os
import socket
import textwrap

import pytest
import torch

from motionkit.hub import (ChecksumError, DownloadError, OfflineError, UnpinnedHashError,
                           cache_path, download)

PAYLOAD = bytes(range(256)) * 1024  # 256 KiB


def test_success_then_served_from_cache(file_server, cache):
    url, sha = file_server.add('/w/model.pth', PAYLOAD)
    path = download(url, sha256=sha, progress=False)
    assert path == cache_path(url) and path.startswith(str(cache))
    assert open(path, 'rb').read() == PAYLOAD
    assert not os.path.exists(path + '.part')
    assert download(url, sha256=sha, progress=False) == path
    assert len(file_server.hits('/w/model.pth')) == 1  # the second call did not touch the network


def test_hash_prefix_in_file_name_pins_it(file_server, cache):
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    url, _ = file_server.add(f'/w/model-{sha[:8]}.pth', PAYLOAD)
    assert open(download(url, progress=False), 'rb').read() == PAYLOAD
    bad_url, _ = file_server.add('/w/model-deadbeef.pth', PAYLOAD)
    with pytest.raises(ChecksumError, match='expected deadbeef'):
        download(bad_url, progress=False)


def test_wrong_hash_is_refused_and_nothing_is_kept(file_server, cache):
    url, sha = file_server.add('/w/model.pth', PAYLOAD)
    wrong = '0' * 64
    with pytest.raises(ChecksumError) as err:
        download(url, sha256=wrong, progress=False)
    assert wrong in str(err.value) and sha in str(err.value) and url in str(err.value)
    target = cache_path(url)
    assert not os.path.exists(target) and not os.path.exists(target + '.part')


def test_unpinned_refused_unless_allowed_and_hash_printed(file_server, cache, capfd):
    url, sha = file_server.add('/w/model.pth', PAYLOAD)
    with pytest.raises(UnpinnedHashError, match='--allow-unpinned'):
        download(url, progress=False)
    assert file_server.hits('/w/model.pth') == []  # refused before any transfer
    path = download(url, allow_unpinned=True, progress=False)
    assert open(path, 'rb').read() == PAYLOAD
    assert sha in capfd.readouterr().err


def test_404_names_the_url_and_does_not_retry(file_server, cache):
    url = file_server.url + '/missing.pth'
    with pytest.raises(DownloadError, match='HTTP 404') as err:
        download(url, sha256='a' * 64, progress=False, retries=3)
    assert url in str(err.value)
    assert len(file_server.hits('/missing.pth')) == 1
    assert not os.path.exists(cache_path(url) + '.part')


def test_dropped_connection_is_resumed_with_range(file_server, cache):
    half = len(PAYLOAD) // 2
    url, sha = file_server.add('/w/drop.pth', PAYLOAD, drop_after=half, drops=1)
    path = download(url, sha256=sha, progress=False, retries=2)
    assert open(path, 'rb').read() == PAYLOAD
    assert file_server.hits('/w/drop.pth') == [None, f'bytes={half}-']


def test_partial_file_is_resumed_by_the_next_call(file_server, cache):
    half = len(PAYLOAD) // 2
    url, sha = file_server.add('/w/drop.pth', PAYLOAD, drop_after=half, drops=1)
    with pytest.raises(DownloadError, match='resumes') as err:
        download(url, sha256=sha, progress=False, retries=0)
    part = cache_path(url) + '.part'
    assert os.path.getsize(part) == half and part in str(err.value)
    path = download(url, sha256=sha, progress=False, retries=0)
    assert open(path, 'rb').read() == PAYLOAD
    assert file_server.hits('/w/drop.pth')[-1] == f'bytes={half}-'


def test_corrupt_cached_file_is_fetched_again(file_server, cache):
    url, sha = file_server.add('/w/model.pth', PAYLOAD)
    target = cache_path(url)
    os.makedirs(os.path.dirname(target))
    with open(target, 'wb') as f:
        f.write(b'not the model')
    assert open(download(url, sha256=sha, progress=False), 'rb').read() == PAYLOAD
    assert len(file_server.hits('/w/model.pth')) == 1


def _download_in_child(url, sha, queue):
    try:
        queue.put(download(url, sha256=sha, progress=False))
    except BaseException as err:  # report, never hang the parent
        queue.put(f'error: {err!r}')


def test_two_processes_download_once(file_server, cache):
    import multiprocessing
    url, sha = file_server.add('/w/slow.pth', PAYLOAD, delay=0.01)  # 64 chunks: ~0.6 s
    # fork: the children inherit the imported modules (a fresh interpreter would spend seconds
    # importing torch); each child is its own process with its own lock file handle
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_download_in_child, args=(url, sha, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert results == [cache_path(url)] * 2, results
    assert open(results[0], 'rb').read() == PAYLOAD
    # the second process waited on the lock and found the verified file: one transfer in all
    assert file_server.hits('/w/slow.pth') == [None]
    assert sorted(os.listdir(os.path.dirname(results[0]))) == ['slow.pth', 'slow.pth.lock']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_offline_error_names_url_hash_and_where_to_put_it(cache):
    url = f'http://127.0.0.1:{_free_port()}/w/model.pth'
    sha = 'ab' * 32
    with pytest.raises(OfflineError) as err:
        download(url, sha256=sha, progress=False, retries=0)
    msg = str(err.value)
    assert url in msg and sha in msg and cache_path(url) in msg


def test_offline_mode_uses_the_cache_and_never_the_network(file_server, cache, monkeypatch):
    url, sha = file_server.add('/w/model.pth', PAYLOAD)
    monkeypatch.setenv('MOTIONKIT_OFFLINE', '1')
    with pytest.raises(OfflineError, match='offline mode'):
        download(url, sha256=sha, progress=False)
    assert file_server.hits('/w/model.pth') == []
    path = download(url, sha256=sha, progress=False, offline=False)
    assert download(url, sha256=sha, progress=False) == path  # offline again, from the cache
    assert len(file_server.hits('/w/model.pth')) == 1


def test_file_scheme(tmp_path, cache):
    src = tmp_path / 'local.pth'
    src.write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert download(f'file://{src}', sha256=sha) == str(src)
    with pytest.raises(ChecksumError):
        download(f'file://{src}', sha256='1' * 64)
    with pytest.raises(UnpinnedHashError):
        download(f'file://{src}')
    copied = download(f'file://{src}', sha256=sha, dest=str(tmp_path / 'out'))
    assert open(copied, 'rb').read() == PAYLOAD


def test_hf_scheme_goes_through_huggingface_hub(tmp_path, cache, monkeypatch):
    import huggingface_hub
    src = tmp_path / 'blob.bin'
    src.write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    calls = []

    def fake_hf_hub_download(**kwargs):
        calls.append(kwargs)
        if kwargs['local_files_only']:
            raise huggingface_hub.errors.LocalEntryNotFoundError('not cached')
        return str(src)

    monkeypatch.setattr(huggingface_hub, 'hf_hub_download', fake_hf_hub_download)
    url = 'hf://OpenMotionLab/MotionGPT-base@v1/weights/model.bin'
    assert download(url, sha256=sha) == str(src)
    assert calls[-1]['repo_id'] == 'OpenMotionLab/MotionGPT-base'
    assert calls[-1]['filename'] == 'weights/model.bin' and calls[-1]['revision'] == 'v1'
    with pytest.raises(ChecksumError):
        download(url, sha256='2' * 64)
    with pytest.raises(UnpinnedHashError):
        download(url)
    with pytest.raises(OfflineError, match='not pinned|' + sha):
        download(url, sha256=sha, offline=True)
    with pytest.raises(ValueError, match='hf://<owner>/<repo>'):
        download('hf://only-owner/file.bin', sha256=sha)


def _write_index(tmp_path, models_yaml):
    meta = tmp_path / 'zoo' / 'metafile.yml'
    meta.parent.mkdir(exist_ok=True)
    meta.write_text(textwrap.dedent(models_yaml))
    index = tmp_path / 'model-index.yml'
    index.write_text('Import:\n  - zoo/metafile.yml\n')
    return str(index)


def test_motionkit_scheme_resolves_through_the_metafiles(file_server, cache, tmp_path):
    url, sha = file_server.add('/w/zoo_model.pth', PAYLOAD)
    index = _write_index(tmp_path, f"""
        Collections:
          - Name: Toy
        Models:
          - Name: toy_model
            In Collection: Toy
            Weights: {url}
            Sha256: {sha}
          - Name: local_build
            In Collection: Toy
            Weights Note: built by tools/train.py toy.py
    """)
    path = download('motionkit://toy_model', progress=False, index_file=index)
    assert open(path, 'rb').read() == PAYLOAD
    assert download('toy_model', progress=False, index_file=index) == path
    with pytest.raises(KeyError, match='toy_model'):
        download('motionkit://toy_modle', index_file=index)
    with pytest.raises(DownloadError, match='built by tools/train.py'):
        download('motionkit://local_build', index_file=index)


def test_duplicate_model_name_is_an_error(tmp_path):
    from motionkit.hub import MetafileError, load_model_index
    index = _write_index(tmp_path, """
        Models:
          - Name: twice
          - Name: twice
    """)
    with pytest.raises(MetafileError, match="duplicate model name 'twice'"):
        load_model_index(index)


def test_checkpoint_loader_scheme_downloads_then_safe_loads(file_server, cache, tmp_path,
                                                            monkeypatch):
    import io

    from mmengine.runner.checkpoint import CheckpointLoader

    from motionkit.hub import register_checkpoint_schemes
    from motionkit.utils import checkpoint as ckpt_mod
    register_checkpoint_schemes()
    buf = io.BytesIO()
    torch.save({'state_dict': {'w': torch.arange(4.)}}, buf)
    url, sha = file_server.add(f'/w/net-{hashlib.sha256(buf.getvalue()).hexdigest()[:8]}.pth',
                               buf.getvalue())
    seen = []
    real = ckpt_mod.safe_load
    monkeypatch.setattr(ckpt_mod, 'safe_load', lambda p, **kw: seen.append(p) or real(p, **kw))
    out = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    assert torch.equal(out['state_dict']['w'], torch.arange(4.))
    assert seen == [cache_path(url)]
    # an unpinned URL is refused through the loader: configs have no opt-in
    url2, _ = file_server.add('/w/net.pth', buf.getvalue())
    with pytest.raises(UnpinnedHashError):
        CheckpointLoader.load_checkpoint(url2)


class _Evil:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_pinned_malicious_pickle_still_refused(file_server, cache, tmp_path):
    import io

    from mmengine.runner.checkpoint import CheckpointLoader

    from motionkit.hub import register_checkpoint_schemes
    register_checkpoint_schemes()
    marker = tmp_path / 'pwned'
    buf = io.BytesIO()
    torch.save({'state_dict': {}, 'meta': _Evil(marker)}, buf)
    url, sha = file_server.add(f'/w/evil-{hashlib.sha256(buf.getvalue()).hexdigest()[:8]}.pth',
                               buf.getvalue())
    with pytest.raises(RuntimeError, match='weights_only=True'):
        CheckpointLoader.load_checkpoint(url)
    assert not marker.exists()


@pytest.mark.parametrize('kind', ['classic', 'getattr_chain', 'history_buffer'])
def test_http_load_from_goes_through_the_safe_loader(file_server, cache, tmp_path, kind):
    """An http(s) checkpoint reaches the safe loader from every entry point, also one that only ran
    install_safe_checkpoint_loader() (a metric's owned network): pinned hash first, then
    weights_only with motionkit's inert stand-ins."""
    import io

    from motionkit.utils.checkpoint import install_safe_checkpoint_loader
    from motionkit.utils.owned_model import build_owned_model
    from tests.test_utils.test_checkpoint_security import PAYLOADS
    install_safe_checkpoint_loader()
    marker = tmp_path / 'pwned'
    buf = io.BytesIO()
    torch.save(PAYLOADS[kind](marker), buf)
    url, _ = file_server.add(f'/w/evil-{hashlib.sha256(buf.getvalue()).hexdigest()[:8]}.pth', buf.getvalue())
    with pytest.raises(RuntimeError, match='weights_only=True'):
        build_owned_model(torch.nn.Linear(2, 2), url, 'TestMetric')
    assert not marker.exists()
    unpinned, _ = file_server.add('/w/plain.pth', buf.getvalue())
    with pytest.raises(UnpinnedHashError):
        build_owned_model(torch.nn.Linear(2, 2), unpinned, 'TestMetric')


def test_google_drive_link_explains_the_manual_route(cache, file_server):
    url = 'https://drive.google.com/file/d/1PE0PK8e5a5j-7-Xhs5YET5U5pGh0c821/view'
    with pytest.raises(DownloadError, match='gdown') as err:
        download(url, filename='humanml_trans_enc_512.zip', allow_unpinned=True, progress=False)
    target = cache_path(url, filename='humanml_trans_enc_512.zip')
    assert target in str(err.value)
    # a file put there by hand is then used (verified against the pinned hash when there is one)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, 'wb') as f:
        f.write(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert download(url, filename='humanml_trans_enc_512.zip', sha256=sha) == target


def test_html_page_is_not_taken_for_a_checkpoint(file_server, cache):
    url, sha = file_server.add('/w/page.pth', b'<html>consent</html>')
    file_server.content_type['/w/page.pth'] = 'text/html; charset=utf-8'
    with pytest.raises(DownloadError, match='HTML page'):
        download(url, sha256=sha, progress=False)
