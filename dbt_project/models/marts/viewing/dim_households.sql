with

households as (

    select * from {{ ref('stg_exports__households') }}

),

-- Each night carries a full snapshot; the latest night a household appears in describes it.
latest_snapshots as (

    select
        household_id,
        country_code,
        timezone_name,
        export_date as last_seen_export_date

    from households

    qualify row_number() over (partition by household_id order by export_date desc) = 1

)

select * from latest_snapshots
