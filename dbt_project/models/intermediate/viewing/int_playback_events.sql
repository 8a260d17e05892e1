{{ config(meta={'rewatch_publish': 'apply', 'rewatch_partition_by': 'event_at'}) }}

-- Every valid delivery of this run's nights: published, they replace what those nights held.
with

night_deliveries as (

    select * from {{ ref('stg_exports__playback_events') }}

)

select * from night_deliveries
