{{ config(meta={'rewatch_publish': 'apply', 'rewatch_partition_by': 'started_at'}) }}

-- This run's sessions: published, they replace the changed streams' sessions from their
-- recompute points (int_run_replaced__fct_viewing_sessions).
with

sessions_this_run as (

    select * from {{ ref('int_sessions_this_run') }}

)

select * from sessions_this_run
