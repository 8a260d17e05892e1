-- The sessions this run wrote: each changed stream's sessions from its recompute point.
with

sessions as (

    select * from {{ ref('fct_viewing_sessions') }}

),

changes as (

    select * from {{ ref('int_run_changes') }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

changed_streams as (

    select
        profile_id,
        device_id,
        title_id,
        min(recompute_from) as recompute_from

    from changes

    group by profile_id, device_id, title_id

),

sessions_written as (

    select
        sessions.*,
        titles.runtime_seconds as title_runtime_seconds,

        epoch(sessions.ended_at - sessions.started_at) as wall_clock_seconds

    from sessions

    inner join changed_streams
        on
            sessions.profile_id = changed_streams.profile_id
            and sessions.device_id = changed_streams.device_id
            and sessions.title_id = changed_streams.title_id
            and sessions.started_at >= changed_streams.recompute_from

    left join titles
        on sessions.title_id = titles.title_id

)

select * from sessions_written
