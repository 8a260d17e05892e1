-- The (title, local date) rows of fct_title_daily that this run's changes touched in the
-- published warehouse: deleted and recomputed together with the ones they touch after it.
with

title_dates as (

    {{ changed_title_dates(
        ref('int_run_changes'),
        ref('int_run_changed_pairs'),
        source('published', 'fct_viewing_sessions'),
        source('published', 'fct_watch_cycles')
    ) }}

)

select * from title_dates
