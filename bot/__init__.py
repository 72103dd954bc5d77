"""plcbot's platform-neutral core.

Nothing in this package imports a chat platform's SDK: adapters translate their platform's
requests into :mod:`bot.events` and render :mod:`bot.messages` back (a test enforces this).
"""
