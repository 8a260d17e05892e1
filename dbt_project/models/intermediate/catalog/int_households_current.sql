{{ config(meta={'rewatch_publish': 'replace'}) }}

-- The dimension as this run derives its sessions; the next run compares it with the published copy.
with

latest as (

    select * from {{ ref('int_households_latest') }}

)

select * from latest
