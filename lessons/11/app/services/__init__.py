"""Business rules: open an account, deposit, transfer.

Services raise domain errors, never HTTP errors."""
