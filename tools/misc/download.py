"""Download a checkpoint by model name or URL (like ``mim download``) and print its local path.

    python tools/misc/download.py --list
    python tools/misc/download.py mdm_trans-enc-512_official_humanml3d [--dest DIR]
    python tools/misc/download.py https://host/model-1a2b3c4d.pth
    python tools/misc/download.py hf://OpenMotionLab/MotionGPT-base/motiongpt_s3_h3d.tar --allow-unpinned

Names are the ``Name`` fields of the metafiles in ``model-index.yml`` (``motionkit://`` optional).
Files land in ``$MOTIONKIT_CACHE/checkpoints`` unless ``--dest`` is given; docs/model_zoo.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from motionkit.hub import DownloadError, download, load_model_index  # noqa: E402
from motionkit.hub.metafiles import DEFAULT_INDEX  # noqa: E402


def list_models(index_file: str) -> str:
    rows = [('model', 'collection', 'weights', 'sha256')]
    for m in load_model_index(index_file)['Models']:
        if m.get('Weights'):
            weights = m['Weights']
            sha = m['Sha256'][:12] + '...' if m.get('Sha256') else 'not published'
        else:
            weights, sha = 'local build (no file published)', '-'
        rows.append((m['Name'], m.get('In Collection') or '-', weights, sha))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r[:3], widths)) + '  ' + r[3]
                     for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Download a motionkit checkpoint by name or URL')
    parser.add_argument('name', nargs='?', help='model name (motionkit://NAME) or URL '
                        '(https://, hf://, file://)')
    parser.add_argument('--list', action='store_true', help='list the model names and exit')
    parser.add_argument('--dest', help='directory to save into (default: the cache)')
    parser.add_argument('--sha256', help='expected sha256 (full or >= 8 hex digits)')
    parser.add_argument('--allow-unpinned', action='store_true',
                        help='accept a file whose sha256 is not pinned; its hash is printed')
    parser.add_argument('--offline', action='store_true', help='never use the network')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--index', default=DEFAULT_INDEX, help='model-index.yml to resolve names in')
    args = parser.parse_args(argv)
    if args.list:
        print(list_models(args.index))
        return 0
    if not args.name:
        parser.error('give a model name or URL, or --list')
    try:
        path = download(args.name, dest=args.dest, sha256=args.sha256,
                        allow_unpinned=args.allow_unpinned, progress=not args.no_progress,
                        offline=True if args.offline else None, index_file=args.index)
    except (DownloadError, KeyError, ValueError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
