### BEGIN SOLUTION create the package app/core/ with a docstring that says what it holds (step 2)
"""Cross-cutting parts every layer may use: settings, logging, security helpers."""
### END SOLUTION
