{{ config(meta={'rewatch_publish': 'apply'}) }}

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

changed_household_titles as (

    select distinct
        household_id,
        title_id

    from changes

),

household_sessions as (

    select
        sessions.household_id,
        sessions.title_id,
        count(distinct sessions.profile_id) as profile_count,
        count(*) as session_count,
        sum(sessions.played_seconds) as played_seconds,
        {{ daypart_session_counts('sessions.daypart') }}

    from sessions
    inner join changed_household_titles
        on
            sessions.household_id = changed_household_titles.household_id
            and sessions.title_id = changed_household_titles.title_id
    -- Trailers, hooks and recaps are no viewing of a title.
    where sessions.supplemental_type is null

    group by sessions.household_id, sessions.title_id

),

household_completions as (

    select
        cycles.household_id,
        cycles.title_id,
        count(*) filter (where cycles.is_completed) as completions,
        min(cycles.completed_at) as first_completed_at,
        max(cycles.completed_at) as last_completed_at

    from cycles
    inner join changed_household_titles
        on
            cycles.household_id = changed_household_titles.household_id
            and cycles.title_id = changed_household_titles.title_id

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
        household_completions.first_completed_at,
        household_completions.last_completed_at,
        household_sessions.played_seconds,
        household_sessions.session_count,
        {{ daypart_session_columns('household_sessions', null_as_zero=false) }}

    from household_sessions
    left join household_completions
        on
            household_sessions.household_id = household_completions.household_id
            and household_sessions.title_id = household_completions.title_id

)

select * from rewatches
