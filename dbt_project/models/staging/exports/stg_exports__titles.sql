with

source as (

    select * from {{ source('exports', 'titles') }}

),

renamed as (

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
        export_date

    from source

)

select * from renamed
