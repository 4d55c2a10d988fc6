"""Views of notices: ``public`` (what residents and visitors see, and the Atom feed) and
``console`` (the staff console, every view behind the staff gate)."""
