"""Demo data: invented leads driven through the real HTTP API, and the demo users of development."""
