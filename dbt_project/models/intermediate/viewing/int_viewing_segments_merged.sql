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

-- One sort of a session's pieces (by start): the reach of the pieces before each one (a piece
-- past it starts a segment) and the next piece's start (a piece it does not reach ends one).
pieces_ordered as (

    select
        *,
        max(piece_end_seconds) over (
            partition by session_id
            order by piece_start_seconds, piece_end_seconds
            rows between unbounded preceding and 1 preceding
        ) as previous_reach_seconds,
        lead(piece_start_seconds) over (
            partition by session_id
            order by piece_start_seconds, piece_end_seconds
        ) as next_piece_start_seconds

    from pieces

),

pieces_reach as (

    select
        *,
        greatest(piece_end_seconds, coalesce(previous_reach_seconds, piece_end_seconds)) as reach_seconds

    from pieces_ordered

),

segment_bounds as (

    select
        *,
        previous_reach_seconds is null or piece_start_seconds > previous_reach_seconds as is_segment_start,
        next_piece_start_seconds is null or next_piece_start_seconds > reach_seconds as is_segment_end

    from pieces_reach

),

-- Only the pieces that start or end a segment, a few per session, are sorted again: a segment
-- that its first piece does not end ends at the next of them, reaching as far as that one does.
bounds_paired as (

    select
        *,
        case
            when is_segment_end then reach_seconds
            else lead(reach_seconds) over session_bounds
        end as segment_end_seconds,
        sum(case when is_segment_start then 1 else 0 end) over (
            partition by session_id
            order by piece_start_seconds, piece_end_seconds
            rows between unbounded preceding and current row
        ) as segment_number

    from segment_bounds
    where is_segment_start or is_segment_end

    window session_bounds as (
        partition by session_id
        order by piece_start_seconds, piece_end_seconds
    )

),

segments_merged as (

    select
        session_id,
        profile_id,
        device_id,
        title_id,
        session_started_at,
        segment_number,
        piece_start_seconds as segment_start_seconds,
        segment_end_seconds

    from bounds_paired
    where is_segment_start

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
