with

events as (

    select * from {{ ref('stg_exports__playback_events') }}

),

-- First delivery wins: the earliest export night, then file and line. Ordering by what was
-- delivered (not by when it was loaded) makes the result independent of the load order.
ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by export_date, source_file, source_line
        ) as delivery_number

    from events

),

first_deliveries as (

    select * exclude (delivery_number)
    from ranked
    where delivery_number = 1

)

select * from first_deliveries
