{{ config(materialized='ephemeral') }}

with

profiles as (

    select * from {{ ref('stg_exports__profiles') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot('profiles', 'nights', 'profile_id') }}

)

select * from latest_snapshots
