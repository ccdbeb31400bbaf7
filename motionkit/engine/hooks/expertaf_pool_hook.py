"""Give ExpertAF models their retrieval candidates (and the NN baseline its training pool)."""
import copy
from typing import Optional

from mmengine.hooks import Hook

from motionkit.registry import DATASETS, HOOKS


@HOOKS.register_module()
class ExpertAFPoolHook(Hook):
    """Before testing (and validation), hand the model its pools as dataset items.

    * candidates (retrieval, ExpertAF eq. 2): every item of the evaluated dataset, i.e. a pool the
      size of the test set, through ``model.set_candidates_from_items``;
    * ``train_pool``: a dataset config (e.g. the training split) whose items go to
      ``model.set_pool_from_items`` (the video-feature nearest-neighbour baseline).

    Args:
        train_pool: dataset config of the neighbour pool, or ``None``.
        candidates: fill the retrieval candidates from the evaluated dataset.
    """

    priority = 'VERY_HIGH'

    def __init__(self, train_pool: Optional[dict] = None, candidates: bool = True) -> None:
        self.train_pool = train_pool
        self.candidates = candidates
        self._pool_done = False

    @staticmethod
    def _items(dataset):
        return (dataset[i] for i in range(len(dataset)))

    def _fill(self, runner, loader) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if self.train_pool is not None and not self._pool_done:
            if not hasattr(model, 'set_pool_from_items'):
                raise TypeError(f'ExpertAFPoolHook: {type(model).__name__} takes no train_pool')
            n = model.set_pool_from_items(self._items(DATASETS.build(copy.deepcopy(self.train_pool))))
            runner.logger.info(f'ExpertAFPoolHook: neighbour pool of {n} training items')
            self._pool_done = True
        if self.candidates and hasattr(model, 'set_candidates_from_items'):
            n = model.set_candidates_from_items(self._items(loader.dataset))
            runner.logger.info(f'ExpertAFPoolHook: {n} retrieval candidates')

    def before_test(self, runner) -> None:
        self._fill(runner, runner.test_dataloader)

    def before_val(self, runner) -> None:
        self._fill(runner, runner.val_dataloader)
