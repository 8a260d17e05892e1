with

households as (

    select * from {{ ref('stg_exports__households') }}

),

nights as (

    select * from {{ ref('int_nights_processed') }}

),

latest_snapshots as (

    select households.*
    from households
    inner join nights
        on households.export_date = nights.export_date
    qualify row_number() over (partition by households.household_id order by households.export_date desc) = 1

)

select * from latest_snapshots
