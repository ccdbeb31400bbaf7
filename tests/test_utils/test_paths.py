"""One resolver of the cache folder and one sha256 helper for every component."""
import hashlib
from pathlib import Path

from motionkit.synthmotion.build import default_cache_dir
from motionkit.feedback.openai_client import default_feedback_cache_dir
from motionkit.hub.convert_gguf import default_models_dir
from motionkit.utils.io import file_sha256
from motionkit.utils.paths import cache_dir


def test_cache_dir_follows_motionkit_cache(monkeypatch, tmp_path):
    monkeypatch.setenv('MOTIONKIT_CACHE', str(tmp_path))
    assert cache_dir('a', 'b') == tmp_path / 'a' / 'b'
    assert default_cache_dir() == tmp_path / 'synthmotion'
    assert default_feedback_cache_dir() == tmp_path / 'feedback'
    assert default_models_dir() == tmp_path / 'models'
    monkeypatch.setenv('MOTIONKIT_CACHE', '')
    assert cache_dir('x') == Path.home() / '.cache' / 'motionkit' / 'x'
    assert not (tmp_path / 'a').exists()  # resolving creates nothing


def test_file_sha256_by_hand(tmp_path):
    path = tmp_path / 'f.bin'
    data = bytes(range(256)) * 5000  # several read chunks
    path.write_bytes(data)
    assert file_sha256(path, chunk_size=4096) == hashlib.sha256(data).hexdigest()
