with

households as (

    select * from {{ ref('int_households_current') }}

),

final as (

    select
        household_id,
        country_code,
        timezone_name,
        export_date as last_seen_export_date

    from households

)

select * from final
