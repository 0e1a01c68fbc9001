from __future__ import annotations

import numpy as np
import pytest

from lacstats import synthetic


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20191024)


@pytest.fixture(scope="session")
def cases():
    """The packaged calibrated sample at its default seed."""
    return synthetic.complex_lac()


@pytest.fixture
def small_cases(cases):
    """A small valid case table (copied, safe to modify)."""
    return cases.head(12).copy()
