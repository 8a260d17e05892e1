-- The (title, local date) rows of fct_title_daily this run recomputes: those the changed streams'
-- sessions and the changed pairs' cycles touched in the published warehouse, and those they touch
-- after this run (this run's sessions and cycles are exactly theirs from the recompute points).
-- has_session_change tells the dates whose sessions change from those only completions reach.
{%- set sessions_from = run_bound(ref('int_run_changes'), 'min(recompute_from)') %}
with

title_dates_before as (

    {{ changed_title_dates(
        ref('int_run_changes'),
        ref('int_run_changed_pairs'),
        source('published', 'fct_viewing_sessions'),
        source('published', 'fct_watch_cycles'),
        sessions_from
    ) }}

),

title_dates_after as (

    {{ changed_title_dates(
        ref('int_run_changes'),
        ref('int_run_changed_pairs'),
        ref('int_sessions_this_run'),
        ref('int_cycles_this_run'),
        sessions_from
    ) }}

),

title_dates_both as (

    select * from title_dates_before
    union all
    select * from title_dates_after

),

title_dates as (

    select
        title_id,
        local_date,
        bool_or(has_session_change) as has_session_change

    from title_dates_both

    group by title_id, local_date

)

select * from title_dates
