{#- The staging shape of the raw households and profiles snapshots, one owner for both reads:
    every night's (stg_exports__households, stg_exports__profiles) and this run's nights' only
    (the *_this_run models). `relation` is the model's source(). -#}
{% macro stg_households(relation) -%}
with

source as (

    select * from {{ relation }}

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
{%- endmacro %}

{% macro stg_profiles(relation) -%}
with

source as (

    select * from {{ relation }}

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
{%- endmacro %}
