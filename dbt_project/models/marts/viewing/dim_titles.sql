with

titles as (

    select * from {{ ref('stg_exports__titles') }}

),

latest_snapshots as (

    select
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
        export_date as last_seen_export_date

    from titles

    qualify row_number() over (partition by title_id order by export_date desc) = 1

)

select * from latest_snapshots
