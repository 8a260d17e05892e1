{{ config(materialized='incremental', unique_key='export_date', incremental_strategy='delete+insert') }}

-- The export nights whose data the warehouse holds (every run adds its own).
with

run_nights as (

    select unnest([{{ run_nights() }}]) as export_date

),

nights as (

    select distinct export_date
    from run_nights
    where export_date is not null

)

select * from nights
