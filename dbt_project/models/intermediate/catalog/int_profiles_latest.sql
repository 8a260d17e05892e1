{{ config(materialized='ephemeral') }}

-- One row per profile: the latest processed night's snapshot that lists it, as this run leaves
-- it, from the published rows and this run's nights (macros/latest_snapshot.sql): a night reads
-- its own snapshot, not every night's.
with

-- Every night's snapshots, read only for a key this run's delivery no longer lists.
profiles as (

    select * from {{ ref('stg_exports__profiles') }}

),

run_profiles as (

    select * from {{ ref('stg_exports__profiles_this_run') }}

),

published_latest as (

    select * from {{ source('published_intermediate', 'int_profiles_current') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot_after_run('profiles', 'run_profiles', 'published_latest', 'nights', 'profile_id') }}

)

select * from latest_snapshots
