"""Page elements whose rendered text is written as is, never compiled again as a template.

branca's :meth:`MacroElement.render <branca.element.MacroElement.render>` renders an element's
macros and then wraps each result in ``Element(text)``, which compiles ``text`` as a *Jinja
template* and renders it a second time. Anything a macro inserted (a desa name, a title, a
tooltip alias) thus becomes template source: ``Desa {{7*7}}`` showed as ``Desa 49``, a longer
name could run code while the map was built, and ``{#`` ended in a ``TemplateSyntaxError``.

Every element povmap puts on a map inherits :class:`InertMacroElement`, which renders the macros
once (values enter them through ``{{ ... }}`` as data, escaped for their context by the element)
and adds the result to the page as a :class:`Literal`.
"""

from __future__ import annotations

import folium
from branca.element import Element, Figure, MacroElement

__all__ = ["InertMacroElement", "InertPopup", "InertTooltip", "Literal"]


class Literal(Element):
    """Text that is already rendered: :meth:`render` returns it unchanged (no template)."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: object) -> str:
        """The text, as given."""
        return self.text


class InertMacroElement(MacroElement):
    """A :class:`~branca.element.MacroElement` whose macro output is never re-parsed.

    List it after a folium base class (``class X(folium.GeoJson, InertMacroElement)``): the base
    class's own ``render`` runs first and its ``super().render()`` then lands here instead of in
    branca's version.
    """

    def render(self, **kwargs: object) -> None:  # type: ignore[override]  # renders in place
        """Render the ``header``, ``html`` and ``script`` macros once, as literal page parts."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{type(self).__name__} can only be rendered inside a Figure.")
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(
                    Literal(str(macro(self, kwargs))), name=self.get_name()
                )
        for element in self._children.values():
            element.render(**kwargs)


class InertTooltip(folium.GeoJsonTooltip, InertMacroElement):
    """:class:`folium.GeoJsonTooltip` whose aliases (column labels) stay data."""


class InertPopup(folium.GeoJsonPopup, InertMacroElement):
    """:class:`folium.GeoJsonPopup` whose aliases (column labels) stay data."""
