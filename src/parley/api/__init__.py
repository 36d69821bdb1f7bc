"""The HTTP edge: Genesys-shaped JSON in, a service call, Genesys-shaped JSON out."""
