-- The language a person chose for mail and the page (a BCP 47 tag such as `fr-CA`);
-- NULL: the request's Accept-Language, else DEFAULT_LOCALE.
ALTER TABLE users ADD COLUMN locale text CHECK (length(locale) BETWEEN 2 AND 35);
