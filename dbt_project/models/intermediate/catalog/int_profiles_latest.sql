{{ config(materialized='ephemeral') }}

-- One row per profile: the latest processed night's snapshot that lists it, as this run leaves
-- it, from the published rows and this run's nights (macros/latest_snapshot.sql): a night reads
-- its own snapshot, not every night's.
with

-- Not materialized: it is every night's snapshots; each read below takes only what it needs.
profiles as not materialized (

    select * from {{ ref('stg_exports__profiles') }}

),

published_latest as (

    select * from {{ source('published_intermediate', 'int_profiles_current') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot_after_run('profiles', 'published_latest', 'nights', 'profile_id') }}

)

select * from latest_snapshots
