with

profiles as (

    select * from {{ ref('stg_exports__profiles') }}

),

nights as (

    select * from {{ ref('int_nights_processed') }}

),

latest_snapshots as (

    select profiles.*
    from profiles
    inner join nights
        on profiles.export_date = nights.export_date
    qualify row_number() over (partition by profiles.profile_id order by profiles.export_date desc) = 1

)

select * from latest_snapshots
