-- This run only: the published int_playback_events_superseded rows this run replaces (those of
-- the events its deliveries add or replace).
{{ replaced_rows(
    source('published_intermediate', 'int_playback_events_superseded'),
    ['event_id', 'event_at'],
    ref('int_run_event_deliveries'),
    ['event_id', 'event_at'],
    time_column='event_at',
    from_column='event_at'
) }}
