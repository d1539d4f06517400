### BEGIN SOLUTION create the package app/services/ with a docstring that says what it holds (step 2)
"""Business rules: open an account, deposit, transfer.

Services raise domain errors, never HTTP errors."""
### END SOLUTION
