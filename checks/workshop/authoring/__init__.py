"""For maintainers: the generator of starters, the proofs of the checks (verify, mutants), the agendas."""
