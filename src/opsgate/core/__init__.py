"""Services on top of the ports: dispatcher, request lifecycle, built-in commands."""
