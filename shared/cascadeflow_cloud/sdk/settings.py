"""How the SDK finds its configuration, and what it does when that configuration is unusable.

Lookup order, the first one given wins:

1. ``wrap(..., config=...)``: a ``Config`` object or the path of a YAML file;
2. ``$CASCADEFLOW_CONFIG``: the path of a YAML file;
3. nothing: the built-in defaults (``$CASCADEFLOW_STORE`` still chooses the store).

The SDK never reads ``./cascadeflow.yaml`` from the application's working directory (the
CLI does): an application's working directory is wherever it was started, and a file there
must not silently change where its usage goes. Loading never raises into the application: a
file that cannot be read or validated, or a ``privacy.hmac_key`` reference that does not
resolve, logs one warning (logger ``cascadeflow_cloud.sdk``) and falls back: the defaults
replace an unusable file, and user ids are dropped (never kept in clear) without a usable key.
Each source is loaded once per process.

>>> from cascadeflow_cloud.config import Config
>>> setup = load(Config())
>>> setup.source, setup.problem, setup.hmac_key(b"pepper")
('wrap(config=…)', None, b'pepper')
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config

log = logging.getLogger("cascadeflow_cloud.sdk")

_loaded: dict[tuple[str, str | None], Setup] = {}
_warned: set[str] = set()
_lock = threading.Lock()


#: Logged once when a user id is dropped for want of a key (unless a key problem said so).
USER_IDS_DROPPED = ("user_id dropped (no usable HMAC key to pseudonymise it): set "
                    "privacy.hmac_key or pass wrap(..., hmac_key=...)")


def warn_once(message: str, *, covers: tuple[str, ...] = ()) -> None:
    """Log ``message`` as a warning the first time only (the SDK never repeats itself);
    ``covers`` are messages it makes redundant (they are not logged afterwards)."""
    with _lock:
        if message in _warned:
            return
        _warned.update((message, *covers))
    log.warning("cascadeflow_cloud.sdk: %s", message)


def usable_hmac_key(key: object) -> bytes | None:
    """The key as bytes, or None when it cannot pseudonymise (one warning; user ids are then
    dropped, never kept in clear). A ``str`` key is used as its UTF-8 bytes.

    >>> usable_hmac_key("pepper"), usable_hmac_key(None)
    (b'pepper', None)
    """
    if isinstance(key, bytes | bytearray) and key:
        return bytes(key)
    if isinstance(key, str) and key:
        return key.encode()
    if key is not None:
        what = "empty" if isinstance(key, bytes | bytearray | str) else type(key).__name__
        warn_once(f"the HMAC key is unusable ({what}): user ids will be dropped, never stored "
                  "in clear; pass a non-empty bytes key or set privacy.hmac_key",
                  covers=(USER_IDS_DROPPED,))
    return None


@dataclass
class Setup:
    """The configuration the SDK uses, where it came from, and what went wrong loading it."""

    config: Config
    source: str  # "defaults", "wrap(config=…)" or the file's path
    file: Path | None = None  # the file read (relative paths in it resolve against its folder)
    problem: str | None = None  # why the defaults replaced it
    _key: list[bytes | None] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        """True when the application chose a configuration (argument or environment)."""
        return self.source != "defaults"

    def hmac_key(self, given: object = None) -> bytes | None:
        """``given`` when passed, else the resolved ``privacy.hmac_key`` (None when unusable:
        one warning, and user ids are then dropped)."""
        if given is not None:
            return usable_hmac_key(given)
        if not self._key:
            self._key.append(self._resolve_key())
        return self._key[0]

    def _resolve_key(self) -> bytes | None:
        ref = self.config.privacy.hmac_key
        if not ref:
            return None
        from cascadeflow_cloud.secrets import resolve_secret

        try:
            return usable_hmac_key(resolve_secret(ref))
        except Exception as exc:  # SecretError, or a secret store that cannot be reached
            warn_once(f"privacy.hmac_key {ref} could not be resolved ({exc}): user ids will be "
                      f"dropped, never stored in clear; fix the reference in {self.source}",
                      covers=(USER_IDS_DROPPED,))
            return None


def defaults() -> Config:
    """The built-in defaults; ``$CASCADEFLOW_STORE`` chooses the store."""
    from cascadeflow_cloud.config import STORE_ENV, Config, env

    store = env(STORE_ENV)
    return Config(store=store) if store else Config()


def load(config: Config | str | os.PathLike[str] | None) -> Setup:
    """The ``Setup`` for ``wrap(config=...)`` (lookup order above); cached, never raises."""
    from cascadeflow_cloud.config import CONFIG_ENV, STORE_ENV, Config, env

    if isinstance(config, Config):
        return Setup(config, "wrap(config=…)")
    chosen = os.fspath(config) if config is not None else env(CONFIG_ENV)
    key = ("file", os.path.abspath(chosen)) if chosen else ("defaults", env(STORE_ENV))
    with _lock:
        hit = _loaded.get(key)
    if hit is None:
        hit = _from_file(Path(os.path.abspath(chosen))) if chosen else Setup(defaults(), "defaults")
        with _lock:
            hit = _loaded.setdefault(key, hit)
    return hit


def _from_file(path: Path) -> Setup:
    from cascadeflow_cloud.config import load_config

    try:
        return Setup(load_config(path), str(path), path)
    except Exception as exc:  # ConfigError (unreadable, not YAML, invalid), or anything else
        problems = getattr(exc, "problems", None) or [f"{type(exc).__name__}: {exc}"]
        more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
        return Setup(defaults(), str(path), path,
                     f"configuration {path} is unusable ({problems[0]}{more}), so the SDK uses "
                     "its defaults; fix the file or CASCADEFLOW_CONFIG")


def unread_cwd_config() -> str:
    """A hint when ``./cascadeflow.yaml`` exists but is not read by the SDK ("" otherwise)."""
    from cascadeflow_cloud.config import DEFAULT_CONFIG_FILE

    try:
        present = Path(DEFAULT_CONFIG_FILE).is_file()
    except OSError:
        present = False
    if not present:
        return ""
    return (f" (./{DEFAULT_CONFIG_FILE} in the working directory is not read by the SDK: "
            "point CASCADEFLOW_CONFIG at it)")
