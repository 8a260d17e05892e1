{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=[
            "{{ assert_this_run() }}",
            "{{ delete_changed_since(['profile_id', 'device_id', 'title_id'], 'started_at', ref('int_run_changes'), 'recompute_from') }}",
        ],
    )
}}

-- The changed streams' rows from their recompute points are deleted (pre-hook) and replaced by
-- this run's sessions.
with

sessions_this_run as (

    select * from {{ ref('int_sessions_this_run') }}

)

select * from sessions_this_run
