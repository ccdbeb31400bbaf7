# The joints-only MAR ("J" of CoAMD table 7, against "J+B+M"): the tiny MAR with the joint stream
# only (embeddings e_j and e_f); everything else as mar_tiny_1xb32-1k_synthmotion.py.
_base_ = ['mar_tiny_1xb32-1k_synthmotion.py']

model = dict(streams=('joint', ))
