"""Temporal orchestration: LeadWorkflow, its payloads and activities, the worker."""
