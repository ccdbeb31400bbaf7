"""Model wrappers that work on CPU-only machines as well as on GPUs."""
import torch
from mmengine.model import MMDistributedDataParallel

from motionkit.registry import MODEL_WRAPPERS


def _module_on_cpu(module: torch.nn.Module) -> bool:
    param = next(module.parameters(), None)
    return param is None or param.device.type == 'cpu'


@MODEL_WRAPPERS.register_module()
class CPUCompatibleDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` for CPU modules.

    mmengine always passes ``device_ids=[LOCAL_RANK]``; torch's DDP rejects ``device_ids`` for a
    module whose parameters live on the CPU ("device_ids can only be None or contain a single
    element" / "DistributedDataParallel device_ids and output_device arguments only work with
    single-device/multiple-device GPU modules"). On GPU the wrapper behaves exactly like its parent.
    Select it with ``model_wrapper_cfg=dict(type='CPUCompatibleDDP')`` (the default runtime does).
    """

    def __init__(self, module: torch.nn.Module, detect_anomalous_params: bool = False, **kwargs):
        if _module_on_cpu(module):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, detect_anomalous_params=detect_anomalous_params, **kwargs)
