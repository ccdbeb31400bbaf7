from .checkpoint import (file_sha256, install_safe_checkpoint_loader, register_safe_globals,
                         safe_load, verify_sha256)
from .dist import destroy_distributed, init_distributed_if_needed
from .io import atomic_save_npy, atomic_write_bytes, atomic_write_text
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'register_safe_globals', 'install_safe_checkpoint_loader', 'safe_load',
    'verify_sha256', 'file_sha256', 'init_distributed_if_needed', 'destroy_distributed',
    'atomic_write_bytes', 'atomic_write_text', 'atomic_save_npy'
]
