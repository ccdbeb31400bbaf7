"""Download a checkpoint by name or URL into a verified local file.

``download(name_or_url)`` returns the path of a local file whose sha256 matches the pinned hash:

- ``https://`` / ``http://``: fetched into ``$MOTIONKIT_CACHE/checkpoints`` (default
  ``~/.cache/motionkit/checkpoints``), into a ``.part`` file that a later call resumes with an HTTP
  ``Range`` request, under a lock file (two processes never write the same file), verified, then
  renamed into place atomically.
- ``file://<path>``: a local file, verified where it is.
- ``hf://<owner>/<repo>[@<revision>]/<path in repo>``: through ``huggingface_hub`` (its own cache,
  lock and resume), then verified.
- ``motionkit://<model name>`` (or a bare model name): the ``Weights`` URL and ``Sha256`` of that
  model in the metafiles (``model-index.yml``).

A hash is *pinned* by the ``sha256`` argument, by the model's metafile entry, or by the OpenMMLab
file-name convention ``name-<sha256 prefix>.pth`` (at least 8 hex digits). A file with no pinned
hash is refused unless ``allow_unpinned=True`` (``--allow-unpinned`` on the tools); the hash found
is then printed so that it can be pinned.

Offline (``offline=True``, ``MOTIONKIT_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``, or the server cannot be
reached) a cached, verified file is used; otherwise :class:`OfflineError` names the URL, the expected
hash and the path to put the file at by hand.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import os.path as osp
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

from motionkit.utils.io import file_sha256
from motionkit.utils.paths import cache_dir

from .metafiles import find_model

SCHEMES = ('http://', 'https://', 'file://', 'hf://', 'motionkit://')
_HASH_IN_NAME = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9.]+$')
_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A checkpoint could not be fetched (HTTP error, connection dropped too often, ...)."""


class OfflineError(DownloadError):
    """The file is not cached and the network is off or the server cannot be reached."""


class UnpinnedHashError(DownloadError):
    """No sha256 is pinned for this file and ``allow_unpinned`` was not given."""


class ChecksumError(ValueError):
    """The file's sha256 is not the pinned one."""


def default_cache_dir() -> str:
    """``$MOTIONKIT_CACHE/checkpoints`` or ``~/.cache/motionkit/checkpoints``."""
    return str(cache_dir('checkpoints'))


def is_remote(name_or_url: str) -> bool:
    """True for a string this module resolves (a URL with one of :data:`SCHEMES`)."""
    return isinstance(name_or_url, str) and name_or_url.startswith(SCHEMES)


def _offline_requested(offline: Optional[bool]) -> bool:
    if offline is not None:
        return offline
    return any(os.environ.get(k, '').lower() in ('1', 'true', 'yes', 'on')
               for k in ('MOTIONKIT_OFFLINE', 'HF_HUB_OFFLINE'))


def url_filename(url: str) -> str:
    """The file name a URL is saved under (the last path component, query dropped)."""
    name = osp.basename(urllib.parse.urlparse(url).path)
    if not name:
        raise ValueError(f'{url}: cannot tell a file name from this URL; pass filename=')
    return name


def pinned_hash(url_or_name: str, sha256: Optional[str] = None) -> Optional[str]:
    """The pinned sha256 (lower-case hex, possibly an 8+ digit prefix) or None."""
    if sha256:
        expected = sha256.strip().lower()
        if len(expected) < 8 or not re.fullmatch(r'[0-9a-f]+', expected):
            raise ValueError(f'sha256 for {url_or_name} must be >= 8 hex digits, got {sha256!r}')
        return expected
    match = _HASH_IN_NAME.search(url_or_name.split('?')[0])
    return match.group(1) if match else None


def cache_path(url: str, cache_dir: Optional[str] = None, filename: Optional[str] = None) -> str:
    """Where ``url`` is cached: ``<cache_dir>/<first 12 hex of sha256(url)>/<file name>``.

    The URL digest keeps two files with the same name (``net_last.pth`` of two models) apart.
    """
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return osp.join(cache_dir or default_cache_dir(), digest, filename or url_filename(url))


def _check(path: str, expected: Optional[str], source: str) -> str:
    found = file_sha256(path)
    if expected is not None and not found.startswith(expected):
        raise ChecksumError(f'sha256 mismatch for {source} (file {path}): expected {expected}, '
                            f'found {found}. The file is corrupt or not the published one.')
    return found


def _say(message: str) -> None:
    # stderr, not a logger: the hash must reach the user even before any runner logger exists
    print(f'motionkit.hub: {message}', file=sys.stderr, flush=True)


def _report_unpinned(source: str, found: str) -> None:
    _say(f'{source}: no sha256 is pinned for this file; it was used because unpinned files '
              f'were allowed. Its sha256 is {found} -- pin it (metafile "Sha256:", sha256=..., or '
              'a "-<sha256 prefix>" file name) before sharing the command.')


def _refuse_unpinned(source: str, path_hint: str) -> UnpinnedHashError:
    return UnpinnedHashError(
        f'{source}: no sha256 is pinned for this file (no metafile Sha256, no sha256 argument, no '
        f'"-<sha256 prefix>" in the file name), so motionkit will not use it. If you trust the '
        f'source, pass --allow-unpinned (download(..., allow_unpinned=True)); its hash will be '
        f'printed so you can pin it. Target: {path_hint}')


def download(name_or_url: str,
             dest: Optional[str] = None,
             sha256: Optional[str] = None,
             allow_unpinned: bool = False,
             progress: bool = True,
             offline: Optional[bool] = None,
             retries: int = 3,
             timeout: float = 30.0,
             filename: Optional[str] = None,
             index_file: Optional[str] = None) -> str:
    """Fetch ``name_or_url`` and return the path of a local, hash-verified file.

    Args:
        name_or_url: ``https://...``, ``http://...``, ``file://...``, ``hf://owner/repo/file``,
            ``motionkit://<model name>`` or a bare model name from the metafiles.
        dest: directory to save into (default :func:`default_cache_dir`, one sub-folder per URL).
        sha256: the expected hash (full hex or a prefix of >= 8 digits); overrides the metafile's.
        allow_unpinned: use a file with no pinned hash (its hash is printed).
        progress: show a tqdm progress bar.
        offline: never touch the network (default: ``MOTIONKIT_OFFLINE`` / ``HF_HUB_OFFLINE``).
        retries: how many times a dropped transfer is resumed before giving up.
        timeout: socket timeout in seconds.
        filename: name to save under (default: the URL's last path component).
        index_file: the model index to resolve names in (default: the repository's
            ``model-index.yml``).
    """
    if not isinstance(name_or_url, str) or not name_or_url:
        raise ValueError(f'download() needs a model name or URL, got {name_or_url!r}')
    if name_or_url.startswith('motionkit://') or '://' not in name_or_url:
        name = name_or_url[len('motionkit://'):] if name_or_url.startswith('motionkit://') \
            else name_or_url
        entry = find_model(name, index_file)
        url = entry.get('Weights')
        if not url:
            raise DownloadError(
                f'model {name!r} ({entry["_metafile"]}) has no published weights URL: '
                f'{entry.get("Weights Note") or "it is built locally"}')
        if url.startswith('motionkit://') or '://' not in url:
            raise DownloadError(f'{entry["_metafile"]}: Weights of {name!r} must be a URL, got {url!r}')
        return download(url, dest=dest, sha256=sha256 or entry.get('Sha256'),
                        allow_unpinned=allow_unpinned, progress=progress, offline=offline,
                        retries=retries, timeout=timeout,
                        filename=filename or entry.get('Weights Filename'))
    if name_or_url.startswith('file://'):
        return _local(name_or_url, dest, sha256, allow_unpinned)
    if name_or_url.startswith('hf://'):
        return _huggingface(name_or_url, dest, sha256, allow_unpinned, offline)
    if name_or_url.startswith(('http://', 'https://')):
        return _http(name_or_url, dest, sha256, allow_unpinned, progress, offline, retries, timeout,
                     filename)
    raise ValueError(f'{name_or_url}: unknown scheme; expected one of {", ".join(SCHEMES)} or a '
                     'model name')


def _local(url: str, dest, sha256, allow_unpinned) -> str:
    path = urllib.parse.unquote(urllib.parse.urlparse(url).path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{url}: no such file {path}')
    expected = pinned_hash(path, sha256)
    if expected is None and not allow_unpinned:
        raise _refuse_unpinned(url, path)
    found = _check(path, expected, url)
    if expected is None:
        _report_unpinned(url, found)
    if dest is None:
        return path
    target = osp.join(dest, osp.basename(path))
    os.makedirs(dest, exist_ok=True)
    tmp = f'{target}.tmp{os.getpid()}'
    shutil.copyfile(path, tmp)
    os.replace(tmp, target)
    return target


def _huggingface(url: str, dest, sha256, allow_unpinned, offline) -> str:
    rest = url[len('hf://'):]
    parts = rest.split('/')
    if len(parts) < 3 or not all(parts):
        raise ValueError(f'{url}: expected hf://<owner>/<repo>[@<revision>]/<path in repo>')
    repo, revision = parts[1], None
    if '@' in repo:
        repo, revision = repo.split('@', 1)
    repo_id, file_in_repo = f'{parts[0]}/{repo}', '/'.join(parts[2:])
    expected = pinned_hash(file_in_repo, sha256)
    if expected is None and not allow_unpinned:
        raise _refuse_unpinned(url, f'{repo_id}/{file_in_repo}')
    try:
        import huggingface_hub
    except ImportError as err:  # pragma: no cover - installed with transformers
        raise ImportError('hf:// URLs need huggingface_hub: pip install huggingface_hub') from err
    cache = osp.join(dest or default_cache_dir(), 'huggingface')
    try:
        path = huggingface_hub.hf_hub_download(
            repo_id=repo_id, filename=file_in_repo, revision=revision, cache_dir=cache,
            local_files_only=_offline_requested(offline))
    except huggingface_hub.errors.LocalEntryNotFoundError as err:
        raise OfflineError(
            f'{url} is not in the cache {cache} and Hugging Face cannot be reached or offline mode '
            f'is on ({err}). Expected sha256: {expected or "not pinned"}. Fetch it by hand with '
            f'`hf download {repo_id} {file_in_repo} --cache-dir {cache}` on a machine with network '
            'access and copy that folder here.') from err
    except Exception as err:
        raise DownloadError(f'{url}: {type(err).__name__}: {err}') from err
    found = _check(path, expected, url)
    if expected is None:
        _report_unpinned(url, found)
    return path


def _http(url, dest, sha256, allow_unpinned, progress, offline, retries, timeout, filename) -> str:
    from filelock import FileLock

    target = cache_path(url, dest, filename)
    expected = pinned_hash(filename or url_filename(url), sha256)
    if expected is None and not allow_unpinned:
        raise _refuse_unpinned(url, target)
    os.makedirs(osp.dirname(target), exist_ok=True)
    with FileLock(target + '.lock'):
        if osp.isfile(target):
            try:
                found = _check(target, expected, url)
            except ChecksumError:
                # a file put there by hand or by an older version: never use it; fetch again
                _say(f'{target}: cached file does not match sha256 {expected}; downloading it '
                     'again')
                os.replace(target, target + '.corrupt')
            else:
                if expected is None:
                    _report_unpinned(url, found)
                return target
        if _offline_requested(offline):
            raise _offline_error(url, expected, target, 'offline mode is on')
        if urllib.parse.urlparse(url).netloc.endswith('drive.google.com'):
            # Drive answers a plain GET of a large file with an HTML "virus scan" page
            raise DownloadError(
                f'{url} is a Google Drive link, which serves an HTML page rather than the file to '
                f'plain HTTP clients. Fetch it by hand (`pip install gdown; gdown --fuzzy "{url}"`) '
                f'and save it as {target}; it is then used from there (expected sha256: '
                f'{expected or "not pinned"}).')
        part = target + '.part'
        _fetch_with_retries(url, part, progress, retries, timeout, expected, target)
        try:
            found = _check(part, expected, url)
        except ChecksumError:
            os.remove(part)  # never resume from bytes that hash wrong
            raise
        os.replace(part, target)
    if expected is None:
        _report_unpinned(url, found)
    return target


def _offline_error(url, expected, target, why) -> OfflineError:
    return OfflineError(
        f'cannot download {url} ({why}). Expected sha256: {expected or "not pinned"}. '
        f'Download it by hand on a machine with network access and save it as {target} '
        '(it is verified before use).')


class _Incomplete(Exception):
    pass


def _fetch_with_retries(url, part, progress, retries, timeout, expected, target) -> None:
    last_err: Optional[BaseException] = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(0.2 * 2 ** attempt, 5.0))
        try:
            _fetch(url, part, progress, timeout)
            return
        except urllib.error.HTTPError as err:
            if err.code == 416 and osp.exists(part):  # the .part is not a prefix of this file
                os.remove(part)
                last_err = err
                continue
            if 500 <= err.code < 600:
                last_err = err
                continue
            raise DownloadError(f'{url}: HTTP {err.code} {err.reason}') from err
        except urllib.error.URLError as err:
            last_err = err
            if not osp.exists(part) or osp.getsize(part) == 0:
                # never connected: retrying a refused connection a few times is cheap
                continue
        except (OSError, http.client.HTTPException, _Incomplete) as err:
            last_err = err
    have = osp.getsize(part) if osp.exists(part) else 0
    if isinstance(last_err, urllib.error.URLError) and have == 0:
        raise _offline_error(url, expected, target, f'server unreachable: {last_err.reason}') \
            from last_err
    raise DownloadError(f'{url}: transfer failed after {retries + 1} attempts ({last_err}); '
                        f'{have} bytes are kept in {part} and the next call resumes from there')


def _fetch(url: str, part: str, progress: bool, timeout: float) -> None:
    from tqdm import tqdm

    start = osp.getsize(part) if osp.exists(part) else 0
    headers = {'User-Agent': 'motionkit-hub'}
    if start:
        headers['Range'] = f'bytes={start}-'
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        if resp.headers.get_content_type() == 'text/html':
            raise DownloadError(f'{url} answered with an HTML page, not a file (a login, consent '
                                'or "virus scan" page?); fetch it by hand in a browser')
        length = resp.headers.get('Content-Length')
        if start and resp.status == 206:
            mode, total = 'ab', (start + int(length) if length is not None else None)
        else:  # the server ignored the Range header: start over
            mode, start, total = 'wb', 0, (int(length) if length is not None else None)
        with open(part, mode) as f, tqdm(total=total, initial=start, unit='B', unit_scale=True,
                                         unit_divisor=1024, desc=osp.basename(part)[:-5],
                                         disable=not progress, leave=False) as bar:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                bar.update(len(chunk))
    have = osp.getsize(part)
    if total is not None and have != total:
        raise _Incomplete(f'connection closed after {have} of {total} bytes')
