{{ config(materialized='ephemeral') }}

-- One row per household: the latest processed night's snapshot that lists it, as this run leaves
-- it, from the published rows and this run's nights (macros/latest_snapshot.sql): a night reads
-- its own snapshot, not every night's.
with

-- Every night's snapshots, read only for a key this run's delivery no longer lists.
households as (

    select * from {{ ref('stg_exports__households') }}

),

run_households as (

    select * from {{ ref('stg_exports__households_this_run') }}

),

published_latest as (

    select * from {{ source('published_intermediate', 'int_households_current') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot_after_run('households', 'run_households', 'published_latest', 'nights', 'household_id') }}

)

select * from latest_snapshots
