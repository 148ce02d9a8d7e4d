"""The edges of groeiruimte: settings, persistence, projections, the HTTP API, auth and the CLI."""
