"""Convert raw NTU RGB+D ``.skeleton`` files into one ``.npz`` per file (joints, label, metadata).

Example::

    python tools/data/import_ntu.py ../shared/data/ntu_skeleton_samples --out data/ntu_npz
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from motionkit.datasets.importers import read_ntu_skeleton  # noqa: E402
from motionkit.datasets.importers.humanml3d_writer import atomic_write_bytes  # noqa: E402


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='folder with .skeleton files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--max-bodies', type=int, default=2, help='bodies kept per file (default 2)')
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(Path(args.src).glob('*.skeleton'))
    if not files:
        parser.error(f'no .skeleton file in {args.src}')
    from tqdm import tqdm
    records = []
    for f in tqdm(files, desc='import NTU', unit='file'):
        target = out / f'{f.stem}.npz'
        d = read_ntu_skeleton(f, max_bodies=args.max_bodies)
        if not target.exists():
            import io
            buf = io.BytesIO()
            np.savez(buf, joints=d['joints'], body_present=d['body_present'],
                     tracking_state=d['tracking_state'], label=np.int64(-1 if d['label'] is None else d['label']))
            atomic_write_bytes(target, buf.getvalue())
        records.append(dict(id=f.stem, source=str(f), frames=d['num_frames'], bodies=len(d['body_ids']),
                            label=d['label'], setup=d['setup'], camera=d['camera'], performer=d['performer'],
                            replication=d['replication']))
    atomic_write_bytes(out / 'manifest.jsonl', ''.join(json.dumps(r) + '\n' for r in records).encode('utf-8'))
    print(f'{len(records)} files -> {out}')
    return records


if __name__ == '__main__':
    main()
