{{ config(materialized='ephemeral') }}

with

households as (

    select * from {{ ref('stg_exports__households') }}

),

nights as (

    select * from {{ ref('int_nights_processed') }}

),

latest_snapshots as (

    {{ latest_snapshot('households', 'nights', 'household_id') }}

)

select * from latest_snapshots
