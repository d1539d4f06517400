"""Ledger: a small money-transfer service, built one layer per lesson."""

__version__ = "0.1.0"
