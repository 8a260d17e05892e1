{{ config(materialized='view') }}

-- This run only: every delivery, published or this run's, of each event this run's deliveries
-- add or replace. Which delivery of an event wins, and which streams may change, is decided here.
-- A view: the night's own deliveries are read from its raw partition by the models that need
-- them, instead of copied into one more table of the whole night.

with

night_deliveries as (

    select
        {{ delivery_columns() | join(', ') }},
        false as is_replaced

    from {{ ref('stg_exports__playback_events') }}

),

published_event_deliveries as (

    select * from {{ ref('int_run_published_event_deliveries') }}

),

event_deliveries as (

    select * from night_deliveries
    union all
    select * from published_event_deliveries

)

select * from event_deliveries
