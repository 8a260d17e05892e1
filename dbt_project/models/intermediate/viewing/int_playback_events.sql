{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where export_date in ({{ run_nights() }}){% endif %}",
    )
}}

-- Every valid delivery of every processed night; this run's nights replace what they held.
with

night_deliveries as (

    select * from {{ ref('stg_exports__playback_events') }}

)

select * from night_deliveries
