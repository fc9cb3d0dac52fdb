"""Textual's ``Footer`` that dims and undims its keys in place instead of rebuilding itself.

Textual's ``Footer`` removes and mounts all of its key widgets whenever the screen's bindings
are refreshed, and that re-layout of the whole screen costs more than everything else in a key
press on a big trace (``G`` crossing the last error greys out "Next error"). When the keys shown
are the same and only which of them can run changed, :class:`KeyFooter` sets each key's
``disabled`` (dimmed like Textual's own dimmed keys, and a click on it does nothing) on the
widgets it has; anything else goes to Textual's rebuild.

A key Textual built dimmed (its ``-disabled`` class) remembers that it was (a click on it
rings the bell), so a key that becomes available again is only undimmed in place when Textual
built it available.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget
from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

_DIMMED = "-disabled"


class KeyFooter(Footer):
    """A ``Footer`` whose key widgets are updated in place when only availability changed."""

    DEFAULT_CSS = """
    KeyFooter FooterKey:disabled { text-style: dim; }
    """

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        #: The key widgets of Textual's last rebuild, and whether each was built available
        #: (only those may be undimmed here: Textual's click handler remembers the rest).
        self._built: list[tuple[Widget, bool]] = []

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Dim or undim the keys in place when that is all that changed; else rebuild."""
        if screen is self.screen and self.is_attached and self._update_in_place(screen):
            return
        super().bindings_changed(screen)

    def _update_in_place(self, screen: Screen[object]) -> bool:
        widgets = list(self.query("FooterKey"))
        keys: dict[tuple[str, str], Widget] = {}
        for widget in widgets:
            identity = _identity(widget)
            if identity is None:
                return False
            keys[identity] = widget
        wanted = self._availability(screen)
        if not keys or len(keys) != len(widgets) or set(keys) != set(wanted):
            return False
        if [widget for widget, _ in self._built] != widgets:  # Textual rebuilt the keys
            self._built = [(widget, not widget.has_class(_DIMMED)) for widget in widgets]
        built = {id(widget): available for widget, available in self._built}
        if any(wanted[identity] and not built[id(widget)] for identity, widget in keys.items()):
            return False
        for identity, widget in keys.items():
            if built[id(widget)] and widget.disabled == wanted[identity]:
                widget.disabled = not wanted[identity]  # dimmed by DEFAULT_CSS, no clicks
        return True

    def _availability(self, screen: Screen[object]) -> dict[tuple[str, str], bool]:
        """``(key, action) -> available`` for the keys ``Footer.compose`` would show."""
        active = screen.active_bindings
        first: dict[str, tuple[str, bool]] = {}
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in first:
                first[binding.action] = (binding.key, enabled)
        wanted = {(key, action): enabled for action, (key, enabled) in first.items()}
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, _tooltip = palette
                wanted[(binding.key, binding.action)] = enabled
        return wanted


def _identity(widget: Widget) -> tuple[str, str] | None:
    """``(key, action)`` of one of the footer's key widgets (``None`` if it has no such
    attributes: another Textual version, and so a rebuild)."""
    key, action = getattr(widget, "key", None), getattr(widget, "action", None)
    return (key, action) if isinstance(key, str) and isinstance(action, str) else None
