-- This run only: the published fct_title_daily rows this run replaces (the titles' local dates this
-- run recomputes).
{{ replaced_rows(
    source('published', 'fct_title_daily'),
    ['title_id', 'local_date'],
    ref('int_run_title_dates'),
    ['title_id', 'local_date']
) }}
