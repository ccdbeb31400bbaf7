
from .nearest_neighbour_instruction import NearestNeighbourInstructionRetrieval, pair_descriptor  # noqa: F401
from .corrective_instruction_generator import CorrectiveInstructionGenerator  # noqa: F401
