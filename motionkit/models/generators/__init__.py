from .corrective_instruction_generator import CorrectiveInstructionGenerator
from .nearest_neighbour_instruction import (NearestNeighbourInstructionRetrieval, pair_descriptor, pair_step_descriptor,
                                            vote_neighbours)
from .reference_instruction_control import INSTRUCTION_CONTROLS, ReferenceInstructionControl, control_instruction

__all__ = ['CorrectiveInstructionGenerator', 'NearestNeighbourInstructionRetrieval', 'pair_descriptor',
           'pair_step_descriptor', 'vote_neighbours', 'ReferenceInstructionControl', 'control_instruction',
           'INSTRUCTION_CONTROLS']
