"""The Textual application: the debugger screen, its widgets, commands and themes wiring.

Entry points: :func:`trace_tui.tui.app.build_app` (the factory the CLI, tests and the
benchmark use) and :func:`trace_tui.tui.launch.run_app` (the CLI's ``open``/``tail``).
"""
