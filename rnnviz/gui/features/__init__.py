"""Features that add menus, docks and shortcuts to the main window: each module's ``install(window)`` is
called once the window is built.
"""
