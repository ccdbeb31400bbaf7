"""FlexibleRunner strategies (mmengine 0.10.7) fixed for torch >= 2.1 and CPU-only machines."""
from typing import Optional, Union

import torch
from mmengine._strategy import FSDPStrategy

from motionkit.registry import STRATEGIES


@STRATEGIES.register_module()
class ResumableFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` with two fixes.

    1. Resuming the optimizer state: mmengine 0.10.7 calls
       ``FSDP.optim_state_dict_to_load(state_dict, model, optimizer)`` positionally in the pre-2.1
       argument order; torch >= 2.1 expects ``(model, optim, optim_state_dict)``. Arguments are
       passed by keyword here.
    2. CPU-only machines: FSDP needs ``device_id='cpu'`` there, and the ``'full'`` state-dict preset
       with CPU offload crashes; a full state dict without offload is used instead.

    Use it in a config with ``runner_type='FlexibleRunner'`` and
    ``strategy=dict(type='motionkit.ResumableFSDPStrategy', ...)``.
    """

    def __init__(self, *, model_wrapper: Optional[dict] = None,
                 state_dict_cfg: Union[str, dict] = 'local', **kwargs):
        if not torch.cuda.is_available():
            model_wrapper = dict(model_wrapper or {})
            model_wrapper.setdefault('device_id', 'cpu')
            if state_dict_cfg == 'full':
                state_dict_cfg = dict(
                    state_dict_type='FULL_STATE_DICT',
                    state_dict_config=dict(type='FullStateDictConfig', offload_to_cpu=False,
                                           rank0_only=True),
                    optim_state_dict_config=dict(
                        type='FullOptimStateDictConfig', offload_to_cpu=False, rank0_only=True))
        super().__init__(model_wrapper=model_wrapper, state_dict_cfg=state_dict_cfg, **kwargs)

    def load_optim_state_dict(self, state_dict: dict) -> None:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        optim_state_dict = FSDP.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer, optim_state_dict=state_dict)
        self.optim_wrapper.load_state_dict(optim_state_dict)
