-- The viewing-activity feed's sessions of every processed night, each delivered session once.
with

deliveries as (

    select * from {{ ref('stg_exports__viewing_activity') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

night_deliveries as (

    select deliveries.*
    from deliveries
    inner join nights
        on deliveries.export_date = nights.export_date

),

-- The feed has no session id. A session is its profile, start, title and device; a start
-- saved without seconds can repeat within a file, so the occurrence in its file is part of it.
occurrences_numbered as (

    select
        *,
        row_number() over (
            partition by export_date, source_file, profile_id, started_at, title_key, device_id
            order by source_line
        ) as occurrence

    from night_deliveries

),

keyed as (

    select
        md5(
            'activity|' || profile_id || '|' || strftime(started_at, '%Y-%m-%dT%H:%M:%S') || '|' || title_key
            || '|' || device_id || '|' || cast(occurrence as varchar)
        ) as session_id,
        *

    from occurrences_numbered

),

-- First delivery wins, as for playback events: the earliest night, then file and line.
first_deliveries as (

    select *
    from keyed
    qualify row_number() over (
        partition by session_id
        order by export_date, source_file, source_line
    ) = 1

)

select * from first_deliveries
