from .checkpoint_schemes import load_from_hub, register_checkpoint_schemes, resolve_checkpoint
from .convert_gguf import convert_gguf_to_hf, default_smollm2_dir, ensure_smollm2, find_smollm2_gguf
from .download import (ChecksumError, DownloadError, OfflineError, UnpinnedHashError, cache_path,
                       default_cache_dir, download, is_remote, pinned_hash)
from .metafiles import MetafileError, find_model, load_metafile, load_model_index, metafile_paths

__all__ = [
    'download', 'default_cache_dir', 'cache_path', 'is_remote', 'pinned_hash', 'DownloadError',
    'OfflineError', 'UnpinnedHashError', 'ChecksumError', 'register_checkpoint_schemes',
    'load_from_hub', 'resolve_checkpoint', 'find_model', 'load_metafile', 'load_model_index',
    'metafile_paths', 'MetafileError', 'convert_gguf_to_hf', 'default_smollm2_dir',
    'ensure_smollm2', 'find_smollm2_gguf'
]
