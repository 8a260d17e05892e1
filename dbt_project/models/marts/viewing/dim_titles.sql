with

titles as (

    select * from {{ ref('stg_exports__titles') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

current_titles as (

    select * from {{ ref('int_titles_current') }}

),

snapshots as (

    select
        titles.*,
        md5(
            cast(
                [
                    titles.title_name, titles.title_type, titles.series_title,
                    cast(titles.season_number as varchar), cast(titles.episode_number as varchar),
                    cast(titles.runtime_seconds as varchar), cast(titles.credits_start_seconds as varchar),
                    titles.maturity_rating, cast(titles.is_kids_title as varchar), cast(titles.release_date as varchar)
                ] as varchar
            )
        ) as attributes_hash

    from titles
    inner join nights
        on titles.export_date = nights.export_date

),

-- A new version starts on the first night whose snapshot differs from the night before.
changes_flagged as (

    select
        *,
        coalesce(
            attributes_hash != lag(attributes_hash) over (partition by title_id order by export_date),
            true
        ) as is_new_version

    from snapshots

),

versions as (

    select
        *,
        lead(export_date) over (partition by title_id order by export_date) as next_version_from

    from changes_flagged
    where is_new_version

),

final as (

    select
        md5(title_id || '|' || cast(export_date as varchar)) as title_version_id,
        title_id,
        title_name,
        title_type,
        series_title,
        season_number,
        episode_number,
        runtime_seconds,
        credits_start_seconds,
        coalesce(credits_start_seconds, runtime_seconds) as content_end_seconds,
        maturity_rating,
        is_kids_title,
        release_date,
        'catalog' as runtime_source,
        export_date as valid_from,
        next_version_from as valid_to,
        next_version_from is null as is_current

    from versions

),

-- Titles only the viewing-activity feed knows: one current version, runtime estimated.
estimated as (

    select
        md5(title_id || '|estimated') as title_version_id,
        title_id,
        title_name,
        title_type,
        series_title,
        season_number,
        episode_number,
        runtime_seconds,
        credits_start_seconds,
        content_end_seconds,
        maturity_rating,
        is_kids_title,
        release_date,
        runtime_source,
        export_date as valid_from,
        cast(null as date) as valid_to,
        true as is_current

    from current_titles
    where runtime_source = 'estimated'

),

titles_final as (

    select * from final
    union all
    select * from estimated

)

select * from titles_final
