"""The drug: regimens (what is applied when), PK from the cream to plasma, JAK inhibition."""
