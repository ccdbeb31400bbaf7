"""ResumableBuild: records per item, resume after an interruption, config checks, manifest last."""
import json

import pytest

from motionkit.utils.resumable_build import ResumableBuild


def test_build_resumes_and_refuses_another_config(tmp_path):
    out = tmp_path / 'build'
    calls = []

    def item(i):
        calls.append(i)
        if i == 3 and len(calls) == 4:
            raise KeyboardInterrupt  # the first run stops at item 3
        (out / f'{i}.txt').write_text(str(i))
        return dict(index=i, square=i * i)

    build = ResumableBuild(out, dict(n=5), 'toy build')
    assert not build.finished()
    build.start()
    with pytest.raises(KeyboardInterrupt):
        build.items('items', 5, item, progress=False)
    assert not (out / 'manifest.json').exists()
    # another config may not reuse the unfinished folder
    with pytest.raises(FileExistsError, match='unfinished toy build'):
        ResumableBuild(out, dict(n=6), 'toy build').start()
    again = ResumableBuild(out, dict(n=5), 'toy build')
    again.start()
    records = again.items('items', 5, item, progress=False)
    assert calls == [0, 1, 2, 3, 3, 4]  # items 0-2 were not built twice
    assert records == [dict(index=i, square=i * i) for i in range(5)]
    again.finish(dict(name='toy', counts=5))
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest == dict(name='toy', counts=5, config=dict(n=5))
    assert not (out / '.partial').exists()
    assert ResumableBuild(out, dict(n=5), 'toy build').finished()
    with pytest.raises(FileExistsError, match='finished toy build with another config'):
        ResumableBuild(out, dict(n=4), 'toy build').finished()
