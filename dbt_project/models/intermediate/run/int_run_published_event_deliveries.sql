-- This run only: every published delivery of each event (event_id and event_at) this run's
-- deliveries add or replace. The one lookup of the published deliveries, kept apart from the
-- night's own deliveries (int_run_event_deliveries adds them, as a view): a table of the night's
-- every delivery cost a write of the whole night.

with

night_deliveries as (

    select
        event_id,
        event_at

    from {{ ref('stg_exports__playback_events') }}

),

-- Not materialized: DuckDB would otherwise copy the whole published table once for the two
-- reads below, instead of pushing each one's filters into the lake's files.
published_deliveries as not materialized (

    select
        {{ delivery_columns() | join(', ') }},
        -- A re-delivered night replaces what it delivered before.
        export_date in ({{ run_nights() }}) as is_replaced

    from {{ source('published_intermediate', 'int_playback_events') }}

),

touched_events as (

    select
        event_id,
        event_at

    from night_deliveries

    union all

    select
        event_id,
        event_at

    from published_deliveries
    where is_replaced

),

-- Every published delivery of a touched event (its event_id and event_at, docs/metrics.md):
-- the replaced ones, and those whose rank the night's deliveries may change. Matching on
-- event_at too keeps this lookup to the published files of the touched events' times, not the
-- whole history.
published_event_deliveries as (

    select published_deliveries.*
    from published_deliveries
    semi join touched_events
        on
            published_deliveries.event_id = touched_events.event_id
            and published_deliveries.event_at = touched_events.event_at

)

select * from published_event_deliveries
