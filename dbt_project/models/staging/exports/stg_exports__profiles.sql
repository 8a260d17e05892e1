with

source as (

    select * from {{ source('exports', 'profiles') }}

),

renamed as (

    select
        profile_id,
        household_id,
        profile_name,
        is_kids_profile,
        export_date

    from source

)

select * from renamed
