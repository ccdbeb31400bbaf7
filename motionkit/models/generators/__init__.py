from .corrective_instruction_generator import CorrectiveInstructionGenerator
from .nearest_neighbour_instruction import NearestNeighbourInstructionRetrieval, pair_descriptor

__all__ = ['CorrectiveInstructionGenerator', 'NearestNeighbourInstructionRetrieval', 'pair_descriptor']
