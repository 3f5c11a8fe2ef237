"""What every command shares: the configuration and the lake, opened lazily."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from cascadeflow_cloud.config import (
    DEFAULT_CONFIG_FILE,
    STORE_ENV,
    Config,
    config_path,
    env,
    load_config,
)
from cascadeflow_cloud.errors import StoreMissing
from cascadeflow_cloud.lake.store import ObjectStore, open_store

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


@dataclass
class CliContext:
    """Global options plus lazily loaded config and store.

    ``create_store`` is set by commands that write (``ingest``): any other command refuses a
    local store that does not exist (``StoreMissing``, exit 2) and creates nothing.
    """

    config_path: str | None = None
    store_url: str | None = None
    create_store: bool = False
    _overrides: dict[str, object] = field(default_factory=dict)

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, store=self.store_url)

    @cached_property
    def store(self) -> ObjectStore:
        try:
            return open_store(self.config.store, create=self.create_store)
        except StoreMissing as exc:
            raise StoreMissing(f"{exc} ({self.store_origin()})") from exc

    def store_origin(self) -> str:
        """Where the store URL came from, for messages."""
        if self.store_url:
            return "from --store"
        if env(STORE_ENV):
            return "from $CASCADEFLOW_STORE"
        file = config_path(self.config_path)
        if file is not None and "store" in self.config.model_fields_set:
            return f"from `store:` in {file}"
        where = f"{file} sets no `store:`" if file is not None else \
            f"no {DEFAULT_CONFIG_FILE} here and no --config"
        return f"the default store: {where}"

    @cached_property
    def lake(self) -> Lake:
        store = self.store  # a missing store is reported before pyarrow is imported
        from cascadeflow_cloud.lake.tables import Lake

        return Lake(store)

    def hmac_key(self) -> bytes | None:
        """The pseudonymisation key, when configured (resolved now, never printed)."""
        from cascadeflow_cloud.secrets import hmac_key

        return hmac_key(self.config.privacy.hmac_key)


def parse_day(text: str) -> date:
    """argparse type for ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()


def add_range(parser: argparse.ArgumentParser, default_days: int | None = None) -> None:
    """``--since`` / ``--until`` (inclusive UTC days)."""
    hint = f" (default: the last {default_days} days)" if default_days else ""
    parser.add_argument("--since", type=parse_day, metavar="YYYY-MM-DD",
                        help="first day, inclusive" + hint)
    parser.add_argument("--until", type=parse_day, metavar="YYYY-MM-DD",
                        help="last day, inclusive (default: today)")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
