{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=[
            "{{ assert_this_run() }}",
            "{{ delete_changed_since(['profile_id', 'title_id'], 'started_at', ref('int_run_changed_pairs'), 'cycles_from') }}",
        ],
    )
}}

-- The changed pairs' rows from their recompute points are deleted (pre-hook) and replaced by
-- this run's cycles.
with

cycles_this_run as (

    select * from {{ ref('int_cycles_this_run') }}

)

select * from cycles_this_run
