-- This run only: the published int_nights_processed rows this run replaces (the nights this run
-- (re)processes).
{{ replaced_rows(
    source('published_intermediate', 'int_nights_processed'),
    ['export_date'],
    ref('int_nights_processed'),
    ['export_date']
) }}
