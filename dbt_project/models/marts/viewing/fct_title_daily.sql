{{ config(meta={'rewatch_publish': 'apply'}) }}

-- The earliest date whose sessions this run recounts: a constant (run_bound), so the read of the
-- sessions skips the files of earlier dates (their local_date statistics).
{%- set recounted_from = run_bound(ref('int_run_title_dates'), 'min(local_date) filter (where has_session_change)') %}

with

title_dates as (

    select * from {{ ref('int_run_title_dates') }}

),

published_title_daily as (

    select * from {{ source('published', 'fct_title_daily') }}

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

day_sessions as (

    select sessions.*
    from sessions
    inner join title_dates
        on
            sessions.title_id = title_dates.title_id
            and sessions.local_date = title_dates.local_date
    -- Title metrics leave out trailers, hooks and recaps.
    where
        sessions.supplemental_type is null
        and title_dates.has_session_change
        and sessions.local_date >= cast({{ recounted_from }} as date)

),

day_completions as (

    select
        cycles.title_id,
        cycles.completed_local_date as local_date,
        count(*) as completions,
        count(*) filter (where {{ is_kids('profiles.is_kids_profile') }}) as kids_completions

    from cycles
    inner join title_dates
        on
            cycles.title_id = title_dates.title_id
            and cycles.completed_local_date = title_dates.local_date
    left join profiles
        on cycles.profile_id = profiles.profile_id
    where cycles.is_completed

    group by cycles.title_id, cycles.completed_local_date

),

day_viewing_recounted as (

    select
        title_id,
        local_date,
        count(distinct household_id) filter (where is_view) as starters,
        count(*) as sessions,
        count(*) filter (where is_view) as view_sessions,
        sum(played_seconds) / 3600.0 as hours_viewed,
        count(*) filter (where is_kids_profile) as kids_sessions,
        coalesce(sum(played_seconds) filter (where is_kids_profile), 0) / 3600.0 as kids_hours_viewed,
        {{ daypart_session_counts('daypart') }}

    from day_sessions

    group by title_id, local_date

),

-- The dates only recomputed completions reach keep their published session figures: none of
-- their sessions changes. A date with no session has none to keep (it had a row for its
-- completions alone).
day_viewing_kept as (

    select
        published_title_daily.title_id,
        published_title_daily.local_date,
        published_title_daily.starters,
        published_title_daily.sessions,
        published_title_daily.view_sessions,
        published_title_daily.hours_viewed,
        published_title_daily.kids_sessions,
        published_title_daily.kids_hours_viewed,
        {{ daypart_session_columns('published_title_daily', null_as_zero=false) }}

    from published_title_daily
    inner join title_dates
        on
            published_title_daily.title_id = title_dates.title_id
            and published_title_daily.local_date = title_dates.local_date
    where
        not title_dates.has_session_change
        and published_title_daily.sessions > 0

),

day_viewing as (

    select * from day_viewing_recounted
    union all by name
    select * from day_viewing_kept

),

title_daily as (

    select
        title_dates.title_id,
        title_dates.local_date,
        coalesce(day_viewing.starters, 0) as starters,
        coalesce(day_viewing.sessions, 0) as sessions,
        coalesce(day_viewing.view_sessions, 0) as view_sessions,
        coalesce(day_viewing.hours_viewed, 0) as hours_viewed,
        coalesce(day_completions.completions, 0) as completions,
        coalesce(day_viewing.kids_sessions, 0) as kids_sessions,
        coalesce(day_viewing.sessions, 0) - coalesce(day_viewing.kids_sessions, 0) as non_kids_sessions,
        coalesce(day_viewing.kids_hours_viewed, 0) as kids_hours_viewed,
        coalesce(day_viewing.hours_viewed, 0) - coalesce(day_viewing.kids_hours_viewed, 0) as non_kids_hours_viewed,
        coalesce(day_completions.kids_completions, 0) as kids_completions,
        coalesce(day_completions.completions, 0)
        - coalesce(day_completions.kids_completions, 0) as non_kids_completions,
        {{ daypart_session_columns('day_viewing') }}

    from title_dates
    left join day_viewing
        on
            title_dates.title_id = day_viewing.title_id
            and title_dates.local_date = day_viewing.local_date
    left join day_completions
        on
            title_dates.title_id = day_completions.title_id
            and title_dates.local_date = day_completions.local_date
    where day_viewing.title_id is not null or day_completions.title_id is not null

)

select * from title_daily
