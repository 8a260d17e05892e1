-- The report's rows of the titles this run touched.
with

performance as (

    select * from {{ ref('rpt_title_performance') }}

),

changes as (

    select * from {{ ref('int_run_changes') }}

),

performance_of_changed_titles as (

    select performance.*

    from performance

    semi join changes
        on performance.title_id = changes.title_id

)

select * from performance_of_changed_titles
