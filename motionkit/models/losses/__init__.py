from .info_nce import InfoNCELoss, false_negative_mask, info_nce_loss

__all__ = ['InfoNCELoss', 'false_negative_mask', 'info_nce_loss']
