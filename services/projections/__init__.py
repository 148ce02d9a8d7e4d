"""Projections: read models built from the event log, the projector that keeps them current, queries."""
