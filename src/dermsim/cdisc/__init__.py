"""CDISC layer: ADaM dataset schemas and checks (:mod:`dermsim.cdisc.schemas`), and the SDTM-like
builders and ADaM derivations (``derive_*``) that turn study data into ADSL, ADEFF and ADAE.

This layer computes and checks; it never prints or writes files (that is :mod:`dermsim.io`).
"""

from dermsim.cdisc.adae import derive_adae
from dermsim.cdisc.adeff import compute_responder, derive_adeff
from dermsim.cdisc.adsl import derive_adsl

__all__ = ["compute_responder", "derive_adae", "derive_adeff", "derive_adsl"]
