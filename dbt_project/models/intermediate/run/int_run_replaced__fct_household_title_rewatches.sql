-- This run only: the published fct_household_title_rewatches rows this run replaces (the households
-- and titles this run changes).
{{ replaced_rows(
    source('published', 'fct_household_title_rewatches'),
    ['household_id', 'title_id'],
    ref('int_run_changes'),
    ['household_id', 'title_id']
) }}
