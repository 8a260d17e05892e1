-- Streams whose events this run's deliveries add, replace or may re-rank, from the earliest.
with

event_deliveries as (

    select * from {{ ref('int_run_event_deliveries') }}

),

stream_changes as (

    select
        household_id,
        profile_id,
        device_id,
        title_id,
        min(event_at) as changed_from

    from event_deliveries
    group by household_id, profile_id, device_id, title_id

)

select * from stream_changes
