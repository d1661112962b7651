"""The browser fixtures (``browser``, ``page``, ``login``) live in tests/conftest.py, shared
by every package: one Chromium per test session."""
