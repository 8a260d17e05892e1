with

profiles as (

    select * from {{ ref('stg_exports__profiles') }}

),

latest_snapshots as (

    select
        profile_id,
        household_id,
        profile_name,
        is_kids_profile,
        export_date as last_seen_export_date

    from profiles

    qualify row_number() over (partition by profile_id order by export_date desc) = 1

)

select * from latest_snapshots
