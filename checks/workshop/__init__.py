"""The Ledger workshop engine: grading plugin, CLI and starter generator."""
