# Smoke preset of projects/expertaf/pipeline_synthmotion.py: every stage with tiny data and iteration
# counts (checks that the chain runs end to end; the numbers mean nothing; pct_iters stays above
# the PoseTokenizer schedule's 100-iteration warm-up):
#   python tools/run_pipeline.py projects/expertaf/pipeline_synthmotion_smoke.py
_base_ = ['./pipeline_synthmotion.py']
work_dir = 'work_dirs/expertaf_smoke'
vars = dict(motions=40, feedback=30, pct_iters=150, iters=10, nn_iters=10)
