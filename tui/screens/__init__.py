"""Screens: the debugger (main screen), the key help, and the one-line prompts."""
