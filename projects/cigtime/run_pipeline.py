"""Run the whole CigTime pipeline on SynthMotion and print the Table-1-style comparison.

    python projects/cigtime/run_pipeline.py [--work-dir work_dirs/cigtime_tiny] [--num-motions 1200]
    python projects/cigtime/run_pipeline.py --seeds 0 1 2     # mean and spread over training seeds
    python projects/cigtime/run_pipeline.py --preset ci       # the test-sized run CI checks

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
   ``caption_steps`` tools/train.py: the caption baseline reading the target's feature steps
                  (the best variant's motion input);
4. ``evaluate``   tools/test.py for every method on the validation and the test split:
                  instruction quality (CigTime's BLEU-4, ROUGE, METEOR, text-embedding cosine, after
                  the "Upper body:" opening), whether it names the right SynthMotion edit and body
                  part, how many outputs are verbatim training instructions, and reconstruction MPJPE
                  through the exact editor and the tiny MDM (told the part the instruction names);
                  and the control rows on the test split (the reference instruction, shuffled,
                  truncated, another triplet's, nonsense; first seed);
5. the tables (projects/cigtime/results_table.py), printed and written to
   ``<work-dir>/results.md`` / ``results.json``.

With several ``--seeds`` every method's training stages run once per seed (``randomness.seed``) on
the same triplets, under ``<work-dir>/seed_<S>/``, and the tables give mean and spread over the
seeds. The MDM editors (the evaluation's instrument) are trained with the first seed and shared.

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
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(REPO))
CONFIGS = REPO / 'projects' / 'cigtime' / 'configs'

from results_table import CONTROL_LABELS, report  # noqa: E402  (projects/cigtime, beside this file)

# method name -> (config, checkpoint stage or None for training-free); labels in results_table.py
METHODS = {
    'nn_retrieval': ('nn-retrieval_1xb32_synthmotion.py', None),
    'nn_retrieval_steps': ('nn-retrieval-steps-k1_1xb32_synthmotion.py', None),
    'caption_of_target': ('caption-of-target_tiny_1xb32-1k_synthmotion.py', 'caption'),
    'caption_of_target_steps': ('caption-of-target-steps_tiny_1xb32-1k_synthmotion.py', 'caption_steps'),
    'cigtime': ('cigtime_tiny_1xb32-1k_synthmotion.py', 'cigtime'),
    'cigtime_steps': ('cigtime-pair-features_tiny_1xb32-1k_synthmotion.py', 'cigtime_steps'),
}
# the control rows: the reference instruction, damaged (ReferenceInstructionControl)
CONTROL_CONFIG = 'control-reference-instruction_synthmotion.py'
CONTROLS = tuple(CONTROL_LABELS)
SPLITS = ('val', 'test')
# --preset ci: a test-sized run (a few minutes on 2 cores) whose table CI checks against
# projects/cigtime/ci_reference.json (tests/test_projects/test_cigtime_pipeline_ci.py)
PRESETS = {
    'ci': dict(num_motions=120, per_source=2, seeds=[0],
               iters=dict(tokenizer=60, editor_upper=20, editor_lower=20, cigtime=60, caption=30,
                          cigtime_steps=60, caption_steps=30)),
}
TRAIN_STAGES = {
    'tokenizer': 'vqvae_tiny_1xb32-2k_cigtime-synthmotion.py',
    'editor_upper': 'mdm-source-editor-upper_tiny_1xb32-1k_synthmotion.py',
    'editor_lower': 'mdm-source-editor-lower_tiny_1xb32-2k_synthmotion.py',
    'cigtime': 'cigtime_tiny_1xb32-1k_synthmotion.py',
    'caption': 'caption-of-target_tiny_1xb32-1k_synthmotion.py',
    'cigtime_steps': 'cigtime-pair-features_tiny_1xb32-1k_synthmotion.py',
    'caption_steps': 'caption-of-target-steps_tiny_1xb32-1k_synthmotion.py',
}
# training stage -> the stages whose checkpoints it needs
DEPENDS = {'tokenizer': (), 'editor_upper': (), 'editor_lower': (), 'cigtime': ('tokenizer', ),
           'caption': ('tokenizer', ), 'cigtime_steps': (), 'caption_steps': ()}
# stages trained once (first seed) and shared by the other seeds: the editors of the MDM column
SHARED_STAGES = ('editor_upper', 'editor_lower')
# the order stages start in when a slot frees: the tokenizer first (two LMs wait for it); of the
# orders the dependencies allow, this one gave the shortest replay (stage_wall) of the measured
# stage times (run 6: 1,098 s against 1,171 s for tokenizer, editor_lower, cigtime, ...)
TRAIN_ORDER = ['tokenizer', 'editor_upper', 'cigtime_steps', 'cigtime', 'editor_lower', 'caption', 'caption_steps']
EVAL_ORDER = ['cigtime', 'nn_retrieval', 'nn_retrieval_steps', 'cigtime_steps', 'caption_of_target',
              'caption_of_target_steps']


def _log(msg: str) -> None:
    print(f'[cigtime {time.strftime("%H:%M:%S")}] {msg}', flush=True)


class Pipeline:

    def __init__(self, work_dir: str, num_motions: int, per_source: int, seed: int,
                 iters: Optional[Dict[str, int]] = None, threads: int = 1, parallel: bool = True,
                 seeds: Sequence[int] = (0, ), command: str = '') -> None:
        self.work = Path(work_dir).resolve()
        self.num_motions = num_motions
        self.per_source = per_source
        self.seed = seed
        self.seeds = [int(s) for s in seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise SystemExit(f'CigTime pipeline: --seeds must be distinct integers, got {list(seeds)}')
        self.iters = iters or {}
        self.threads = threads
        self.parallel = parallel
        self.command = command
        self.logs = self.work / 'logs'
        self.logs.mkdir(parents=True, exist_ok=True)
        self.timings: Dict[str, float] = {}
        self.train_seed = self.seeds[0]

    # ------------------------------------------------------------------ helpers
    def seed_dir(self, train_seed: int) -> Path:
        """Where one training seed's stages live: the work dir itself for a single seed (the
        layout the configs' ``$CIGTIME_WORK_DIR`` default and the README's commands use), else
        ``seed_<S>/`` with a link to the shared triplets."""
        if len(self.seeds) == 1:
            return self.work
        d = self.work / f'seed_{train_seed}'
        d.mkdir(parents=True, exist_ok=True)
        links = {'triplets': Path('..') / 'triplets'}
        if train_seed != self.seeds[0]:
            # the MDM editors are the evaluation's instrument, not a method: trained once (first
            # seed) and shared, so the spread over seeds is the methods' own
            links.update({s: Path('..') / f'seed_{self.seeds[0]}' / s for s in SHARED_STAGES})
        for name, target in links.items():
            if not os.path.lexists(d / name):  # a link whose stage is not trained yet dangles
                (d / name).symlink_to(target, target_is_directory=True)
        return d

    def env(self) -> dict:
        env = dict(os.environ)
        env['CIGTIME_WORK_DIR'] = str(self.seed_dir(self.train_seed))
        if getattr(self, 'nltk_data', None):
            env['NLTK_DATA'] = os.pathsep.join([str(self.nltk_data)] + [p for p in [env.get('NLTK_DATA')] if p])
        # the thread count changes float reductions, and the VQ-VAE quantiser turns last-bit
        # differences into other tokens (docs/reproducibility.md): every stage gets --threads,
        # whatever the shell exported
        env['OMP_NUM_THREADS'] = str(self.threads)
        env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
        return env

    def _tag(self, name: str) -> str:
        return name if len(self.seeds) == 1 else f'{name}@seed{self.train_seed}'

    def _start(self, name: str, cmd: List[str]) -> subprocess.Popen:
        name = self._tag(name)
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
        return self.seed_dir(self.train_seed) / stage / f'{stage}.pth'

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
        """Build the triplets (the builder checks a finished folder against its config and refuses
        one built with other options, so a reused folder is the one this run asks for)."""
        manifest = self.triplets / 'manifest.json'
        if manifest.exists():
            from motionkit.datagen.cigtime_triplets import cigtime_triplets_config
            want = cigtime_triplets_config(self.num_motions, self.seed, per_source=self.per_source)
            got = json.loads(manifest.read_text()).get('config')
            if got is not None and got != json.loads(json.dumps(want)):
                raise SystemExit(f'CigTime pipeline: {self.triplets} was built with another config '
                                 f'({got}); use another --work-dir or remove it')
            _log(f'triplets: reusing {self.triplets}')
            return
        self.run_parallel({'triplets': [
            sys.executable, 'tools/data/build_cigtime_triplets.py', '--num-motions', str(self.num_motions),
            '--seed', str(self.seed), '--editor', 'synthmotion', '--per-source', str(self.per_source),
            '--out', str(self.triplets)]})

    def train_cmd(self, stage: str) -> List[str]:
        cmd = [sys.executable, 'tools/train.py', str(CONFIGS / TRAIN_STAGES[stage]),
               '--work-dir', str(self.seed_dir(self.train_seed) / stage),
               '--cfg-options', f'randomness.seed={self.train_seed}']
        if stage in self.iters:
            n = self.iters[stage]
            cmd += [f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n + 1}']
        return cmd

    def _finish_training(self, stage: str) -> None:
        """Copy the last checkpoint to ``<stage>/<stage>.pth`` (the name later configs read)."""
        last = self.seed_dir(self.train_seed) / stage / 'last_checkpoint'
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
                _log(f'{self._tag(s)}: reusing {self.checkpoint(s)}')
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

    def eval_jobs(self, controls: bool) -> Dict[str, Tuple[str, List[str], Path]]:
        """``{job name: (split, command, output json)}`` of one seed: every method on every split,
        and (``controls``) the control rows on the test split."""
        out_dir = self.seed_dir(self.train_seed) / 'eval'
        jobs = {}
        rows = [(m, config, None if stage is None else str(self.checkpoint(stage)), [])
                for m, (config, stage) in ((m, METHODS[m]) for m in EVAL_ORDER)]
        for split in SPLITS:
            for name, config, ckpt, extra in rows:
                jobs[f'evaluate_{name}_{split}'] = (split, name, config, ckpt, extra)
        if controls:
            for c in CONTROLS:
                jobs[f'evaluate_control_{c}_test'] = ('test', c, CONTROL_CONFIG, None, [f'model.control={c}'])
        built = {}
        for job, (split, name, config, ckpt, extra) in jobs.items():
            out = out_dir / split / f'{name}.json'
            cmd = [sys.executable, 'tools/test.py', str(CONFIGS / config), ckpt or 'none',
                   '--work-dir', str(out_dir / split / name), '--metrics-out', str(out),
                   '--cfg-options', f'test_dataloader.dataset.split={split}', *extra]
            built[job] = (split, name, cmd, out)
        return built

    def stage_evaluate(self, controls: bool) -> Dict[str, Dict[str, dict]]:
        jobs = self.eval_jobs(controls)
        todo = {}
        for job, (_, _, cmd, out) in jobs.items():
            if out.exists():
                _log(f'{self._tag(job)}: reusing {out}')
            else:
                todo[job] = cmd
        # evaluation is mostly single-threaded Python (metrics, editing): two at a time
        names = list(todo)
        for k in range(0, len(names), 2):
            self.run_parallel({n: todo[n] for n in names[k:k + 2]})
        results: Dict[str, Dict[str, dict]] = {}
        for split, name, _, out in jobs.values():
            results.setdefault(split, {})[name] = json.loads(out.read_text())
        return results

    @staticmethod
    def stage_wall(timings: Dict[str, float], slots: int = 2) -> float:
        """Wall time of a run made of these stage times (a resumed run's note): the sequential
        stages, plus each seed's training stages replayed in ``TRAIN_ORDER`` through two slots (each
        starts when a slot is free and its dependencies are done; the live scheduler may start a
        later ready stage first, which gives the same result for the current stage graph) and its
        evaluation jobs, two at a time in the order they were run."""
        total = sum(timings.get(k, 0.0) for k in ('wordnet', 'triplets'))
        tags = sorted({k.partition('@')[2] for k in timings if '@' in k}) or ['']
        for tag in tags:
            suffix = f'@{tag}' if tag else ''
            done_at: Dict[str, float] = {}
            free = [0.0] * slots
            for s in TRAIN_ORDER:
                slot = min(range(slots), key=lambda i: free[i])
                start = max([free[slot]] + [done_at.get(d, 0.0) for d in DEPENDS[s]])
                done_at[s] = free[slot] = start + timings.get(s + suffix, 0.0)
            total += max(done_at.values())
            ev = [v for k, v in timings.items() if k.startswith('evaluate_') and k.endswith(suffix)
                  and (tag or '@' not in k)]
            total += sum(max(ev[k:k + slots]) for k in range(0, len(ev), slots))
        return total

    @staticmethod
    def check_configs() -> None:
        """Fail before any stage runs when a stage or method names a config that does not exist."""
        names = list(TRAIN_STAGES.values()) + [config for config, _ in METHODS.values()] + [CONTROL_CONFIG]
        missing = sorted({n for n in names if not (CONFIGS / n).is_file()})
        if missing:
            raise SystemExit(f'CigTime pipeline: missing configs in {CONFIGS}: {missing}')

    def run(self) -> str:
        t0 = time.time()
        self.check_configs()
        self.stage_wordnet()
        self.stage_triplets()
        runs = {}
        for k, train_seed in enumerate(self.seeds):
            self.train_seed = train_seed
            self.stage_train([s for s in TRAIN_ORDER if k == 0 or s not in SHARED_STAGES])
            runs[str(train_seed)] = self.stage_evaluate(controls=k == 0)
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
        from motionkit.utils.reproducibility import numeric_environment
        numeric_env = dict(numeric_environment(), num_threads=self.threads)  # what every stage ran with
        results = dict(runs=runs, counts=manifest.get('counts', {}), phrasing=manifest.get('phrasing', {}),
                       timings_s=timings, total_s=total, command=self.command, numeric_env=numeric_env)
        text = report(results) + (f'\n\nSynthMotion (synthetic); tiny models trained on the CPU; '
                                  f'{total / 60:.1f} min wall.')
        atomic_write_text(self.work / 'results.md', text + '\n')
        atomic_write_text(self.work / 'results.json', json.dumps(results, indent=1) + '\n')
        print('\nCigTime on SynthMotion (Table 1 / Table 3 style; instruction quality vs the ground-truth '
              'instruction, reconstruction MPJPE vs the target)\n')
        print(text)
        return text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--work-dir', default=None, help='default work_dirs/cigtime_tiny (work_dirs/cigtime_ci '
                   'with --preset ci)')
    p.add_argument('--preset', choices=sorted(PRESETS), help='a named size (ci: the test-sized run CI checks)')
    p.add_argument('--num-motions', type=int, default=None, help='SynthMotion source motions (all splits; '
                   'default 1200)')
    p.add_argument('--per-source', type=int, default=None, help='triplets per source motion (default 2)')
    p.add_argument('--seed', type=int, default=0, help='seed of the SynthMotion build and the triplets')
    p.add_argument('--seeds', type=int, nargs='+', default=None,
                   help='training seeds (randomness.seed of every training stage; default 0)')
    p.add_argument('--iters', nargs='*', default=[], metavar='STAGE=N',
                   help='override training iterations, e.g. cigtime=500 tokenizer=200 (smoke runs)')
    p.add_argument('--threads', type=int, default=1, help='torch threads per stage process')
    p.add_argument('--sequential', action='store_true', help='run training stages one at a time')
    return p.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    preset = PRESETS.get(args.preset, {})
    iters = dict(preset.get('iters', {}))
    for item in args.iters:
        stage, _, n = item.partition('=')
        if stage not in TRAIN_STAGES or not n.isdigit():
            raise SystemExit(f'--iters: expected STAGE=N with STAGE in {sorted(TRAIN_STAGES)}, got {item!r}')
        iters[stage] = int(n)
    work = args.work_dir or ('work_dirs/cigtime_ci' if args.preset == 'ci' else 'work_dirs/cigtime_tiny')
    num_motions = args.num_motions or preset.get('num_motions', 1200)
    per_source = args.per_source or preset.get('per_source', 2)
    seeds = args.seeds or preset.get('seeds', [0])
    command = 'python projects/cigtime/run_pipeline.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    return Pipeline(work, num_motions, per_source, args.seed, iters, args.threads, not args.sequential,
                    seeds, command.strip()).run()


if __name__ == '__main__':
    main()
