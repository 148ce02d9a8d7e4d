"""The Dutch web UI: server-rendered pages under /ui/, a client of the app's own API."""
