{{ config(meta={'rewatch_publish': 'apply', 'rewatch_partition_by': 'started_at'}) }}

-- This run's watch cycles: published, they replace the changed pairs' cycles from their
-- recompute points (int_run_replaced__fct_watch_cycles).
with

cycles_this_run as (

    select * from {{ ref('int_cycles_this_run') }}

)

select * from cycles_this_run
