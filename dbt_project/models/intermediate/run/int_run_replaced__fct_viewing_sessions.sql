-- This run only: the published fct_viewing_sessions rows this run replaces (the changed streams'
-- sessions from their recompute points).
{{ replaced_rows(
    source('published', 'fct_viewing_sessions'),
    ['session_id'],
    ref('int_run_changes'),
    ['profile_id', 'device_id', 'title_id'],
    time_column='started_at',
    from_column='recompute_from'
) }}
