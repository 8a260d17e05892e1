-- The streams this run recomputed, each with what the audit weighs against its sessions: the
-- seconds its counted event pairs play, and its busiest wall-clock hour.
with

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

events as (

    select * from {{ ref('int_events_this_run') }}

),

sessions_written as (

    select * from {{ ref('audit_fct_viewing_sessions') }}

),

-- A pair's played seconds fall in the hour it starts in, or, when the next event is in the
-- following hour, are shared between the two in proportion to the wall-clock time in each (a
-- pair is at most the session gap long, so it crosses at most one hour boundary).
pairs_split as (

    select
        *,
        date_trunc('hour', event_at) as hour_start,
        case
            when next_event_at is null or next_event_at <= date_trunc('hour', event_at) + interval 1 hour
                then played_seconds
            else
                played_seconds * epoch(date_trunc('hour', event_at) + interval 1 hour - event_at)
                / epoch(next_event_at - event_at)
        end as first_hour_seconds

    from events

    where played_seconds > 0

),

stream_hour_shares as (

    select
        profile_id,
        device_id,
        title_id,
        hour_start,
        first_hour_seconds as played_seconds
    from pairs_split

    union all

    select
        profile_id,
        device_id,
        title_id,
        hour_start + interval 1 hour as hour_start,
        played_seconds - first_hour_seconds as played_seconds
    from pairs_split
    where played_seconds > first_hour_seconds

),

stream_hours as (

    select
        profile_id,
        device_id,
        title_id,
        hour_start,
        sum(played_seconds) as played_seconds

    from stream_hour_shares

    group by profile_id, device_id, title_id, hour_start

),

busiest_hours as (

    select
        profile_id,
        device_id,
        title_id,
        arg_max(hour_start, played_seconds) as busiest_hour_start,
        max(played_seconds) as busiest_hour_seconds

    from stream_hours

    group by profile_id, device_id, title_id

),

event_totals as (

    select
        profile_id,
        device_id,
        title_id,
        sum(played_seconds) as event_pair_seconds

    from events

    group by profile_id, device_id, title_id

),

-- The viewing-activity feed delivers sessions, not events: only the heartbeat feed's count.
session_totals as (

    select
        profile_id,
        device_id,
        title_id,
        sum(played_seconds) as session_seconds

    from sessions_written

    where source = 'playback_events'

    group by profile_id, device_id, title_id

),

streams_weighed as (

    select
        changed_streams.profile_id,
        changed_streams.device_id,
        changed_streams.title_id,
        changed_streams.recompute_from,
        coalesce(session_totals.session_seconds, 0) as session_seconds,
        coalesce(event_totals.event_pair_seconds, 0) as event_pair_seconds,
        busiest_hours.busiest_hour_start,
        coalesce(busiest_hours.busiest_hour_seconds, 0) as busiest_hour_seconds

    from changed_streams

    left join session_totals
        on
            changed_streams.profile_id = session_totals.profile_id
            and changed_streams.device_id = session_totals.device_id
            and changed_streams.title_id = session_totals.title_id

    left join event_totals
        on
            changed_streams.profile_id = event_totals.profile_id
            and changed_streams.device_id = event_totals.device_id
            and changed_streams.title_id = event_totals.title_id

    left join busiest_hours
        on
            changed_streams.profile_id = busiest_hours.profile_id
            and changed_streams.device_id = busiest_hours.device_id
            and changed_streams.title_id = busiest_hours.title_id

)

select * from streams_weighed
