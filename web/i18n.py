"""Flask-Babel set-up that finds the catalogues under ``web/translations/zh_CN/``.

Babel names Simplified Chinese in China ``zh_Hans_CN``; gettext would then look for
``zh_Hans_CN/`` and ``zh/`` only. The domain below also tries ``language_territory``
(``zh_CN``), the name the catalogues carry.
"""

from __future__ import annotations

from functools import cached_property

from babel import support
from flask_babel import Babel, Domain, get_locale


class CatalogueDomain(Domain):  # type: ignore[misc]  # Flask-Babel is untyped
    """The ``messages`` domain, looked up as ``zh_Hans_CN``, ``zh_CN``, then ``zh``."""

    def get_translations(self) -> support.NullTranslations:
        """The merged catalogues of the current locale, cached per locale."""
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        key = (str(locale), self.domain[0])
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        names = [str(locale)]
        if locale.territory:
            names.append(f"{locale.language}_{locale.territory}")
        names.append(locale.language)
        translations = support.Translations()
        for dirname in self.translation_directories:
            catalog = support.Translations.load(dirname, names, self.domain[0])
            if not isinstance(catalog, support.Translations):
                continue  # no catalogue of this locale here (NullTranslations)
            translations.merge(catalog)
            if hasattr(catalog, "plural"):
                translations.plural = catalog.plural
        self.cache[key] = translations
        return translations


class CatalogueBabel(Babel):  # type: ignore[misc]
    """Flask-Babel whose default domain is a ``CatalogueDomain``."""

    @cached_property
    def domain_instance(self) -> Domain:
        """The default message domain."""
        return CatalogueDomain(domain=self.domain)
