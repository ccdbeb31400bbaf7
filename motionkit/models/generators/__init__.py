from .corrective_instruction_generator import CorrectiveInstructionGenerator
from .nearest_neighbour_instruction import (NearestNeighbourInstructionRetrieval, normalize_instruction, pair_descriptor,
                                            pair_step_descriptor, vote_neighbours)

__all__ = ['CorrectiveInstructionGenerator', 'NearestNeighbourInstructionRetrieval', 'normalize_instruction',
           'pair_descriptor', 'pair_step_descriptor', 'vote_neighbours']
