from workshop.authoring.mutants import Mutant

MUTANTS: list[Mutant] = []
