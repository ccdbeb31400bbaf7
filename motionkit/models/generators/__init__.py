
from .nearest_neighbour_instruction import NearestNeighbourInstructionRetrieval, pair_descriptor  # noqa: F401
