-- The streams this run recomputes and, per stream, from when: everything the run delivers,
-- replaces or re-derives, compared with the published warehouse (never with the tables this
-- build is changing, so the order dbt builds in does not matter).
with

delivery_changes as (

    select * from {{ ref('int_run_delivery_changes') }}

),

dimension_changes as (

    select * from {{ ref('int_run_dimension_changes') }}

),

activity_changes as (

    select * from {{ ref('int_run_activity_changes') }}

),

published_sessions as (

    select * from {{ source('published', 'fct_viewing_sessions') }}

),

changed_events as (

    select * from delivery_changes
    union all
    select * from dimension_changes
    union all
    select * from activity_changes

),

stream_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(changed_from) as changed_from

    from changed_events

    group by household_id, profile_id, device_id, title_id

),

-- A change can extend the session before it (a late event within 30 minutes of its end, a
-- removed stop): recompute each stream from the start of the last session starting at or
-- before its earliest change, when that session ends within the session gap of the change.
-- Sessions starting earlier end before that, and a session ending longer ago is separated
-- from the change by more than the gap: neither can change. (Without that last condition, a
-- child's return to a film after months would recompute the months between.)
changed as (

    select
        stream_changes.household_id,
        stream_changes.profile_id,
        stream_changes.device_id,
        stream_changes.title_id,
        coalesce(max(published_sessions.started_at), stream_changes.changed_from) as recompute_from

    from stream_changes
    left join published_sessions
        on
            stream_changes.profile_id = published_sessions.profile_id
            and stream_changes.device_id = published_sessions.device_id
            and stream_changes.title_id = published_sessions.title_id
            and published_sessions.started_at <= stream_changes.changed_from
            and published_sessions.ended_at
            >= stream_changes.changed_from - interval ({{ var('rewatch__session_gap_minutes') }}) minute

    group by
        stream_changes.household_id,
        stream_changes.profile_id,
        stream_changes.device_id,
        stream_changes.title_id,
        stream_changes.changed_from

),

-- One recompute point per stream (a stream's events may name more than one household).
changed_streams as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(recompute_from) over (partition by profile_id, device_id, title_id) as recompute_from

    from changed

)

select distinct * from changed_streams
