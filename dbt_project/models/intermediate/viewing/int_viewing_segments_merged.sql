{{ config(meta={'rewatch_publish': 'apply', 'rewatch_partition_by': 'session_started_at'}) }}

-- The content each session covered: every counted pair covers
-- [position, position + played seconds]; overlapping pieces merged per session. A
-- viewing-activity session covers one segment, [Bookmark - Duration, Bookmark].
with

events as (

    select * from {{ ref('int_events_this_run') }}

),

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

activity_sessions as (

    select * from {{ ref('int_viewing_activity_sessions') }}

),

pieces as (

    select
        session_id,
        profile_id,
        device_id,
        title_id,
        min(event_at) over (partition by session_id) as session_started_at,
        position_seconds as piece_start_seconds,
        position_seconds + played_seconds as piece_end_seconds

    from events
    where played_seconds > 0

),

pieces_ordered as (

    select
        *,
        max(piece_end_seconds) over (
            partition by session_id
            order by piece_start_seconds, piece_end_seconds
            rows between unbounded preceding and 1 preceding
        ) as previous_reach_seconds

    from pieces

),

segments_numbered as (

    select
        *,
        sum(
            case
                when previous_reach_seconds is null or piece_start_seconds > previous_reach_seconds then 1 else 0
            end
        ) over (
            partition by session_id
            order by piece_start_seconds, piece_end_seconds
            rows between unbounded preceding and current row
        ) as segment_number

    from pieces_ordered

),

segments_merged as (

    select
        session_id,
        any_value(profile_id) as profile_id,
        any_value(device_id) as device_id,
        any_value(title_id) as title_id,
        any_value(session_started_at) as session_started_at,
        segment_number,
        min(piece_start_seconds) as segment_start_seconds,
        max(piece_end_seconds) as segment_end_seconds

    from segments_numbered

    group by session_id, segment_number

),

activity_segments as (

    select
        activity_sessions.session_id,
        activity_sessions.profile_id,
        activity_sessions.device_id,
        activity_sessions.title_id,
        activity_sessions.started_at as session_started_at,
        1 as segment_number,
        activity_sessions.start_position_seconds as segment_start_seconds,
        activity_sessions.end_position_seconds as segment_end_seconds

    from activity_sessions
    inner join changed_streams
        on
            activity_sessions.profile_id = changed_streams.profile_id
            and activity_sessions.device_id = changed_streams.device_id
            and activity_sessions.title_id = changed_streams.title_id
            and activity_sessions.started_at >= changed_streams.recompute_from
    where activity_sessions.end_position_seconds > activity_sessions.start_position_seconds

),

segments as (

    select * from segments_merged
    union all
    select * from activity_segments

)

select * from segments
