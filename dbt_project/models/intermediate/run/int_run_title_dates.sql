-- The (title, local date) rows of fct_title_daily this run recomputes: those the changed streams'
-- sessions and the changed pairs' cycles touched in the published warehouse, and those they touch
-- after this run (this run's sessions and cycles are exactly theirs from the recompute points).
with

title_dates_before as (

    {{ changed_title_dates(
        ref('int_run_changes'),
        ref('int_run_changed_pairs'),
        source('published', 'fct_viewing_sessions'),
        source('published', 'fct_watch_cycles')
    ) }}

),

title_dates_after as (

    {{ changed_title_dates(
        ref('int_run_changes'),
        ref('int_run_changed_pairs'),
        ref('int_sessions_this_run'),
        ref('int_cycles_this_run')
    ) }}

),

title_dates as (

    select * from title_dates_before
    union
    select * from title_dates_after

)

select * from title_dates
