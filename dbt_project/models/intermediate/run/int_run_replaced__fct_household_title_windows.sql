-- This run only: the published fct_household_title_windows rows this run replaces (the windows of
-- the households and titles this run changes).
{{ replaced_rows(
    source('published', 'fct_household_title_windows'),
    ['household_id', 'title_id'],
    ref('int_run_changes'),
    ['household_id', 'title_id']
) }}
