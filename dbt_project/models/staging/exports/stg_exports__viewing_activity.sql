-- Every processed night's sessions of the viewing-activity feed (one row per session).
with

source as (

    select * from {{ source('exports', 'viewing_activity') }}

),

renamed as (

    select
        household_id,
        profile_id,
        profile_name,
        -- The feed names a device model, not a device: one device per model and profile.
        'activity:' || coalesce(nullif(trim(device_model), ''), 'unknown') as device_id,
        device_model,
        device_type,
        title,
        lower(trim(title)) as title_key,
        series_title,
        season_label,
        season_number,
        episode_title,
        episode_number,
        supplemental_type,
        is_autoplay,
        started_at,
        started_at + to_seconds(duration_seconds) as ended_at,
        duration_seconds as played_seconds,
        -- The session covered [Bookmark - Duration, Bookmark] of the title.
        greatest(bookmark_seconds - duration_seconds, 0) as covered_from_seconds,
        bookmark_seconds,
        latest_bookmark_seconds,
        country,
        -- `GB (United Kingdom)` -> GB; null when the row names no country.
        nullif(regexp_extract(country, '^([A-Z]{2})\b', 1), '') as country_code,
        export_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
