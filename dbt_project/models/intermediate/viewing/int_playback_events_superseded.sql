{{ config(meta={'rewatch_publish': 'apply'}) }}

-- The deliveries that first delivery wins leaves out, for the events this run's deliveries add
-- or replace: a night reads its streams' deliveries minus these, instead of ranking every
-- delivery of its streams' times again (about 0.5% of events are delivered twice).
with

event_deliveries as (

    select * from {{ ref('int_run_event_deliveries') }}
    where not is_replaced

),

-- First delivery wins among the deliveries of one event (its event_id and event_at): the
-- earliest export night, then file and line. Ordering by what was delivered (not when it was
-- loaded) makes the result independent of the load order.
superseded_deliveries as (

    select
        event_id,
        event_at,
        export_date,
        source_file,
        source_line

    from event_deliveries
    qualify row_number() over (
        partition by event_id, event_at
        order by export_date, source_file, source_line
    ) > 1

)

select * from superseded_deliveries
