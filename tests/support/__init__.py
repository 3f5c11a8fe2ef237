"""Test support shared by every test folder: ``http`` (the one local HTTP server), ``tls``,
``totals`` (a lake's per-day cost beside the fixture rows')."""
