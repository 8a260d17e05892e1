-- This run only: the published fct_watch_cycles rows this run replaces (the changed pairs' cycles
-- from their recompute points).
{{ replaced_rows(
    source('published', 'fct_watch_cycles'),
    ['cycle_id'],
    ref('int_run_changed_pairs'),
    ['profile_id', 'title_id'],
    time_column='started_at',
    from_column='cycles_from'
) }}
