{{ config(meta={'rewatch_publish': 'apply'}) }}

with

changes as (

    select * from {{ ref('int_run_changes') }}

),

changed_household_titles as (

    select distinct
        household_id,
        title_id

    from changes

),

-- The changed pairs' sessions and cycles as they stand once this run is published. Each is read
-- twice below, and DuckDB keeps a CTE read twice in memory: so only the changed pairs' rows, not
-- the whole history's. Trailers, hooks and recaps are no viewing of a title.
pair_sessions as (

    select sessions.*
    from {{ after_run('published', 'fct_viewing_sessions', ['session_id']) }} as sessions
    semi join changed_household_titles
        on
            sessions.household_id = changed_household_titles.household_id
            and sessions.title_id = changed_household_titles.title_id
    where sessions.supplemental_type is null

),

pair_cycles as (

    select cycles.*
    from {{ after_run('published', 'fct_watch_cycles', ['cycle_id']) }} as cycles
    semi join changed_household_titles
        on
            cycles.household_id = changed_household_titles.household_id
            and cycles.title_id = changed_household_titles.title_id

),

household_sessions as (

    select
        sessions.household_id,
        sessions.title_id,
        count(distinct sessions.profile_id) as profile_count,
        count(*) as session_count,
        sum(sessions.played_seconds) as played_seconds,
        min(sessions.started_at) filter (where sessions.is_view) as first_viewed_at,
        min(sessions.local_date) filter (where sessions.is_view) as first_viewed_local_date,
        {{ daypart_session_counts('sessions.daypart') }}

    from pair_sessions as sessions

    group by sessions.household_id, sessions.title_id

),

-- Habits: the local days the household viewed the title (its sessions' local dates), and the
-- weekdays on which it viewed both before and after school.
household_days as (

    select
        sessions.household_id,
        sessions.title_id,
        sessions.local_date,
        bool_or(sessions.daypart = 'before_school') as has_view_before_school,
        bool_or(sessions.daypart = 'after_school') as has_view_after_school

    from pair_sessions as sessions
    where
        sessions.is_view
        and sessions.local_date is not null

    group by sessions.household_id, sessions.title_id, sessions.local_date

),

household_viewing_habits as (

    select
        household_id,
        title_id,
        count(*) as days_viewed,
        -- before_school and after_school are weekday dayparts (docs/metrics.md, "Local time").
        count(*) filter (where has_view_before_school and has_view_after_school) as school_days_before_and_after

    from household_days

    group by household_id, title_id

),

completed_cycles as (

    select
        cycles.household_id,
        cycles.title_id,
        cycles.completed_at,
        cycles.completed_local_date,
        lead(cycles.completed_at) over (
            partition by cycles.household_id, cycles.title_id
            order by cycles.completed_at, cycles.cycle_id
        ) as next_completed_at

    from pair_cycles as cycles
    where cycles.is_completed

),

completion_days as (

    select
        household_id,
        title_id,
        completed_local_date,
        count(*) as completions

    from completed_cycles

    group by household_id, title_id, completed_local_date

),

household_completion_habits as (

    select
        completion_days.household_id,
        completion_days.title_id,
        count(*) filter (where completion_days.completed_local_date is not null) as days_completed,
        max(completion_days.completions) filter (
            where completion_days.completed_local_date is not null
        ) as max_completions_in_a_day

    from completion_days

    group by completion_days.household_id, completion_days.title_id

),

completion_gaps as (

    select
        household_id,
        title_id,
        median(epoch(next_completed_at - completed_at) / 86400.0) as median_days_between_completions

    from completed_cycles

    where next_completed_at is not null

    group by household_id, title_id

),

household_completions as (

    select
        cycles.household_id,
        cycles.title_id,
        count(*) filter (where cycles.is_completed) as completions,
        min(cycles.completed_at) as first_completed_at,
        min(cycles.completed_local_date) as first_completed_local_date,
        max(cycles.completed_at) as last_completed_at

    from pair_cycles as cycles

    group by cycles.household_id, cycles.title_id

),

rewatches as (

    select
        household_sessions.household_id,
        household_sessions.title_id,
        coalesce(household_completions.completions, 0) as completions,
        greatest(coalesce(household_completions.completions, 0) - 1, 0) as rewatches,
        coalesce(household_completions.completions, 0) >= 2 as is_repeat_household,
        household_sessions.profile_count,
        household_sessions.first_viewed_at,
        household_sessions.first_viewed_local_date,
        household_completions.first_completed_at,
        household_completions.first_completed_local_date,
        household_completions.last_completed_at,
        household_sessions.played_seconds,
        household_sessions.session_count,
        {{ daypart_session_columns('household_sessions', null_as_zero=false) }},
        coalesce(household_viewing_habits.days_viewed, 0) as days_viewed,
        coalesce(household_completion_habits.days_completed, 0) as days_completed,
        coalesce(household_completion_habits.max_completions_in_a_day, 0) as max_completions_in_a_day,
        coalesce(household_viewing_habits.school_days_before_and_after, 0) as school_days_before_and_after,
        completion_gaps.median_days_between_completions

    from household_sessions
    left join household_completions
        on
            household_sessions.household_id = household_completions.household_id
            and household_sessions.title_id = household_completions.title_id
    left join household_viewing_habits
        on
            household_sessions.household_id = household_viewing_habits.household_id
            and household_sessions.title_id = household_viewing_habits.title_id
    left join household_completion_habits
        on
            household_sessions.household_id = household_completion_habits.household_id
            and household_sessions.title_id = household_completion_habits.title_id
    left join completion_gaps
        on
            household_sessions.household_id = completion_gaps.household_id
            and household_sessions.title_id = completion_gaps.title_id

)

select * from rewatches
