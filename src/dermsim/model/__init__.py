"""L1: the virtual patient (population, PK, JAK inhibition, disease, itch, observation)."""
