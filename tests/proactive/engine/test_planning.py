from __future__ import annotations

import pytest

from proactive.engine.planning import split


def test_split_in_consecutive_batches() -> None:
    assert split([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert split([], 3) == []
    with pytest.raises(ValueError):
        split([1], 0)
