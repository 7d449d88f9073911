"""The README's Python example: 2,000 virtual children on 1.5% cream vs vehicle for 8 weeks."""

import numpy as np

from dermsim.analysis import estimate_risk_difference
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

children = sample_population("true-ad3", n=2000, seed=1)        # columnar virtual patients
active = simulate_patients(children, Regimen.bid(1.5), days=56, seed=1)
vehicle = simulate_patients(children, Regimen.bid(0.0), days=56, seed=1)   # same patients (CRN)
ts_active, ts_vehicle = active.endpoints(56)["iga_ts"], vehicle.endpoints(56)["iga_ts"]
print(f"IGA-TS at week 8: {ts_active.mean():.1%} on 1.5% vs {ts_vehicle.mean():.1%} on vehicle")
print(f"median steady-state plasma level on 1.5%: {np.median(active.baseline['css_nM']):.1f} nM")
rd = estimate_risk_difference(int(ts_active.sum()), children.n, int(ts_vehicle.sum()), children.n,
                              method="miettinen_nurminen")
print(f"risk difference {rd.estimate:.3f} (95% CI {rd.ci_lower:.3f} to {rd.ci_upper:.3f})")
