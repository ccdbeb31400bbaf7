"""Run under ``torchrun --nproc_per_node=2``: each rank evaluates its DefaultSampler share of the
same samples with CaptionMetric and T2MMetric; rank 0 pickles the gathered results to argv[1]."""
import os
import pickle
import sys

import torch.distributed as dist

from tests.test_evaluation.test_metrics.test_metrics import make_gather_samples
from motionkit.evaluation.metrics import CaptionMetric, T2MMetric


def main(out_path: str) -> None:
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        samples = make_gather_samples()
        metrics = [CaptionMetric(preset='default'), T2MMetric(replications=2, diversity_times=20)]
        results = []
        for metric in metrics:
            metric.process(None, samples[rank::world])
            results.append(metric.evaluate(len(samples)))
        if rank == 0:
            with open(out_path, 'wb') as f:
                pickle.dump(dict(world=world, results=results), f)
    finally:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
