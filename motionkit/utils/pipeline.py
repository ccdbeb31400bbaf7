"""Pipelines as configs: stages (a command, a training or a test config), their inputs, outputs and
dependencies, run by ``tools/run_pipeline.py`` with resume, parallel slots and a timing report.

A pipeline config is an ordinary Python config file (``mmengine.Config``)::

    work_dir = 'work_dirs/my_pipeline'      # --work-dir overrides it
    slots = 2                               # stages run side by side
    threads = 1                             # OMP_NUM_THREADS of every stage (unless a stage says)
    env = dict(NLTK_DATA='{cache}/nltk_data')   # extra environment of every stage (not outputs!)
    stages = dict(
        labels=dict(cmd=['{python}', 'tools/data/build_action_classes.py', '--out', '{work_dir}/labels'],
                    outputs=['{work_dir}/labels/manifest.json']),
        ae=dict(train='projects/coamd/configs/ae_tiny.py', deps=['labels'],
                cfg_options={'train_dataloader.dataset.labels': '{labels.dir}/labels.json'}),
        ae_eval=dict(test='projects/coamd/configs/ae_tiny.py', checkpoint='{ae.checkpoint}'),
    )
    results = 'results'                     # the stage whose output is the pipeline's result

Stage kinds:

* ``cmd``: any command (a list, or a string split with ``shlex``); its ``outputs`` (files or
  folders) say when it is done.
* ``train``: ``tools/train.py CONFIG --work-dir <work_dir>/<stage> --cfg-options ...``; done when
  ``<work_dir>/<stage>/<stage>.pth`` exists (the last checkpoint, copied atomically).
* ``test``: ``tools/test.py CONFIG CHECKPOINT --work-dir <work_dir>/<stage> --metrics-out
  <work_dir>/<stage>/metrics.json --cfg-options ...``; done when the metrics file exists.

Placeholders in commands, options and outputs: ``{work_dir}``, ``{dir}`` (the stage's own folder,
``<work_dir>/<stage>``), ``{python}`` (this interpreter),
``{repo}``, ``{cache}`` (``$MOTIONKIT_CACHE``), ``{threads}``, a pipeline-config variable declared
in ``vars = dict(...)`` by its name, and another stage's ``{<stage>.dir}`` (its folder),
``{<stage>.checkpoint}`` (train stages), ``{<stage>.metrics}`` (test stages) and
``{<stage>.out}`` (its first output); ``{{`` and ``}}`` are literal braces. A stage that names another stage's field depends on it; more
dependencies go in ``deps``. Stage outputs reach later stages only this way, through their command
lines: never through the environment.

Resume: a stage whose outputs exist and whose command is the one recorded when it finished
(``<work_dir>/.pipeline/<stage>.json``) is reused; one whose command changed runs again, and so do
the stages after it. ``--from STAGE`` reruns a stage and everything that depends on it.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .io import atomic_write_text
from .paths import cache_dir

__all__ = ['Stage', 'Pipeline', 'PipelineError', 'load_pipeline', 'stage_wall']

_PLACEHOLDER = re.compile(r'\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_]+))?\}')
_STAGE_FIELDS = ('dir', 'checkpoint', 'metrics', 'out')
_KINDS = ('cmd', 'train', 'test')
_STAGE_KEYS = set(_KINDS) | {'checkpoint', 'cfg_options', 'deps', 'outputs', 'threads', 'env', 'args',
                            'metrics_out'}


class PipelineError(RuntimeError):
    """A pipeline config that cannot run, or a stage that failed (the message names the stage)."""


@dataclass
class Stage:
    """One stage of a pipeline (see the module docstring for the keys)."""

    name: str
    kind: str
    target: Any  # the command (cmd) or the config path (train / test)
    checkpoint: Optional[str] = None
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    args: List[str] = field(default_factory=list)
    deps: List[str] = field(default_factory=list)
    outputs: List[str] = field(default_factory=list)
    threads: Optional[int] = None
    env: Dict[str, str] = field(default_factory=dict)
    metrics_out: Optional[str] = None


def _format_option(value: Any) -> str:
    """A ``--cfg-options`` value as mmengine's ``DictAction`` reads it back."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (list, tuple)):
        inner = ','.join(_format_option(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner})'
    return str(value)


def _parse_stage(name: str, spec: Mapping, where: str) -> Stage:
    if not isinstance(spec, Mapping):
        raise PipelineError(f'{where}: stage {name!r} must be a dict, got {type(spec).__name__}')
    unknown = sorted(set(spec) - _STAGE_KEYS)
    if unknown:
        raise PipelineError(f'{where}: stage {name!r} has unknown keys {unknown}; known: {sorted(_STAGE_KEYS)}')
    kinds = [k for k in _KINDS if k in spec]
    if len(kinds) != 1:
        raise PipelineError(f'{where}: stage {name!r} needs exactly one of {list(_KINDS)}, got {kinds or "none"}')
    kind = kinds[0]
    target = spec[kind]
    if kind == 'cmd':
        target = shlex.split(target) if isinstance(target, str) else [str(t) for t in target]
        if not target:
            raise PipelineError(f'{where}: stage {name!r} has an empty cmd')
        if not spec.get('outputs'):
            raise PipelineError(f'{where}: cmd stage {name!r} must declare its outputs (how else is it done?)')
    elif not isinstance(target, str):
        raise PipelineError(f'{where}: stage {name!r}: {kind} must be a config path, got {target!r}')
    if kind == 'test' and 'checkpoint' not in spec:
        raise PipelineError(f"{where}: test stage {name!r} needs 'checkpoint' (a path, a "
                            "'{<stage>.checkpoint}' placeholder or 'none' for a model without weights)")
    args = spec.get('args', [])
    return Stage(name=name, kind=kind, target=target, checkpoint=spec.get('checkpoint'),
                 cfg_options=dict(spec.get('cfg_options', {})),
                 args=shlex.split(args) if isinstance(args, str) else [str(a) for a in args],
                 deps=list(spec.get('deps', [])), outputs=[str(o) for o in spec.get('outputs', [])],
                 threads=spec.get('threads'), env={k: str(v) for k, v in dict(spec.get('env', {})).items()},
                 metrics_out=spec.get('metrics_out'))


def stage_wall(order: Sequence[str], seconds: Mapping[str, float], deps: Mapping[str, Sequence[str]],
               slots: int) -> float:
    """Wall time of stages of these durations run in this order through ``slots`` slots, each
    starting when a slot is free and its dependencies are done (the note of a resumed run, whose
    stages ran in several calls)."""
    done_at: Dict[str, float] = {}
    free = [0.0] * max(1, slots)
    for name in order:
        slot = min(range(len(free)), key=lambda i: free[i])
        start = max([free[slot]] + [done_at.get(d, 0.0) for d in deps.get(name, ())])
        done_at[name] = free[slot] = start + float(seconds.get(name, 0.0))
    return max(done_at.values(), default=0.0)


class Pipeline:
    """The stages of a pipeline config, resolved against a work dir.

    Args:
        stages: ``{name: stage spec}`` in the order they should start when several are ready.
        work_dir: the folder every stage writes under.
        slots: stages run side by side.
        threads: ``OMP_NUM_THREADS`` of every stage without its own ``threads``.
        env: extra environment of every stage (placeholders allowed).
        variables: more ``{name}`` placeholders.
        repo: the folder commands run in (default: the motionkit checkout).
        where: the config's path, for messages.
    """

    def __init__(self, stages: Mapping[str, Mapping], work_dir: str | os.PathLike, slots: int = 2,
                 threads: int = 1, env: Optional[Mapping[str, str]] = None,
                 variables: Optional[Mapping[str, Any]] = None, repo: Optional[str | os.PathLike] = None,
                 where: str = 'pipeline config', results: Optional[str] = None,
                 log: Callable[[str], None] = None) -> None:
        if not stages:
            raise PipelineError(f'{where}: no stages')
        self.where = where
        self.work = Path(work_dir).resolve()
        self.repo = Path(repo).resolve() if repo else Path(__file__).resolve().parents[2]
        if int(slots) < 1:
            raise PipelineError(f'{where}: slots must be >= 1, got {slots}')
        self.slots = int(slots)
        self.threads = int(threads)
        self.env_extra = dict(env or {})
        self.stages: Dict[str, Stage] = {}
        for name, spec in stages.items():
            if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', name):
                raise PipelineError(f'{where}: stage name {name!r} must be an identifier')
            self.stages[name] = _parse_stage(name, spec, where)
        self.variables = {k: str(v) for k, v in dict(variables or {}).items()}
        clash = sorted(set(self.variables) & set(self.stages))
        if clash:
            raise PipelineError(f'{where}: {clash} are both stage names and vars')
        self.base = dict(work_dir=str(self.work), python=sys.executable, repo=str(self.repo),
                         cache=str(cache_dir()), threads=str(self.threads), **self.variables)
        if results is not None and results not in self.stages:
            raise PipelineError(f'{where}: results names stage {results!r}, which does not exist')
        self.results = results
        self._log = log or (lambda msg: print(f'[pipeline {time.strftime("%H:%M:%S")}] {msg}', flush=True))
        self.deps = {name: self._dependencies(stage) for name, stage in self.stages.items()}
        self.order = self._topological_order()

    # ------------------------------------------------------------------ resolution
    def stage_dir(self, name: str) -> Path:
        return self.work / name

    def field(self, name: str, what: str, asking: str) -> str:
        stage = self.stages[name]
        if what == 'dir':
            return str(self.stage_dir(name))
        if what == 'checkpoint':
            if stage.kind != 'train':
                raise PipelineError(f'{self.where}: stage {asking!r} asks for {{{name}.checkpoint}}, but '
                                    f'{name!r} is a {stage.kind} stage (only train stages have checkpoints)')
            return str(self.stage_dir(name) / f'{name}.pth')
        if what == 'metrics':
            if stage.kind != 'test':
                raise PipelineError(f'{self.where}: stage {asking!r} asks for {{{name}.metrics}}, but '
                                    f'{name!r} is a {stage.kind} stage (only test stages write metrics)')
            return self.metrics_path(name)
        return self.outputs(name)[0]

    def metrics_path(self, name: str) -> str:
        stage = self.stages[name]
        if stage.metrics_out:
            return self.substitute(stage.metrics_out, name)
        return str(self.stage_dir(name) / 'metrics.json')

    def substitute(self, text: Any, asking: str) -> str:
        text = str(text)

        def repl(m: re.Match) -> str:
            if m.group(1) is None:  # '{{' / '}}': a literal brace
                return m.group(0)[0]
            head, attr = m.group(1), m.group(2)
            if attr is None:
                if head in self.base:
                    return self.base[head]
                if head == 'dir' and asking in self.stages:  # this stage's own folder
                    return str(self.stage_dir(asking))
                if head in self.stages:
                    raise PipelineError(f"{self.where}: stage {asking!r}: '{{{head}}}' names a stage; say which "
                                        f"of its fields: {['{%s.%s}' % (head, f) for f in _STAGE_FIELDS]}")
            elif head in self.stages and attr in _STAGE_FIELDS:
                return self.field(head, attr, asking)
            raise PipelineError(f"{self.where}: stage {asking!r}: unknown placeholder {m.group(0)!r} (known: "
                                f"{sorted('{%s}' % k for k in list(self.base) + ['dir'])} and {{<stage>.<{'|'.join(_STAGE_FIELDS)}>}})")

        return _PLACEHOLDER.sub(repl, text)

    def _texts(self, stage: Stage) -> List[str]:
        texts = [stage.target] if isinstance(stage.target, str) else list(stage.target)
        texts += [stage.checkpoint or ''] + [str(v) for v in stage.cfg_options.values()] + stage.args
        texts += stage.outputs + list(stage.env.values()) + [stage.metrics_out or '']
        return texts

    def _dependencies(self, stage: Stage) -> List[str]:
        deps = list(stage.deps)
        for d in deps:
            if d not in self.stages:
                raise PipelineError(f'{self.where}: stage {stage.name!r} depends on unknown stage {d!r}; '
                                    f'stages: {list(self.stages)}')
        for text in self._texts(stage):
            for m in _PLACEHOLDER.finditer(str(text)):
                if m.group(2) is not None and m.group(1) in self.stages and m.group(1) not in deps:
                    deps.append(m.group(1))
        if stage.name in deps:
            raise PipelineError(f'{self.where}: stage {stage.name!r} depends on itself')
        return deps

    def _topological_order(self) -> List[str]:
        order: List[str] = []
        state: Dict[str, int] = {}

        def visit(name: str, path: List[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                raise PipelineError(f'{self.where}: dependency cycle: ' + ' -> '.join(cycle))
            state[name] = 1
            for d in self.deps[name]:
                visit(d, path + [name])
            state[name] = 2
            order.append(name)

        for name in self.stages:
            visit(name, [])
        return order

    def outputs(self, name: str) -> List[str]:
        stage = self.stages[name]
        if stage.kind == 'train':
            return [str(self.stage_dir(name) / f'{name}.pth')]
        if stage.kind == 'test':
            return [self.metrics_path(name)]
        return [self.substitute(o, name) for o in stage.outputs]

    def command(self, name: str) -> List[str]:
        """The stage's command line, placeholders filled (what ``--dry-run`` prints)."""
        stage = self.stages[name]
        sub = lambda t: self.substitute(t, name)  # noqa: E731
        if stage.kind == 'cmd':
            return [sub(t) for t in stage.target]
        config = sub(stage.target)
        if stage.kind == 'train':
            cmd = [sys.executable, 'tools/train.py', config, '--work-dir', str(self.stage_dir(name))]
        else:
            cmd = [sys.executable, 'tools/test.py', config, sub(stage.checkpoint), '--work-dir',
                   str(self.stage_dir(name)), '--metrics-out', self.metrics_path(name)]
        cmd += [sub(a) for a in stage.args]
        if stage.cfg_options:
            cmd += ['--cfg-options'] + [f'{k}={_format_option(sub(v) if isinstance(v, str) else v)}'
                                        for k, v in stage.cfg_options.items()]
        return cmd

    def environment(self, name: str) -> Dict[str, str]:
        stage = self.stages[name]
        env = dict(os.environ)
        for k, v in {**self.env_extra, **stage.env}.items():
            env[k] = self.substitute(v, name)
        # the thread count changes float reductions (docs/reproducibility.md): every stage gets
        # the pipeline's, whatever the shell exported
        env['OMP_NUM_THREADS'] = str(stage.threads if stage.threads is not None else self.threads)
        env['PYTHONPATH'] = str(self.repo) + os.pathsep + env.get('PYTHONPATH', '')
        return env

    # ------------------------------------------------------------------ state
    def _stamp(self, name: str) -> Path:
        return self.work / '.pipeline' / f'{name}.json'

    def is_done(self, name: str) -> bool:
        """Outputs exist and were made by the command this run would run."""
        if not all(os.path.exists(p) for p in self.outputs(name)):
            return False
        stamp = self._stamp(name)
        if not stamp.exists():
            return False
        try:
            recorded = json.loads(stamp.read_text())
        except json.JSONDecodeError:
            return False
        return recorded.get('command') == self.command(name)

    def _downstream(self, names: Sequence[str]) -> List[str]:
        out = set(names)
        for name in self.order:
            if any(d in out for d in self.deps[name]):
                out.add(name)
        return [n for n in self.order if n in out]

    def plan(self, start_from: Sequence[str] = ()) -> List[str]:
        """The stages this run will execute, in dependency order: those not done, those whose
        command changed, everything depending on them, and ``start_from`` with its dependants."""
        for s in start_from:
            if s not in self.stages:
                raise PipelineError(f'{self.where}: --from names unknown stage {s!r}; stages: {list(self.stages)}')
        todo = [n for n in self.order if not self.is_done(n)] + list(start_from)
        return self._downstream(todo)

    # ------------------------------------------------------------------ running
    def dry_run(self, start_from: Sequence[str] = ()) -> str:
        todo = set(self.plan(start_from))
        lines = []
        for name in self.order:
            stage = self.stages[name]
            env = {**self.env_extra, **stage.env}
            prefix = ' '.join(f'{k}={shlex.quote(self.substitute(v, name))}' for k, v in env.items())
            threads = stage.threads if stage.threads is not None else self.threads
            cmd = ' '.join(shlex.quote(c) for c in self.command(name))
            state = 'run' if name in todo else 'done'
            deps = f"  (after {', '.join(self.deps[name])})" if self.deps[name] else ''
            lines.append(f'# {name} [{state}]{deps}\n'
                         f'OMP_NUM_THREADS={threads} {prefix + " " if prefix else ""}{cmd}')
        return '\n'.join(lines)

    def _finish(self, name: str, cmd: List[str], seconds: float) -> None:
        stage = self.stages[name]
        if stage.kind == 'train':
            last = self.stage_dir(name) / 'last_checkpoint'
            if not last.exists():
                raise PipelineError(f'stage {name!r} finished without a checkpoint ({last} missing)')
            src = Path(last.read_text().strip())
            dst = Path(self.outputs(name)[0])
            tmp = dst.with_suffix('.pth.tmp')
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        missing = [p for p in self.outputs(name) if not os.path.exists(p)]
        if missing:
            raise PipelineError(f'stage {name!r} finished (exit 0) without its outputs: {missing}')
        atomic_write_text(self._stamp(name), json.dumps(dict(command=cmd, seconds=seconds,
                                                             finished=time.strftime('%Y-%m-%dT%H:%M:%S')),
                                                        indent=1) + '\n')

    def run(self, start_from: Sequence[str] = ()) -> Dict[str, float]:
        """Run what :meth:`plan` returns, at most ``slots`` stages at a time, each as soon as its
        dependencies are done. Returns ``{stage: seconds}`` of the stages run now; the timings of
        every call accumulate in ``<work_dir>/.pipeline/timings.json``."""
        todo = self.plan(start_from)
        for name in self.order:
            if name not in todo:
                self._log(f'{name}: reusing {self.outputs(name)[0]}')
        (self.work / 'logs').mkdir(parents=True, exist_ok=True)
        (self.work / '.pipeline').mkdir(parents=True, exist_ok=True)
        for name in todo:  # a stage that runs again must not look done if it fails half-way
            self._stamp(name).unlink(missing_ok=True)
        running: Dict[str, tuple] = {}
        timings: Dict[str, float] = {}
        pending = list(todo)
        failed: List[str] = []
        codes: Dict[str, int] = {}
        while pending or running:
            for name in list(pending):
                if len(running) >= self.slots or failed:
                    break
                if all(d not in pending and d not in running for d in self.deps[name]):
                    cmd = self.command(name)
                    self._log(f'{name}: ' + ' '.join(shlex.quote(c) for c in cmd))
                    log_path = self.work / 'logs' / f'{name}.log'
                    log = open(log_path, 'w')
                    proc = subprocess.Popen(cmd, cwd=self.repo, env=self.environment(name), stdout=log,
                                            stderr=subprocess.STDOUT)
                    running[name] = (proc, log, time.time(), cmd)
                    pending.remove(name)
            if not running:
                break
            finished = [n for n, (p, *_) in running.items() if p.poll() is not None]
            if not finished:
                time.sleep(0.2)
                continue
            for name in finished:
                proc, log, t0, cmd = running.pop(name)
                log.close()
                timings[name] = time.time() - t0
                if proc.returncode != 0:
                    codes[name] = proc.returncode
                    failed.append(name)
                    continue
                self._finish(name, cmd, timings[name])
                self._log(f'{name}: done in {timings[name]:.0f} s')
        self._record_timings(timings)
        if failed:
            tails = []
            for name in failed:
                log_path = self.work / 'logs' / f'{name}.log'
                lines = log_path.read_text(errors='replace').splitlines()
                tails.append(f'--- {name} (exit {codes[name]}; last lines of '
                             f'{log_path}) ---\n' + '\n'.join(lines[-25:]))
            not_run = [n for n in pending]
            raise PipelineError('stage(s) failed: ' + ', '.join(failed)
                                + (f'; not started: {", ".join(not_run)}' if not_run else '')
                                + '\n' + '\n'.join(tails))
        return timings

    def _record_timings(self, timings: Mapping[str, float]) -> None:
        path = self.work / '.pipeline' / 'timings.json'
        old = json.loads(path.read_text()) if path.exists() else {}
        old.update(timings)
        atomic_write_text(path, json.dumps(old, indent=1) + '\n')

    def timing_report(self, now: Mapping[str, float]) -> str:
        """A table of every stage's time (this call's and earlier calls'), and the wall time."""
        path = self.work / '.pipeline' / 'timings.json'
        all_times = json.loads(path.read_text()) if path.exists() else dict(now)
        rows = ['| stage | seconds | this call |', '|---|---:|:---:|']
        for name in self.order:
            if name in all_times:
                rows.append(f'| {name} | {all_times[name]:.0f} | {"yes" if name in now else "reused"} |')
        wall = stage_wall(self.order, all_times, self.deps, self.slots)
        rows.append(f'\nwall time of the whole pipeline at {self.slots} slot(s): {wall / 60:.1f} min '
                    f'(replayed from the stage times)')
        return '\n'.join(rows)


def load_pipeline(path: str | os.PathLike, work_dir: Optional[str] = None,
                  options: Optional[Mapping[str, Any]] = None, **kwargs) -> Pipeline:
    """A :class:`Pipeline` from a pipeline config file (``options`` as from ``--cfg-options``)."""
    from mmengine.config import Config
    path = str(path)
    if not os.path.isfile(path):
        raise PipelineError(f'pipeline config not found: {path}')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(dict(options))
    if 'stages' not in cfg:
        raise PipelineError(f"{path}: a pipeline config needs 'stages' (dict of stage name -> spec)")
    # names starting with '_' are the config's own helpers (as in model configs)
    unknown = sorted(k for k in cfg.keys() if not k.startswith('_') and k not in (
        'work_dir', 'slots', 'threads', 'env', 'vars', 'stages', 'results', 'custom_imports'))
    if unknown:
        raise PipelineError(f'{path}: unknown top-level keys {unknown}; a pipeline config has work_dir, slots, '
                            'threads, env, vars, stages and results')
    stages = cfg.stages.to_dict() if hasattr(cfg.stages, 'to_dict') else dict(cfg.stages)
    return Pipeline(stages, work_dir or cfg.get('work_dir') or 'work_dirs/' + Path(path).stem,
                    slots=cfg.get('slots', 2), threads=cfg.get('threads', 1),
                    env=dict(cfg.get('env', {}) or {}), variables=dict(cfg.get('vars', {}) or {}),
                    where=path, results=cfg.get('results'), **kwargs)
