"""Test support shared by every test folder: ``http`` (the one local HTTP server)."""
