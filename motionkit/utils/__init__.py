from .checkpoint import (CheckpointSecurityError, expected_sha256, file_sha256,
                         install_safe_checkpoint_loader, safe_load,
                         safe_pickle_load, verify_sha256)
from .dist import destroy_distributed, init_distributed_if_needed
from .remote_code import allow_remote_code, check_remote_code_kwargs, remote_code_allowed
from .io import atomic_save_npy, atomic_write_bytes, atomic_write_text
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'install_safe_checkpoint_loader', 'safe_load',
    'safe_pickle_load', 'CheckpointSecurityError', 'expected_sha256',
    'verify_sha256', 'file_sha256', 'init_distributed_if_needed', 'destroy_distributed',
    'allow_remote_code', 'check_remote_code_kwargs', 'remote_code_allowed',
    'atomic_write_bytes', 'atomic_write_text', 'atomic_save_npy'
]
