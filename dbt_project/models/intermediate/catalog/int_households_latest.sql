{{ config(materialized='ephemeral') }}

with

households as (

    select * from {{ ref('stg_exports__households') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot('households', 'nights', 'household_id') }}

)

select * from latest_snapshots
