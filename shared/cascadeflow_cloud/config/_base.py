"""What every configuration section shares: secret references, time zones, one error format."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from cascadeflow_cloud.schema import format_location

SECRET_REF_PATTERN = re.compile(r"^(env|aws-secretsmanager|aws-ssm):[A-Za-z0-9_./+=@:-]+$")


def secret_ref(value: str) -> str:
    if not SECRET_REF_PATTERN.match(value):
        raise ValueError(
            "must be a secret reference (env:NAME, aws-secretsmanager:NAME or aws-ssm:NAME), "
            "never the secret itself"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


SecretRef = Annotated[str, AfterValidator(secret_ref)]
TimeZone = Annotated[str, AfterValidator(_timezone)]


class Section(BaseModel):
    """A configuration section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
}


def problems_of(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        template = _MESSAGES.get(err["type"])
        message = template.format(**err.get("ctx", {})) if template else err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        value = err.get("input")
        shown = ""
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, dict | list):
            shown = f" (got {value!r})"
        lines.append(f"{format_location(loc) or '<file>'}: {message}{shown}")
    return lines
