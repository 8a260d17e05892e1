with

profiles as (

    select * from {{ ref('int_profiles_current') }}

),

final as (

    select
        profile_id,
        household_id,
        profile_name,
        is_kids_profile,
        export_date as last_seen_export_date

    from profiles

)

select * from final
