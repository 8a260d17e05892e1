-- Only this run's nights: the warehouse keeps every delivery in int_playback_events.
with

source as (

    select * from {{ source('exports', 'playback_events') }}

),

renamed as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        device_type,
        title_id,
        event_type,
        event_ts as event_at,
        position_seconds,
        received_at,
        export_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
