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

-- Not materialized: DuckDB would otherwise copy the whole published table once for the two
-- reads below, instead of pushing each one's filters into the lake's files.
published_deliveries as not materialized (

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

-- First delivery wins across nights: every delivery of a touched event (its event_id and
-- event_at, docs/metrics.md) may change winner. Matching on event_at too keeps this lookup to
-- the published files of the touched events' times, not the whole history.
same_event_deliveries as (

    select
        published_deliveries.event_id,
        published_deliveries.household_id,
        published_deliveries.profile_id,
        published_deliveries.device_id,
        published_deliveries.title_id,
        published_deliveries.event_at

    from published_deliveries
    semi join touched_deliveries
        on
            published_deliveries.event_id = touched_deliveries.event_id
            and published_deliveries.event_at = touched_deliveries.event_at

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
