"""Motion and pose tokenizers: discrete tokens for language models (CigTime, MotionGPT/AToM,
ExpertAF), with swappable quantisers and the text forms of token sequences."""
from .ema_quantizer import EMAQuantizer, codebook_perplexity
from .motion_vqvae import (DilatedResNet1D, MotionVQVAE, TCNDecoder, TCNEncoder,
                           ric_feature_slice)
from .multimodal_autoencoder import AE_STREAMS, MultimodalAutoencoder, MultimodalConvEncoder
from .pose_tokenizer import MixerBlock, PoseTokenizer
from .residual_quantizer import ResidualQuantizer
from .token_text import (TOKEN_TEXT_STYLES, format_motion_tokens, motion_special_tokens,
                         motiongpt_markers, parse_motion_tokens)

__all__ = [
    'EMAQuantizer', 'ResidualQuantizer', 'MotionVQVAE', 'PoseTokenizer', 'TCNEncoder',
    'TCNDecoder', 'DilatedResNet1D', 'MixerBlock', 'codebook_perplexity', 'ric_feature_slice',
    'TOKEN_TEXT_STYLES', 'format_motion_tokens', 'parse_motion_tokens', 'motion_special_tokens',
    'motiongpt_markers', 'MultimodalAutoencoder', 'MultimodalConvEncoder', 'AE_STREAMS'
]
