"""The translated template, built once per session (the SAM transform takes about a second)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.sam_stack import CORS_ORIGINS, Stack, load_sam, translate


@pytest.fixture(scope="session")
def sam() -> dict[str, Any]:
    return load_sam()


@pytest.fixture(scope="session")
def stack(sam: dict[str, Any]) -> Stack:
    return translate(sam, {"CorsAllowedOrigins": CORS_ORIGINS})
