"""The disease and what is observed of it: skin-barrier/cytokine dynamics, itch, clinical scores."""
