"""Allows ``python -m ldn_site``; the CLI lives in :mod:`ldn_site.cli`."""

from ldn_site.cli import main

main()
