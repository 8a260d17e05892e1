-- The cycles this run wrote: each changed (profile, title)'s cycles from the one in progress.
with

cycles as (

    select * from {{ ref('fct_watch_cycles') }}

),

changed_pairs as (

    select * from {{ ref('int_run_changed_pairs') }}

),

cycles_written as (

    select cycles.*

    from cycles

    inner join changed_pairs
        on
            cycles.profile_id = changed_pairs.profile_id
            and cycles.title_id = changed_pairs.title_id
            and cycles.started_at >= changed_pairs.cycles_from

)

select * from cycles_written
