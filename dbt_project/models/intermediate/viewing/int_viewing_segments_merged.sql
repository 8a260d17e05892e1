{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_changed_since(['profile_id', 'device_id', 'title_id'], 'session_started_at', ref('int_run_changes'), 'recompute_from') }}",
    )
}}

-- The content each session covered: every counted pair covers
-- [position, position + played seconds]; overlapping pieces merged per session.
with

events as (

    select * from {{ ref('int_playback_events_sessionized') }}

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

)

select * from segments_merged
