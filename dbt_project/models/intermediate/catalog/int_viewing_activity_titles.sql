-- One row per title name the viewing-activity feed delivered: the catalog title it matches
-- by name, or an estimated title (runtime = the largest bookmark seen for it).
with

activity as (

    select * from {{ ref('int_viewing_activity') }}

),

catalog as (

    select * from {{ ref('int_catalog_titles_current') }}

),

activity_titles as (

    select
        title_key,
        min(title) as title,
        any_value(series_title) as series_title,
        any_value(season_number) as season_number,
        any_value(episode_title) as episode_title,
        any_value(episode_number) as episode_number,
        bool_or(supplemental_type is not null) as is_supplemental,
        min(supplemental_type) as supplemental_type,
        max(bookmark_seconds) as largest_bookmark_seconds,
        min(export_date) as first_export_date

    from activity

    group by title_key

),

-- A film by its name; an episode by series, season and episode number (or episode name).
-- Trailers, hooks and recaps are clips, never the title they advertise.
catalog_matches as (

    select
        activity_titles.title_key,
        min(catalog.title_id) as title_id

    from activity_titles
    inner join catalog
        on
            lower(trim(catalog.title_name)) = activity_titles.title_key
            or (
                activity_titles.series_title is not null
                and lower(trim(catalog.series_title)) = lower(trim(activity_titles.series_title))
                and catalog.season_number = activity_titles.season_number
                and (
                    catalog.episode_number = activity_titles.episode_number
                    or lower(trim(catalog.title_name)) = lower(trim(activity_titles.episode_title))
                )
            )
    where not activity_titles.is_supplemental

    group by activity_titles.title_key

),

titles_matched as (

    select
        activity_titles.*,
        coalesce(catalog_matches.title_id, 'activity-' || substr(md5(activity_titles.title_key), 1, 16)) as title_id,
        case when catalog_matches.title_id is not null then 'catalog' else 'estimated' end as runtime_source

    from activity_titles
    left join catalog_matches
        on activity_titles.title_key = catalog_matches.title_key

)

select * from titles_matched
