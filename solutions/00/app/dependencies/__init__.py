### BEGIN SOLUTION create the package app/dependencies/ with a docstring that says what it holds (step 2)
"""Dependencies the routers ask for: the request's session, the services, later the current user."""
### END SOLUTION
