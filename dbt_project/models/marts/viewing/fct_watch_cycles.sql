{{ config(meta={'rewatch_publish': 'apply'}) }}

-- This run's watch cycles: published, they replace the changed pairs' cycles from their
-- recompute points (int_run_replaced__fct_watch_cycles).
-- Not partitioned by time, unlike the sessions: a night replaces each changed pair's cycle in
-- progress, which may have started any day of the history, so files by day would give the
-- night a data file and a delete file in nearly every day of it (docs/architecture.md).
with

cycles_this_run as (

    select * from {{ ref('int_cycles_this_run') }}

)

select * from cycles_this_run
