-- The sessions this run wrote: each changed stream's sessions from its recompute point.
with

sessions as (

    select * from {{ ref('fct_viewing_sessions') }}

),

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

dim_titles as (

    select * from {{ ref('dim_titles') }}

),

-- dim_titles keeps a row per catalog version: a title is in it when any version is.
titles_in_dim_titles as (

    select distinct title_id
    from dim_titles

),

sessions_written as (

    select
        sessions.*,
        titles.runtime_seconds as title_runtime_seconds,
        titles_in_dim_titles.title_id is not null as is_title_in_dim_titles,

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

    left join titles_in_dim_titles
        on sessions.title_id = titles_in_dim_titles.title_id

)

select * from sessions_written
