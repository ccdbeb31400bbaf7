"""Run the whole CigTime pipeline on SynthMotion and print the Table-1-style comparison.

    python projects/cigtime/run_pipeline.py [--work-dir work_dirs/cigtime_tiny] [--num-motions 1200]

Every stage is an ordinary motionkit command (printed before it runs, so each can be re-run by
hand; see projects/cigtime/README.md):

1. ``triplets``   tools/data/build_cigtime_triplets.py: (source, instruction, target) triplets from
                  SynthMotion programs edited by SynthMotion's exact edit operators;
2. ``tokenizer``  tools/train.py: the tiny motion VQ-VAE on the triplets' motions;
   ``editor_upper``, ``editor_lower`` tools/train.py: the tiny instruction-conditioned MDM
                  editors that also read the source (SourceConditionedMDM), one per body part
                  (used together through BodyPartEditorRouter);
3. ``cigtime``    tools/train.py: the tiny language model fine-tuned on the triplets (CigTime,
                  motion tokens written as decimal ids, Fig. 2);
   ``cigtime_steps`` tools/train.py: the same LM reading the pair step by step (source, target
                  and difference features per 4-frame step; needs no tokenizer);
   ``caption``    tools/train.py: the caption-of-target baseline;
   (two training stages at a time, each as soon as the checkpoints it needs exist)
4. ``evaluate``   tools/test.py for every method: instruction quality (CigTime's BLEU-4, ROUGE,
                  METEOR, text-embedding cosine) and reconstruction MPJPE through the exact editor
                  and the tiny MDM;
5. the table, printed and written to ``<work-dir>/results.md`` / ``results.json``.

A stage whose outputs exist is skipped, so an interrupted run resumes where it stopped. Two
training stages run side by side with one thread each (faster than one at a time with two
threads on a 2-core machine).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(REPO))
CONFIGS = REPO / 'projects' / 'cigtime' / 'configs'

# method name -> (config, checkpoint stage or None for training-free, label)
METHODS = {
    'nn_retrieval': ('nn-retrieval_1xb32_synthmotion.py', None, 'Nearest-neighbour retrieval'),
    'caption_of_target': ('caption-of-target_tiny_1xb32-1k_synthmotion.py', 'caption',
                          'Caption of target (M2T)'),
    'cigtime': ('cigtime_tiny_1xb32-1k_synthmotion.py', 'cigtime',
                'CigTime (tiny LM, full FT; motion tokens as text, Fig. 2)'),
    'cigtime_steps': ('cigtime-pair-features_tiny_1xb32-1k_synthmotion.py', 'cigtime_steps',
                      'CigTime (tiny LM, full FT; source/target feature steps)'),
}
TRAIN_STAGES = {
    'tokenizer': 'vqvae_tiny_1xb32-2k_cigtime-synthmotion.py',
    'editor_upper': 'mdm-source-editor-upper_tiny_1xb32-1k_synthmotion.py',
    'editor_lower': 'mdm-source-editor-lower_tiny_1xb32-2k_synthmotion.py',
    'cigtime': 'cigtime_tiny_1xb32-1k_synthmotion.py',
    'caption': 'caption-of-target_tiny_1xb32-1k_synthmotion.py',
    'cigtime_steps': 'cigtime-pair-features_tiny_1xb32-1k_synthmotion.py',
}
# training stage -> the stages whose checkpoints it needs
DEPENDS = {'tokenizer': (), 'editor_upper': (), 'editor_lower': (), 'cigtime': ('tokenizer', ),
           'caption': ('tokenizer', ), 'cigtime_steps': ()}
# the order stages start in when a slot frees: the tokenizer first (two LMs wait for it); of the
# orders the dependencies allow, this one gave the shortest replay (stage_wall) of the measured
# stage times (run 6: 1,098 s against 1,171 s for tokenizer, editor_lower, cigtime, ...)
TRAIN_ORDER = ['tokenizer', 'editor_upper', 'cigtime_steps', 'cigtime', 'editor_lower', 'caption']
EVAL_ORDER = ['cigtime', 'nn_retrieval', 'cigtime_steps', 'caption_of_target']
COLUMNS = [  # (metrics key, header, format)
    ('caption/bleu_4', 'BLEU-4', '{:.3f}'),
    ('caption/rouge_1', 'ROUGE', '{:.3f}'),
    ('caption/meteor', 'METEOR', '{:.3f}'),
    ('caption/text_sim', 'Text sim.', '{:.3f}'),
    ('recon_exact/mpjpe', 'MPJPE exact (mm)', '{:.1f}'),
    ('recon_mdm/mpjpe', 'MPJPE MDM (mm)', '{:.1f}'),
]


def _log(msg: str) -> None:
    print(f'[cigtime {time.strftime("%H:%M:%S")}] {msg}', flush=True)


class Pipeline:

    def __init__(self, work_dir: str, num_motions: int, per_source: int, seed: int,
                 iters: Optional[Dict[str, int]] = None, threads: int = 1, parallel: bool = True):
        self.work = Path(work_dir).resolve()
        self.num_motions = num_motions
        self.per_source = per_source
        self.seed = seed
        self.iters = iters or {}
        self.threads = threads
        self.parallel = parallel
        self.logs = self.work / 'logs'
        self.logs.mkdir(parents=True, exist_ok=True)
        self.timings: Dict[str, float] = {}

    # ------------------------------------------------------------------ helpers
    def env(self) -> dict:
        env = dict(os.environ)
        env['CIGTIME_WORK_DIR'] = str(self.work)
        if getattr(self, 'nltk_data', None):
            env['NLTK_DATA'] = os.pathsep.join([str(self.nltk_data)] + [p for p in [env.get('NLTK_DATA')] if p])
        env.setdefault('OMP_NUM_THREADS', str(self.threads))
        env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
        return env

    def _start(self, name: str, cmd: List[str]) -> subprocess.Popen:
        _log(f'{name}: ' + ' '.join(cmd))
        log = open(self.logs / f'{name}.log', 'w')
        proc = subprocess.Popen(cmd, cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        proc._mk_log = log  # type: ignore[attr-defined]
        proc._mk_name = name  # type: ignore[attr-defined]
        proc._mk_t0 = time.time()  # type: ignore[attr-defined]
        return proc

    def _wait(self, procs: List[subprocess.Popen]) -> None:
        failed = []
        for proc in procs:
            rc = proc.wait()
            proc._mk_log.close()  # type: ignore[attr-defined]
            name = proc._mk_name  # type: ignore[attr-defined]
            self.timings[name] = time.time() - proc._mk_t0  # type: ignore[attr-defined]
            if rc != 0:
                failed.append(name)
            else:
                _log(f'{name}: done in {self.timings[name]:.0f} s')
        if failed:
            tails = []
            for name in failed:
                lines = (self.logs / f'{name}.log').read_text(errors='replace').splitlines()
                tails.append(f'--- {name} (last lines of {self.logs / (name + ".log")}) ---\n'
                             + '\n'.join(lines[-25:]))
            raise SystemExit('CigTime pipeline: stage(s) failed: ' + ', '.join(failed) + '\n' + '\n'.join(tails))

    def run_parallel(self, jobs: Dict[str, List[str]]) -> None:
        if not jobs:
            return
        if self.parallel:
            self._wait([self._start(n, c) for n, c in jobs.items()])
        else:
            for n, c in jobs.items():
                self._wait([self._start(n, c)])

    # ------------------------------------------------------------------ stages
    @property
    def triplets(self) -> Path:
        return self.work / 'triplets'

    def checkpoint(self, stage: str) -> Path:
        return self.work / stage / f'{stage}.pth'

    def stage_wordnet(self) -> None:
        """CigTime's METEOR is nltk's, which needs WordNet 3.0: lay it out from Debian's package
        (tools/misc/prepare_wordnet.py) before anything is trained, so a missing package fails fast."""
        from motionkit.utils.paths import cache_dir
        self.nltk_data = cache_dir('nltk_data')
        if (self.nltk_data / 'corpora' / 'wordnet' / 'lexnames').exists():
            return
        if not Path('/usr/share/wordnet').is_dir():
            raise SystemExit('CigTime pipeline: METEOR needs WordNet 3.0. Install it first: '
                             'apt-get install -y wordnet-base wordnet-sense-index')
        self.run_parallel({'wordnet': [sys.executable, 'tools/misc/prepare_wordnet.py', '--out',
                                       str(self.nltk_data)]})

    def stage_triplets(self) -> None:
        if (self.triplets / 'manifest.json').exists():
            _log(f'triplets: reusing {self.triplets}')
            return
        self.run_parallel({'triplets': [
            sys.executable, 'tools/data/build_cigtime_triplets.py', '--num-motions', str(self.num_motions),
            '--seed', str(self.seed), '--editor', 'synthmotion', '--per-source', str(self.per_source),
            '--out', str(self.triplets)]})

    def train_cmd(self, stage: str) -> List[str]:
        cmd = [sys.executable, 'tools/train.py', str(CONFIGS / TRAIN_STAGES[stage]),
               '--work-dir', str(self.work / stage)]
        if stage in self.iters:
            n = self.iters[stage]
            cmd += ['--cfg-options', f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n + 1}']
        return cmd

    def _finish_training(self, stage: str) -> None:
        """Copy the last checkpoint to ``<stage>/<stage>.pth`` (the name later configs read)."""
        last = self.work / stage / 'last_checkpoint'
        if not last.exists():
            raise SystemExit(f'CigTime pipeline: {stage} finished without a checkpoint ({last} missing)')
        src = Path(last.read_text().strip())
        tmp = self.checkpoint(stage).with_suffix('.pth.tmp')
        shutil.copyfile(src, tmp)
        os.replace(tmp, self.checkpoint(stage))

    def stage_train(self, stages: List[str]) -> None:
        """Train the stages, at most two at a time (one at a time with ``--sequential``), each as
        soon as the checkpoints it needs exist: the language models start when the tokenizer is
        done, while the editor may still be training."""
        todo = [s for s in stages if not self.checkpoint(s).exists()]
        for s in stages:
            if s not in todo:
                _log(f'{s}: reusing {self.checkpoint(s)}')
        slots = 2 if self.parallel else 1
        running: Dict[str, subprocess.Popen] = {}
        while todo or running:
            for s in list(todo):
                if len(running) >= slots:
                    break
                if all(self.checkpoint(d).exists() for d in DEPENDS[s]):
                    running[s] = self._start(s, self.train_cmd(s))
                    todo.remove(s)
            if not running:
                raise SystemExit(f'CigTime pipeline: cannot start {todo}: missing checkpoints of '
                                 f'{[d for s in todo for d in DEPENDS[s]]}')
            done = [s for s, p in running.items() if p.poll() is not None]
            for s in done:
                self._wait([running.pop(s)])
                self._finish_training(s)
            if not done:
                time.sleep(2)

    def stage_evaluate(self) -> Dict[str, dict]:
        results = {}
        jobs = {}
        for method, (config, ckpt_stage, _) in METHODS.items():
            out = self.work / 'eval' / f'{method}.json'
            results[method] = out
            if out.exists():
                _log(f'evaluate {method}: reusing {out}')
                continue
            ckpt = 'none' if ckpt_stage is None else str(self.checkpoint(ckpt_stage))
            cmd = [sys.executable, 'tools/test.py', str(CONFIGS / config), ckpt,
                   '--work-dir', str(self.work / 'eval' / method), '--metrics-out', str(out)]
            jobs[f'evaluate_{method}'] = cmd
        # evaluation is mostly single-threaded Python (metrics, editing): two at a time, the longest
        # (CigTime with the oracle rows) first
        names = [f'evaluate_{m}' for m in EVAL_ORDER if f'evaluate_{m}' in jobs]
        for k in range(0, len(names), 2):
            self.run_parallel({n: jobs[n] for n in names[k:k + 2]})
        return {m: json.loads(p.read_text()) for m, p in results.items()}

    # ------------------------------------------------------------------ table
    @staticmethod
    def table(metrics: Dict[str, dict]) -> str:
        rows = []
        ref = metrics['cigtime']
        rows.append(('Source unchanged ("do nothing")', {
            'recon_exact/mpjpe': ref.get('recon_exact/mpjpe_source'),
            'recon_mdm/mpjpe': ref.get('recon_mdm/mpjpe_source')}))
        for method, (_, _, label) in METHODS.items():
            rows.append((label, metrics[method]))
        if 'oracle_exact/mpjpe' in ref:
            rows.append(('Ground-truth instruction (editor ceiling)', {
                'recon_exact/mpjpe': ref.get('oracle_exact/mpjpe'),
                'recon_mdm/mpjpe': ref.get('oracle_mdm/mpjpe')}))
        head = '| Method | ' + ' | '.join(h for _, h, _ in COLUMNS) + ' |'
        sep = '|---|' + '---:|' * len(COLUMNS)
        lines = [head, sep]
        for label, m in rows:
            cells = []
            for key, _, fmt in COLUMNS:
                v = m.get(key)
                cells.append('-' if v is None else fmt.format(v))
            lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
        return '\n'.join(lines)

    @staticmethod
    def stage_wall(timings: Dict[str, float], slots: int = 2) -> float:
        """Wall time of a run made of these stage times (a resumed run's note): the sequential
        stages, plus the training stages replayed in ``TRAIN_ORDER`` through two slots (each starts
        when a slot is free and its dependencies are done; the live scheduler may start a later
        ready stage first, which gives the same result for the current stage graph) and the
        evaluation pairs."""
        total = sum(timings.get(k, 0.0) for k in ('wordnet', 'triplets'))
        # training: a stage starts in the first free slot once the stages it depends on are done
        done_at: Dict[str, float] = {}
        free = [0.0] * slots
        for s in TRAIN_ORDER:
            slot = min(range(slots), key=lambda i: free[i])
            start = max([free[slot]] + [done_at.get(d, 0.0) for d in DEPENDS[s]])
            done_at[s] = free[slot] = start + timings.get(s, 0.0)
        total += max(done_at.values())
        # evaluation: pairs in EVAL_ORDER, each pair as long as its longer member
        ev = [timings.get(f'evaluate_{m}', 0.0) for m in EVAL_ORDER]
        return total + sum(max(ev[k:k + slots]) for k in range(0, len(ev), slots))

    @staticmethod
    def check_configs() -> None:
        """Fail before any stage runs when a stage or method names a config that does not exist."""
        names = list(TRAIN_STAGES.values()) + [config for config, _, _ in METHODS.values()]
        missing = sorted({n for n in names if not (CONFIGS / n).is_file()})
        if missing:
            raise SystemExit(f'CigTime pipeline: missing configs in {CONFIGS}: {missing}')

    def run(self) -> str:
        t0 = time.time()
        self.check_configs()
        self.stage_wordnet()
        self.stage_triplets()
        self.stage_train(TRAIN_ORDER)
        metrics = self.stage_evaluate()
        table = self.table(metrics)
        # stage times accumulate across resumed runs (logs/timings.json), so the note reports what
        # the whole pipeline took, not just the last call
        tfile = self.logs / 'timings.json'
        timings = json.loads(tfile.read_text()) if tfile.exists() else {}
        timings.update(self.timings)
        from motionkit.utils.io import atomic_write_text
        atomic_write_text(tfile, json.dumps(timings, indent=1) + '\n')
        total = time.time() - t0
        if self.timings.keys() != timings.keys():
            total = self.stage_wall(timings)
        manifest = json.loads((self.triplets / 'manifest.json').read_text())
        counts = manifest.get('counts', {})
        note = (f'SynthMotion (synthetic), {counts.get("train", "?")} train / {counts.get("test", "?")} test '
                f'triplets; tiny models trained on the CPU; {total / 60:.1f} min wall.')
        atomic_write_text(self.work / 'results.md', table + '\n\n' + note + '\n')
        atomic_write_text(self.work / 'results.json', json.dumps(
            dict(metrics=metrics, timings_s=timings, total_s=total, counts=counts), indent=1) + '\n')
        print('\nCigTime on SynthMotion (Table 1 / Table 3 style; instruction quality vs the ground-truth '
              'instruction, reconstruction MPJPE vs the target)\n')
        print(table)
        print('\n' + note)
        return table


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--work-dir', default='work_dirs/cigtime_tiny')
    p.add_argument('--num-motions', type=int, default=1200, help='SynthMotion source motions (all splits)')
    p.add_argument('--per-source', type=int, default=2, help='triplets per source motion')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--iters', nargs='*', default=[], metavar='STAGE=N',
                   help='override training iterations, e.g. cigtime=500 tokenizer=200 (smoke runs)')
    p.add_argument('--threads', type=int, default=1, help='torch threads per stage process')
    p.add_argument('--sequential', action='store_true', help='run training stages one at a time')
    return p.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    iters = {}
    for item in args.iters:
        stage, _, n = item.partition('=')
        if stage not in TRAIN_STAGES or not n.isdigit():
            raise SystemExit(f'--iters: expected STAGE=N with STAGE in {sorted(TRAIN_STAGES)}, got {item!r}')
        iters[stage] = int(n)
    return Pipeline(args.work_dir, args.num_motions, args.per_source, args.seed, iters, args.threads,
                    not args.sequential).run()


if __name__ == '__main__':
    main()
