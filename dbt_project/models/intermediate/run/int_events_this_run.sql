-- This run only: the events of the changed streams from their recompute points, in sessions.
-- The earliest recompute point, as a constant (run_bound): both reads of the lake below start there.
{%- set recomputed_from = run_bound(ref('int_run_changed_streams'), 'min(recompute_from)') %}
with

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

-- Only deliveries from the earliest recompute point on: every event this run reads is that
-- late or later. The bound is a constant (run_bound), so DuckDB pushes it into the lake's scan,
-- which skips the files and row groups of earlier times (their event_at statistics): a night
-- reads the published deliveries of the times it recomputes, not the whole history.
deliveries as (

    select *
    from {{ after_run('published_intermediate', 'int_playback_events', ['export_date']) }}
    where event_at >= {{ recomputed_from }}

),

-- The deliveries of those times that first delivery wins leaves out (int_playback_events_superseded).
superseded_deliveries as (

    select *
    from {{ after_run('published_intermediate', 'int_playback_events_superseded', ['event_id', 'event_at']) }}
    where event_at >= {{ recomputed_from }}

),

stream_deliveries as (

    select deliveries.*
    from deliveries
    inner join changed_streams
        on
            deliveries.profile_id = changed_streams.profile_id
            and deliveries.device_id = changed_streams.device_id
            and deliveries.title_id = changed_streams.title_id
            and deliveries.event_at >= changed_streams.recompute_from

),

-- One delivery per event: its first (earliest export night, then file and line).
events as (

    select stream_deliveries.*
    from stream_deliveries
    anti join superseded_deliveries
        on
            stream_deliveries.event_id = superseded_deliveries.event_id
            and stream_deliveries.event_at = superseded_deliveries.event_at
            and stream_deliveries.export_date = superseded_deliveries.export_date
            and stream_deliveries.source_file = superseded_deliveries.source_file
            and stream_deliveries.source_line = superseded_deliveries.source_line

),

-- A stream is one profile watching one title on one device. Each event's neighbours in it: the
-- event before decides whether this one starts a session, the event after whether the session
-- goes on. One sort of the stream's events for both, and one more for the running session
-- start below (three sorts before: a session's next event came from a second window per session).
stream_neighbours as (

    select
        *,
        lag(event_at) over stream_order as previous_event_at,
        lag(event_type) over stream_order as previous_event_type,
        lead(event_at) over stream_order as following_event_at,
        lead(position_seconds) over stream_order as following_position_seconds

    from events

    window stream_order as (
        partition by profile_id, device_id, title_id
        order by event_at, event_id
    )

),

-- A session starts after a gap longer than the session gap, or after a stop; the following event
-- continues this one's session unless it starts one by that same rule.
session_starts_flagged as (

    select
        *,
        previous_event_at is null
        or event_at - previous_event_at > interval ({{ var('rewatch__session_gap_minutes') }}) minute
        or previous_event_type = 'stop' as is_session_start,
        following_event_at is not null
        and not (
            following_event_at - event_at > interval ({{ var('rewatch__session_gap_minutes') }}) minute
            or event_type = 'stop'
        ) as is_session_continued

    from stream_neighbours

),

-- A session is named by its first event: each event carries the id of the last session start
-- at or before it. The id is hashed on the session starts only (a CASE evaluates its branch for
-- the rows it selects), not on every event: a thirtieth of the hashing.
session_neighbours as (

    select
        *,
        last_value(
            case
                when is_session_start
                    then md5('session|' || event_id || '|' || strftime(event_at, '%Y-%m-%d %H:%M:%S.%f'))
            end ignore nulls
        ) over stream_so_far as session_id,
        case when is_session_continued then following_event_at end as next_event_at,
        case when is_session_continued then following_position_seconds end as next_position_seconds

    from session_starts_flagged

    window stream_so_far as (
        partition by profile_id, device_id, title_id
        order by event_at, event_id
        rows between unbounded preceding and current row
    )

),

-- Played seconds of the pair (this event -> next event of the same session), counted when
-- this event leaves the player playing: the lesser of wall-clock time and forward progress.
played_seconds_counted as (

    select
        session_id,
        event_id,
        household_id,
        profile_id,
        device_id,
        device_type,
        title_id,
        event_type,
        event_at,
        position_seconds,
        export_date,
        next_event_at,
        case
            when
                next_event_at is not null
                and event_type in ({{ quoted_list(var('rewatch__playing_event_types')) }})
                then least(
                    epoch(next_event_at - event_at),
                    greatest(next_position_seconds - position_seconds, 0)
                )
            else 0
        end as played_seconds

    from session_neighbours

)

select * from played_seconds_counted
