"""Cross-cutting parts every layer may use: settings, logging, security helpers."""
