{{ config(materialized='ephemeral') }}

-- One row per title: the catalog's latest description, plus the titles only the
-- viewing-activity feed knows, with a runtime estimated from the largest bookmark seen.
with

catalog as (

    select * from {{ ref('int_catalog_titles_current') }}

),

activity_titles as (

    select * from {{ ref('int_viewing_activity_titles') }}

),

catalog_titles as (

    select
        title_id,
        title_name,
        title_type,
        series_title,
        season_number,
        episode_number,
        runtime_seconds,
        credits_start_seconds,
        maturity_rating,
        is_kids_title,
        release_date,
        export_date,
        content_end_seconds,
        'catalog' as runtime_source

    from catalog

),

-- A title never played past 0 s (a clip opened and never advanced) has no runtime to
-- estimate: it is kept, with a null runtime, so its sessions still have their title; it forms
-- no cycles, and the figures that need a runtime are null.
estimated_titles as (

    select
        title_id,
        coalesce(episode_title, title) as title_name,
        case
            when is_supplemental then 'supplemental'
            when series_title is not null then 'episode'
            else 'movie'
        end as title_type,
        series_title,
        season_number,
        episode_number,
        nullif(largest_bookmark_seconds, 0) as runtime_seconds,
        cast(null as integer) as credits_start_seconds,
        cast(null as varchar) as maturity_rating,
        cast(null as boolean) as is_kids_title,
        cast(null as date) as release_date,
        first_export_date as export_date,
        nullif(largest_bookmark_seconds, 0) as content_end_seconds,
        'estimated' as runtime_source

    from activity_titles
    where runtime_source = 'estimated'

),

titles as (

    select * from catalog_titles
    union all
    select * from estimated_titles

)

select * from titles
