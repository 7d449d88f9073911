import numpy as np
import pytest

from dermsim._rng import as_generator, child_sequence
from dermsim.errors import InvalidInputError


def test_child_sequence_equals_spawn():
    spawned = np.random.SeedSequence(7).spawn(5)
    for i, s in enumerate(spawned):
        a = np.random.default_rng(child_sequence(7, i)).random(4)
        b = np.random.default_rng(s).random(4)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_bad_seed_rejected(bad):
    with pytest.raises(InvalidInputError, match="seed"):
        as_generator(bad)
