{{ config(meta={'rewatch_publish': 'apply'}) }}

-- Per household, title and launch window: did it view, how many completions, how long; and the
-- same split by audience (kids and other profiles: docs/metrics.md, "Audiences").
-- Windows count local days from the title's release date; `lifetime` has no bounds.
--
-- Every figure is a count or a sum, so a changed pair's row is its published row, less what the
-- sessions and cycles this run replaces counted, plus what this run's count: a night reads the
-- sessions and cycles it changes, not the pairs' whole history. A pair whose title, household
-- time zone or profile kids flag this run changes (int_run_dimension_changes) counts otherwise
-- than before: it is counted again from all its sessions and cycles.
with

changes as (

    select * from {{ ref('int_run_changes') }}

),

dimension_changes as (

    select * from {{ ref('int_run_dimension_changes') }}

),

published_windows as (

    select * from {{ source('published', 'fct_household_title_windows') }}

),

-- The published rows this run replaces, from the earliest of them on (macros/after_run.sql).
replaced_sessions as (

    select * from {{ replaced_published_rows('published', 'fct_viewing_sessions', ['session_id'], 'started_at') }}

),

replaced_cycles as (

    select * from {{ replaced_published_rows('published', 'fct_watch_cycles', ['cycle_id'], 'started_at') }}
    where is_completed

),

-- Not materialized: read only for the pairs counted again (a semi join on an empty set, which
-- DuckDB skips on most nights, when no title, zone or kids flag changes).
sessions_after_run as not materialized (

    select * from {{ after_run('published', 'fct_viewing_sessions', ['session_id']) }}

),

cycles_after_run as not materialized (

    select * from {{ after_run('published', 'fct_watch_cycles', ['cycle_id']) }}

),

sessions_this_run as (

    select * from {{ ref('fct_viewing_sessions') }}

),

cycles_this_run as (

    select * from {{ ref('fct_watch_cycles') }}

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

recounted_household_titles as (

    select distinct
        household_id,
        title_id

    from dimension_changes

),

updated_household_titles as (

    select changed_household_titles.*
    from changed_household_titles
    anti join recounted_household_titles
        on
            changed_household_titles.household_id = recounted_household_titles.household_id
            and changed_household_titles.title_id = recounted_household_titles.title_id

),

-- Each session and completed cycle that changes a pair's figures, with the sign it counts with:
-- a recounted pair's rows after the run; an updated pair's rows this run writes, and those it
-- replaces. (Completion windows keep the completed cycles only, below.)
{%- set signed_reads = [
    ('session_changes', [('sessions_after_run', 1, 'recounted'), ('sessions_this_run', 1, 'updated'), ('replaced_sessions', -1, 'updated')]),
    ('cycle_changes', [('cycles_after_run', 1, 'recounted'), ('cycles_this_run', 1, 'updated'), ('replaced_cycles', -1, 'updated')]),
] %}
{% for changes, reads in signed_reads %}
{{ changes }} as (
    {% for rows, sign, pairs in reads %}
    select
        {{ sign }} as sign,
        {{ rows }}.*
    from {{ rows }}
    semi join {{ pairs }}_household_titles
        on
            {{ rows }}.household_id = {{ pairs }}_household_titles.household_id
            and {{ rows }}.title_id = {{ pairs }}_household_titles.title_id
    {% if not loop.last %}
    union all by name
    {% endif %}
    {%- endfor %}
),
{% endfor %}
session_windows as (

    select
        session_changes.household_id,
        session_changes.title_id,
        window_bounds.window_name,
        sum(session_changes.sign) as session_count,
        sum(session_changes.sign) filter (where session_changes.is_view) as view_sessions,
        sum(session_changes.sign) filter (
            where session_changes.is_view and session_changes.is_kids_profile
        ) as kids_view_sessions,
        sum(session_changes.sign) filter (
            where session_changes.is_view and not session_changes.is_kids_profile
        ) as non_kids_view_sessions,
        sum(session_changes.sign * session_changes.played_seconds) as played_seconds

    from session_changes
    inner join window_bounds
        on
            session_changes.title_id = window_bounds.title_id
            and (
                window_bounds.window_start_date is null
                or session_changes.local_date >= window_bounds.window_start_date
            )
            and (
                window_bounds.window_end_date is null
                or session_changes.local_date <= window_bounds.window_end_date
            )
    -- Title metrics leave out trailers, hooks and recaps.
    where session_changes.supplemental_type is null

    group by session_changes.household_id, session_changes.title_id, window_bounds.window_name

),

completion_windows as (

    select
        cycle_changes.household_id,
        cycle_changes.title_id,
        window_bounds.window_name,
        sum(cycle_changes.sign) as completions,
        sum(cycle_changes.sign) filter (where {{ is_kids('profiles.is_kids_profile') }}) as kids_completions

    from cycle_changes
    inner join window_bounds
        on
            cycle_changes.title_id = window_bounds.title_id
            and (
                window_bounds.window_start_date is null
                or cycle_changes.completed_local_date >= window_bounds.window_start_date
            )
            and (
                window_bounds.window_end_date is null
                or cycle_changes.completed_local_date <= window_bounds.window_end_date
            )
    left join profiles
        on cycle_changes.profile_id = profiles.profile_id
    where cycle_changes.is_completed

    group by cycle_changes.household_id, cycle_changes.title_id, window_bounds.window_name

),

-- An updated pair's published figures, to which its changes add.
windows_before_run as (

    select published_windows.*
    from published_windows
    semi join updated_household_titles
        on
            published_windows.household_id = updated_household_titles.household_id
            and published_windows.title_id = updated_household_titles.title_id

),

window_figures as (

    select
        household_id,
        title_id,
        window_name,
        session_count,
        view_sessions,
        kids_view_sessions,
        non_kids_view_sessions,
        played_seconds,
        completions,
        kids_completions

    from windows_before_run

    union all by name

    select * from session_windows

    union all by name

    select * from completion_windows

),

window_totals as (

    select
        household_id,
        title_id,
        window_name,
        cast(coalesce(sum(session_count), 0) as bigint) as session_count,
        cast(coalesce(sum(view_sessions), 0) as bigint) as view_sessions,
        cast(coalesce(sum(kids_view_sessions), 0) as bigint) as kids_view_sessions,
        cast(coalesce(sum(non_kids_view_sessions), 0) as bigint) as non_kids_view_sessions,
        coalesce(sum(played_seconds), 0) as played_seconds,
        cast(coalesce(sum(completions), 0) as bigint) as completions,
        cast(coalesce(sum(kids_completions), 0) as bigint) as kids_completions

    from window_figures

    group by household_id, title_id, window_name

),

-- A window the household has no session and no completion in has no row.
household_title_windows as (

    select
        household_id,
        title_id,
        window_name,
        view_sessions > 0 as has_view,
        completions,
        -- No session left: exactly 0, not what remains of subtracting the sums.
        case when session_count > 0 then played_seconds else 0 end as played_seconds,
        kids_view_sessions > 0 as has_kids_view,
        kids_completions,
        non_kids_view_sessions > 0 as has_non_kids_view,
        completions - kids_completions as non_kids_completions,
        session_count,
        view_sessions,
        kids_view_sessions,
        non_kids_view_sessions

    from window_totals
    where session_count > 0 or completions > 0

)

select * from household_title_windows
