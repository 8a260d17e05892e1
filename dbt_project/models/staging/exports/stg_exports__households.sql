with

source as (

    select * from {{ source('exports', 'households') }}

),

renamed as (

    select
        household_id,
        country_code,
        timezone as timezone_name,
        export_date

    from source

)

select * from renamed
