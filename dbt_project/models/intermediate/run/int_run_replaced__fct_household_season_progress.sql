-- This run only: the published fct_household_season_progress rows this run replaces (the
-- household seasons it may change: int_run_changed_household_seasons).
{{ replaced_rows(
    source('published', 'fct_household_season_progress'),
    ['household_id', 'series_title', 'season_number'],
    ref('int_run_changed_household_seasons'),
    ['household_id', 'series_title', 'season_number']
) }}
