"""Board and chip layouts, installed as the package data `bundler.layouts` (see setup.py and bundler/layout.py)."""
