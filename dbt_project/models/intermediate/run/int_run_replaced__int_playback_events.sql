-- This run only: the published int_playback_events rows this run replaces (the deliveries of the
-- nights this run (re)processes).
{{ replaced_rows(
    source('published_intermediate', 'int_playback_events'),
    ['export_date'],
    ref('int_nights_processed'),
    ['export_date']
) }}
