-- This run only: the published int_viewing_segments_merged rows this run replaces (the changed
-- streams' sessions' segments from their recompute points).
{{ replaced_rows(
    source('published_intermediate', 'int_viewing_segments_merged'),
    ['session_id'],
    ref('int_run_changes'),
    ['profile_id', 'device_id', 'title_id'],
    time_column='session_started_at',
    from_column='recompute_from'
) }}
