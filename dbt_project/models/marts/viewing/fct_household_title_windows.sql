{{ config(meta={'rewatch_publish': 'apply'}) }}

-- Per household, title and launch window: did it view, how many completions, how long; and the
-- same split by audience (kids and other profiles: docs/metrics.md, "Audiences").
-- Windows count local days from the title's release date; `lifetime` has no bounds.
with

changes as (

    select * from {{ ref('int_run_changes') }}

),

sessions as (

    select * from {{ after_run('published', 'fct_viewing_sessions', ['session_id']) }}

),

cycles as (

    select * from {{ after_run('published', 'fct_watch_cycles', ['cycle_id']) }}

),

profiles as (

    select * from {{ ref('int_profiles_current') }}

),

window_bounds as (

    select * from {{ ref('int_title_windows') }}

),

changed_household_titles as (

    select distinct
        household_id,
        title_id

    from changes

),

session_windows as (

    select
        sessions.household_id,
        sessions.title_id,
        window_bounds.window_name,
        bool_or(sessions.is_view) as has_view,
        bool_or(sessions.is_view and sessions.is_kids_profile) as has_kids_view,
        bool_or(sessions.is_view and not sessions.is_kids_profile) as has_non_kids_view,
        sum(sessions.played_seconds) as played_seconds

    from sessions
    inner join changed_household_titles
        on
            sessions.household_id = changed_household_titles.household_id
            and sessions.title_id = changed_household_titles.title_id
    inner join window_bounds
        on
            sessions.title_id = window_bounds.title_id
            and (window_bounds.window_start_date is null or sessions.local_date >= window_bounds.window_start_date)
            and (window_bounds.window_end_date is null or sessions.local_date <= window_bounds.window_end_date)
    -- Title metrics leave out trailers, hooks and recaps.
    where sessions.supplemental_type is null

    group by sessions.household_id, sessions.title_id, window_bounds.window_name

),

completion_windows as (

    select
        cycles.household_id,
        cycles.title_id,
        window_bounds.window_name,
        count(*) as completions,
        count(*) filter (where {{ is_kids('profiles.is_kids_profile') }}) as kids_completions

    from cycles
    inner join changed_household_titles
        on
            cycles.household_id = changed_household_titles.household_id
            and cycles.title_id = changed_household_titles.title_id
    inner join window_bounds
        on
            cycles.title_id = window_bounds.title_id
            and (
                window_bounds.window_start_date is null
                or cycles.completed_local_date >= window_bounds.window_start_date
            )
            and (window_bounds.window_end_date is null or cycles.completed_local_date <= window_bounds.window_end_date)
    left join profiles
        on cycles.profile_id = profiles.profile_id
    where cycles.is_completed

    group by cycles.household_id, cycles.title_id, window_bounds.window_name

),

household_title_windows as (

    select
        coalesce(session_windows.household_id, completion_windows.household_id) as household_id,
        coalesce(session_windows.title_id, completion_windows.title_id) as title_id,
        coalesce(session_windows.window_name, completion_windows.window_name) as window_name,
        coalesce(session_windows.has_view, false) as has_view,
        coalesce(completion_windows.completions, 0) as completions,
        coalesce(session_windows.played_seconds, 0) as played_seconds,
        coalesce(session_windows.has_kids_view, false) as has_kids_view,
        coalesce(completion_windows.kids_completions, 0) as kids_completions,
        coalesce(session_windows.has_non_kids_view, false) as has_non_kids_view,
        coalesce(completion_windows.completions, 0) - coalesce(completion_windows.kids_completions, 0)
            as non_kids_completions

    from session_windows
    full outer join completion_windows
        on
            session_windows.household_id = completion_windows.household_id
            and session_windows.title_id = completion_windows.title_id
            and session_windows.window_name = completion_windows.window_name

)

select * from household_title_windows
