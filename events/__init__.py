"""The domain of groeiruimte: events, commands, the lead's state and its decide/evolve logic.

Pure Python and Pydantic: no I/O, safe inside the Temporal workflow sandbox.
"""
