"""motionkit registries.

One child registry per MMEngine root that the toolkit uses (scope ``motionkit``), plus a few
roots for kinds that are not ``nn.Module``s (skeletons, motion representations, noise schedules,
feedback clients). ``locations`` lists the packages that hold each kind so that a config needs no
imports: building ``type='X'`` imports those packages on first use.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry as _MMRegistry


class Registry(_MMRegistry):
    """MMEngine registry whose failed look-ups during a build name the closest known types.

    mmengine's ``build_from_cfg`` calls ``registry.get(type)`` and raises a bare "X is not in the
    registry" KeyError when it gets None. ``get`` keeps returning None for membership tests; only when
    called from a build function does a miss raise, with the closest registered names.
    """

    def get(self, key):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            import sys
            caller = sys._getframe(1).f_code.co_name
            if caller.startswith('build'):
                raise KeyError(self._unknown_type_message(key))
        return obj

    def known_names(self) -> list:
        """Every name this registry can build: its own, its parents' and its children's."""
        self.import_from_location()
        names = set(self._module_dict)
        parent = self.parent
        while parent is not None:
            names.update(parent._module_dict)
            parent = parent.parent
        for child in self.children.values():
            names.update(child._module_dict)
        return sorted(names)

    def _unknown_type_message(self, key: str) -> str:
        import difflib
        real_key = key.split('.')[-1]
        names = self.known_names()
        close = difflib.get_close_matches(real_key, names, n=5, cutoff=0.5)
        if not close:
            lower = real_key.lower()
            close = [n for n in names if lower in n.lower() or n.lower() in lower][:5]
        hint = f' Closest known names: {close}.' if close else ''
        return (f"type='{key}' is not in the {self.scope}::{self.name} registry.{hint} "
                'Check the spelling, that default_scope is "motionkit", and that the module '
                'defining it is imported (custom_imports=dict(imports=[...])).')


# --- Runner and its parts ------------------------------------------------------------------
# Runners (Runner, FlexibleRunner) and their constructors.
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['motionkit.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS, locations=['motionkit.engine'])
# Training / validation / test loops.
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['motionkit.engine'])
# Hooks (checkpointing, visualisation of predictions, EMA, ...).
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['motionkit.engine'])
# Distributed strategies for FlexibleRunner (DDP, FSDP, DeepSpeed).
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, locations=['motionkit.engine'])
# Log processors.
LOG_PROCESSORS = Registry(
    'log processor', parent=MMENGINE_LOG_PROCESSORS, locations=['motionkit.engine'])

# --- Data ----------------------------------------------------------------------------------
# Datasets (HumanML3D / KIT format, SynthMotion, triplets, NTU, ...).
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS,
                    locations=['motionkit.datasets', 'motionkit.synthmotion'])
# Samplers for data loaders.
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['motionkit.datasets'])
# Data transforms (loading, cropping, normalisation, packing).
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=['motionkit.datasets'])
# Collate functions and other plain callables.
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['motionkit.datasets'])

# --- Models --------------------------------------------------------------------------------
# Every nn.Module: tokenizers, editors, generators, recognizers, LLM heads, encoders, losses,
# data preprocessors, evaluators.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['motionkit.models', 'motionkit.synthmotion'])
# Model wrappers (DDP that also works on CPU, ...).
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['motionkit.engine'])
# Weight initialisers.
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, locations=['motionkit.models'])
# Helpers used by models that are not modules (samplers of codes, ...).
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['motionkit.models'])

# --- Optimisation --------------------------------------------------------------------------
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['motionkit.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['motionkit.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['motionkit.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['motionkit.engine'])

# --- Evaluation ----------------------------------------------------------------------------
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['motionkit.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['motionkit.evaluation'])

# --- Visualisation -------------------------------------------------------------------------
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['motionkit.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=['motionkit.visualization'])

# --- Inference -----------------------------------------------------------------------------
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS, locations=['motionkit.apis'])

# --- Roots for kinds that are not modules ----------------------------------------------------
# Skeleton definitions (t2m22, kit21, smpl24, coco17, ntu25): joint names, parents, chains.
SKELETONS = Registry('skeleton', scope='motionkit', locations=['motionkit.motion'])
# Motion representations (HumanML3D 263-D, KIT 251-D, 67-D essential, absolute coordinates).
REPRESENTATIONS = Registry('representation', scope='motionkit', locations=['motionkit.motion'])
# Noise schedules and samplers (DDPM, DDIM, flow matching), separate from denoisers.
NOISE_SCHEDULES = Registry(
    'noise schedule', scope='motionkit', locations=['motionkit.models.diffusion'])
# LLM / VLM clients and offline scorers used to build data.
FEEDBACK_CLIENTS = Registry('feedback client', scope='motionkit', locations=['motionkit.feedback'])
