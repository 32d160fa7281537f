"""Health: is the server up and its database reachable."""
