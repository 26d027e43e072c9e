"""The session's controllers, one per concern: queries (``query.py``), the map (``projection.py``) and
the gallery with its engine (``gallery.py``). Each turns intents into work on the workers and writes the
outcome into :class:`posebrowser.gui.session_state.SessionState`; none imports a widget."""
