from .convert_gguf import convert_gguf_to_hf, default_smollm2_dir, ensure_smollm2, find_smollm2_gguf
