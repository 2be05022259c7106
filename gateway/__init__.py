"""The node shell: configuration, CLI, web app assembly, database, audit log, API clients.

The only package that wires the protocol packages together; they never import it.
"""
