{#- The (title, local date) rows of fct_title_daily that this run's changes touched before
    the run: deleted and recomputed together with the ones they touch after it. -#}
-- depends_on: {{ ref('int_run_changes') }}
-- depends_on: {{ ref('int_run_changed_pairs') }}
{% set previous_sessions = previous_relation('main', 'fct_viewing_sessions') -%}
{%- set previous_cycles = previous_relation('main', 'fct_watch_cycles') -%}

with

{% if previous_sessions and previous_cycles %}

title_dates as (

    {{ changed_title_dates(ref('int_run_changes'), ref('int_run_changed_pairs'), previous_sessions, previous_cycles) }}

)

{% else %}

title_dates as (

    select
        cast(null as varchar) as title_id,
        cast(null as date) as local_date

    where false

)

{% endif %}

select * from title_dates
