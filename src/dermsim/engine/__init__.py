"""L1: the generic batched engine (knows nothing of atopic dermatitis).

All patients advance together as arrays laid out ``(n_states, n_patients)``:

* :mod:`.linear` - exact (matrix-exponential) propagation of linear compartment systems between
  dose events, batched over patients;
* :mod:`.stepper` - a second-order exponential production-loss (quasi-steady-state) step for stiff
  non-linear kinetics, unconditionally stable and positivity preserving;
* :mod:`.steady` - vectorised steady states (pseudo-transient continuation, then Newton);
* :mod:`.schedule` - the within-day step grid that puts dose events on step boundaries;
* :mod:`.streams` - random streams keyed by absolute patient index (chunking-invariant);
* :mod:`.chunks` - chunk slices that bound memory.
"""

from dermsim.engine.chunks import iter_chunks
from dermsim.engine.linear import compute_transition, propagate
from dermsim.engine.schedule import DayGrid, build_day_grid, gauss_legendre_unit
from dermsim.engine.steady import solve_steady_state
from dermsim.engine.stepper import phi1, step_production_loss
from dermsim.engine.streams import block_normals, block_normals_by_day, block_uniforms

__all__ = ["DayGrid", "block_normals", "block_normals_by_day", "block_uniforms", "build_day_grid",
           "compute_transition",
           "gauss_legendre_unit", "iter_chunks", "phi1", "propagate", "solve_steady_state",
           "step_production_loss"]
