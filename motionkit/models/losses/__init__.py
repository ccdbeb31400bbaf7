from .info_nce import InfoNCELoss, false_negative_mask, info_nce_loss
from .preference import PREFERENCE_LOSSES, dpo_loss, ipo_loss, kto_loss, kto_reference_point, sft_loss

__all__ = ['InfoNCELoss', 'false_negative_mask', 'info_nce_loss']
__all__ += ['PREFERENCE_LOSSES', 'dpo_loss', 'ipo_loss', 'kto_loss', 'kto_reference_point', 'sft_loss']
