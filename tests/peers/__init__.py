"""Real local peers for the primitive layer's tests: an OAuth2 server and an HTTP API."""
