"""Pure metric functions (numpy / torch in, floats or dicts out), unit-tested against the
reference implementations; the metric classes in :mod:`motionkit.evaluation.metrics` call them."""
from .joint_error import mpjpe, pa_mpjpe, similarity_procrustes
from .preference import mean_reward, pairwise_win, win_rate
from .recognition import (bucket_accuracy, frequency_buckets, mean_average_precision,
                          top_k_accuracy, multilabel_top1_hit)
from .retrieval import (batched_retrieval, cosine_similarity_matrix, directional_metrics,
                        median_rank, retrieval_ranks, retrieval_recall)
from .t2m import (activation_statistics, clip_score, diversity, euclidean_distance_matrix, fid,
                  frechet_distance, mean_confidence_interval, mm_dist, multimodality, r_precision)
from .text import bleu, check_text_pairs, cider, meteor, normalize_text, ptb_tokenize, rouge
from .text_similarity import MiniLMTextEncoder, text_embedding_similarity

__all__ = [
    'bleu', 'rouge', 'meteor', 'cider', 'ptb_tokenize', 'check_text_pairs', 'normalize_text',
    'text_embedding_similarity', 'MiniLMTextEncoder', 'mpjpe', 'pa_mpjpe', 'similarity_procrustes',
    'fid', 'frechet_distance', 'activation_statistics', 'diversity', 'multimodality', 'r_precision',
    'mm_dist', 'euclidean_distance_matrix', 'mean_confidence_interval', 'retrieval_recall',
    'median_rank', 'retrieval_ranks', 'batched_retrieval', 'directional_metrics',
    'cosine_similarity_matrix', 'top_k_accuracy', 'mean_average_precision', 'frequency_buckets',
    'bucket_accuracy', 'multilabel_top1_hit', 'clip_score'
]
__all__ += ['mean_reward', 'pairwise_win', 'win_rate']
