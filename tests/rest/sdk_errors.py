"""What an official SDK call raises, for tests that expect a refusal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from appwrite.exception import AppwriteException


def raised(function: Callable, *args, **kwargs) -> AppwriteException:
    """The AppwriteException a call raises (the test fails if it raises nothing)."""
    with pytest.raises(AppwriteException) as caught:
        function(*args, **kwargs)
    return caught.value
