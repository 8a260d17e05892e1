{{ config(meta={'rewatch_publish': 'apply'}) }}

-- This run's export nights: the publish step adds them to the published ones (after_run reads both).
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
