-- Languages (issue 13): the language a person chose for their pages, and the language a wall display shows.
-- NULL: no choice, so the request's `?lang=` or the city's IOC_DEFAULT_LANGUAGE decides (docs/LANGUAGES.md).
-- The codes are the ones i18n/languages.py knows; the CHECK keeps a typo out of the table.
ALTER TABLE auth_users ADD COLUMN language text CHECK (language IN ('en', 'zh-CN', 'th'));
ALTER TABLE auth_displays ADD COLUMN language text CHECK (language IN ('en', 'zh-CN', 'th'));
