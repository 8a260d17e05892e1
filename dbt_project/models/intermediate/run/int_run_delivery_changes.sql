-- Streams whose events this run's deliveries add, replace or may re-rank, from the earliest.
with

night_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at

    from {{ ref('stg_exports__playback_events') }}

),

published_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at,
        export_date

    from {{ source('published_intermediate', 'int_playback_events') }}

),

-- A re-delivered night replaces what it delivered before: those streams change too.
replaced_deliveries as (

    select
        event_id,
        household_id,
        profile_id,
        device_id,
        title_id,
        event_at

    from published_deliveries
    where export_date in ({{ run_nights() }})

),

touched_deliveries as (

    select * from night_deliveries
    union all
    select * from replaced_deliveries

),

-- First delivery wins across nights: every delivery of a touched event_id may change winner.
same_event_deliveries as (

    select
        published_deliveries.event_id,
        published_deliveries.household_id,
        published_deliveries.profile_id,
        published_deliveries.device_id,
        published_deliveries.title_id,
        published_deliveries.event_at

    from published_deliveries
    where published_deliveries.event_id in (select touched_deliveries.event_id from touched_deliveries)

),

changed_deliveries as (

    select * from touched_deliveries
    union all
    select * from same_event_deliveries

),

stream_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(event_at) as changed_from

    from changed_deliveries

    group by household_id, profile_id, device_id, title_id

)

select * from stream_changes
